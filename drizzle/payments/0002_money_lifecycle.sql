ALTER TABLE `fake_gateway_charges` ADD `expires_at` text;--> statement-breakpoint
ALTER TABLE `payments` ADD `void_requested_at` text;