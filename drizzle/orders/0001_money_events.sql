ALTER TABLE `order_timeline` ADD `event` text;--> statement-breakpoint
ALTER TABLE `order_timeline` ADD `payment_id` text;