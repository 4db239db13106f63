-- The table came with drizzle/orders/0000_init.sql until idempotency keys became a module of
-- their own. A file made before that already has it, exactly as below, and orders' journal
-- says that migration ran (drizzle compares only timestamps), so this baseline changes nothing
-- there; a fresh file gets the table here, once (orders' 0000 no longer creates it).
CREATE TABLE IF NOT EXISTS `idempotency_keys` (
	`user_id` text NOT NULL,
	`key` text NOT NULL,
	`fingerprint` text NOT NULL,
	`response` text,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `idempotency_keys_expiry_idx` ON `idempotency_keys` (`expires_at`);
