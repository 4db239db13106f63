CREATE TABLE `flash_sale_campaigns` (
	`id` text PRIMARY KEY NOT NULL,
	`product_id` text NOT NULL,
	`price` integer NOT NULL,
	`units_per_drop` integer NOT NULL,
	`drop_count` integer NOT NULL,
	`interval_seconds` integer NOT NULL,
	`starts_at` text NOT NULL,
	`per_customer_limit` integer NOT NULL,
	`payment_window_seconds` integer NOT NULL,
	`waitlist_size` integer NOT NULL,
	`audit_salt` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`product_id`) REFERENCES `products`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `flash_sale_campaigns_product_idx` ON `flash_sale_campaigns` (`product_id`);--> statement-breakpoint
CREATE TABLE `flash_sale_drops` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`position` integer NOT NULL,
	`opens_at` integer NOT NULL,
	`closes_at` integer NOT NULL,
	`units` integer NOT NULL,
	`status` text NOT NULL,
	`allocator_epoch` integer DEFAULT 0 NOT NULL,
	`units_returned` integer DEFAULT 0 NOT NULL,
	`opened_at` text,
	`closed_at` text,
	`settled_at` text,
	FOREIGN KEY (`campaign_id`) REFERENCES `flash_sale_campaigns`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `flash_sale_drops_campaign_position_unique` ON `flash_sale_drops` (`campaign_id`,`position`);--> statement-breakpoint
CREATE INDEX `flash_sale_drops_status_idx` ON `flash_sale_drops` (`status`,`opens_at`);--> statement-breakpoint
CREATE TABLE `flash_sale_entries` (
	`id` text PRIMARY KEY NOT NULL,
	`drop_id` text NOT NULL,
	`user_id` text NOT NULL,
	`seq` integer NOT NULL,
	`outcome` text NOT NULL,
	`order_id` text,
	`pay_by` text,
	`queued_at` text NOT NULL,
	`decided_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`drop_id`) REFERENCES `flash_sale_drops`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "flash_sale_entries_seq_positive" CHECK("flash_sale_entries"."seq" > 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `flash_sale_entries_drop_user_unique` ON `flash_sale_entries` (`drop_id`,`user_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `flash_sale_entries_drop_seq_unique` ON `flash_sale_entries` (`drop_id`,`seq`);--> statement-breakpoint
CREATE INDEX `flash_sale_entries_drop_outcome_idx` ON `flash_sale_entries` (`drop_id`,`outcome`,`seq`);--> statement-breakpoint
CREATE INDEX `flash_sale_entries_order_idx` ON `flash_sale_entries` (`order_id`);