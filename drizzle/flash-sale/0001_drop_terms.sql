ALTER TABLE `flash_sale_campaigns` ADD `cancelled_at` text;--> statement-breakpoint
ALTER TABLE `flash_sale_drops` ADD `price` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `flash_sale_drops` ADD `waitlist_size` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `flash_sale_drops` ADD `payment_window_seconds` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `flash_sale_drops` ADD `audit_salt` text DEFAULT '' NOT NULL;--> statement-breakpoint
-- Existing drops take their campaign's terms. Closed drops keep the campaign's salt (their audits may be published); the others get one of their own.
UPDATE `flash_sale_drops` SET
  `price` = (SELECT `price` FROM `flash_sale_campaigns` c WHERE c.`id` = `flash_sale_drops`.`campaign_id`),
  `waitlist_size` = (SELECT `waitlist_size` FROM `flash_sale_campaigns` c WHERE c.`id` = `flash_sale_drops`.`campaign_id`),
  `payment_window_seconds` = (SELECT `payment_window_seconds` FROM `flash_sale_campaigns` c WHERE c.`id` = `flash_sale_drops`.`campaign_id`),
  `audit_salt` = CASE WHEN `status` = 'closed' THEN (SELECT `audit_salt` FROM `flash_sale_campaigns` c WHERE c.`id` = `flash_sale_drops`.`campaign_id`) ELSE lower(hex(randomblob(16))) END;
