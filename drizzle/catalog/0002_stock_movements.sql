-- The stock ledger moves from inventory to catalog, which owns products.stock and the one
-- guarded update that writes a ledger row with it. A baseline: a database made before the
-- move has the table from inventory's 0000_init (where it is no longer created), so IF NOT
-- EXISTS leaves such a file as it is, and a new database gets the same table from here.
CREATE TABLE IF NOT EXISTS `stock_movements` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`product_id` text NOT NULL,
	`delta` integer NOT NULL,
	`reason` text NOT NULL,
	`ref` text,
	`supplier` text,
	`stock_after` integer NOT NULL,
	`actor_id` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`product_id`) REFERENCES `products`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `stock_movements_product_idx` ON `stock_movements` (`product_id`,`id`);
