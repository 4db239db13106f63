-- What `q` searches: title, sku and the words the product's type picked from its attributes
-- (a book's author and ISBNs). Diacritics are folded, so "marquez" finds "Márquez".
-- Keyed by product_id rather than rowid: products has a text primary key, and VACUUM may
-- renumber implicit rowids.
CREATE VIRTUAL TABLE `products_fts` USING fts5(product_id UNINDEXED, title, sku, terms, tokenize = 'unicode61 remove_diacritics 2');
--> statement-breakpoint
CREATE TRIGGER `products_fts_insert` AFTER INSERT ON `products` BEGIN
  INSERT INTO products_fts (product_id, title, sku, terms) VALUES (new.id, new.title, new.sku, new.search_terms);
END;
--> statement-breakpoint
-- Only on the indexed columns: stock changes on every sale and must not touch the index.
CREATE TRIGGER `products_fts_update` AFTER UPDATE OF title, sku, search_terms ON `products` BEGIN
  DELETE FROM products_fts WHERE product_id = old.id;
  INSERT INTO products_fts (product_id, title, sku, terms) VALUES (new.id, new.title, new.sku, new.search_terms);
END;
--> statement-breakpoint
CREATE TRIGGER `products_fts_delete` AFTER DELETE ON `products` BEGIN
  DELETE FROM products_fts WHERE product_id = old.id;
END;
