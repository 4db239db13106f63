CREATE TABLE `fake_gateway_charges` (
	`ref` text PRIMARY KEY NOT NULL,
	`payment_id` text NOT NULL,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`status` text NOT NULL,
	`undelivered_event` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `fake_gateway_charges_undelivered_idx` ON `fake_gateway_charges` (`ref`) WHERE "fake_gateway_charges"."undelivered_event" is not null;--> statement-breakpoint
CREATE TABLE `payments` (
	`id` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`method` text NOT NULL,
	`status` text NOT NULL,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`gateway_ref` text,
	`card_brand` text,
	`card_last4` text,
	`pix_code` text,
	`pix_expires_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`order_id`) REFERENCES `orders`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `payments_order_idx` ON `payments` (`order_id`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `payments_gateway_ref_unique` ON `payments` (`gateway_ref`);--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`payment_id` text,
	`outcome` text NOT NULL,
	`received_at` text NOT NULL
);
