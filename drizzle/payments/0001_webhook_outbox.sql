CREATE TABLE `fake_gateway_events` (
	`id` text PRIMARY KEY NOT NULL,
	`charge_ref` text NOT NULL,
	`body` text NOT NULL,
	`created_at` text NOT NULL,
	`delivered_at` text
);
--> statement-breakpoint
CREATE INDEX `fake_gateway_events_undelivered_idx` ON `fake_gateway_events` (`created_at`) WHERE "fake_gateway_events"."delivered_at" is null;--> statement-breakpoint
-- Webhooks an earlier version still owed move to the outbox; the fake schedules their delivery at start.
INSERT INTO `fake_gateway_events` (`id`, `charge_ref`, `body`, `created_at`) SELECT json_extract(`undelivered_event`, '$.id'), `ref`, `undelivered_event`, `updated_at` FROM `fake_gateway_charges` WHERE `undelivered_event` IS NOT NULL;--> statement-breakpoint
DROP INDEX `fake_gateway_charges_undelivered_idx`;--> statement-breakpoint
CREATE INDEX `fake_gateway_charges_payment_idx` ON `fake_gateway_charges` (`payment_id`);--> statement-breakpoint
CREATE INDEX `fake_gateway_charges_updated_idx` ON `fake_gateway_charges` (`updated_at`);--> statement-breakpoint
ALTER TABLE `fake_gateway_charges` DROP COLUMN `undelivered_event`;--> statement-breakpoint
ALTER TABLE `payments` ADD `idempotency_key` text;--> statement-breakpoint
ALTER TABLE `payments` ADD `refund_requested_at` text;--> statement-breakpoint
ALTER TABLE `payments` ADD `refund_reason` text;