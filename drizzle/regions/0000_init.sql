CREATE TABLE `regions` (
	`id` text PRIMARY KEY NOT NULL,
	`title` text NOT NULL,
	`country` text NOT NULL,
	`currency` text NOT NULL,
	`currency_exponent` integer NOT NULL,
	`tax_bps` integer NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`deleted_at` text
);
