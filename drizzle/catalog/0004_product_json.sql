ALTER TABLE `products` ADD `json_head` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `products` ADD `json_middle` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `products` ADD `json_tail` text DEFAULT '' NOT NULL;--> statement-breakpoint
-- The public JSON of a product (`Product`, keys in toProduct's order), made once per admin
-- change rather than on every read: what a read still adds is image_url (its base is
-- configuration), stock and updated_at (every sale changes them), between the pieces:
-- head || image_url || middle || stock || tail || updated_at || '}' (product-json.ts).
CREATE VIEW `product_json_parts` AS
SELECT
  id,
  substr(head, 1, length(head) - 1) || ',"image_url":' AS head,
  ',' || substr(middle, 2, length(middle) - 2) || ',"stock":' AS middle,
  ',' || substr(tail, 2, length(tail) - 2) || ',"updated_at":' AS tail
FROM (
  SELECT
    p.id,
    json_object('id', p.id, 'type', p.type, 'sku', p.sku, 'title', p.title, 'description', p.description) AS head,
    json_object('price', p.price, 'currency', r.currency, 'region_id', p.region_id) AS middle,
    json_object(
      'category_ids', (SELECT json_group_array(category_id) FROM (SELECT category_id FROM product_categories WHERE product_id = p.id ORDER BY category_id)),
      'attributes', json(p.attributes), 'created_at', p.created_at
    ) AS tail
  FROM products p
  INNER JOIN regions r ON r.id = p.region_id
);
--> statement-breakpoint
CREATE TRIGGER `products_json_insert` AFTER INSERT ON `products` BEGIN
  UPDATE products SET (json_head, json_middle, json_tail) = (SELECT head, middle, tail FROM product_json_parts WHERE id = new.id) WHERE id = new.id;
END;
--> statement-breakpoint
-- Not on stock, updated_at, image or deletion: those are read live, and a sale must not rewrite the pieces.
CREATE TRIGGER `products_json_update` AFTER UPDATE OF type, sku, title, description, price, region_id, attributes, created_at ON `products` BEGIN
  UPDATE products SET (json_head, json_middle, json_tail) = (SELECT head, middle, tail FROM product_json_parts WHERE id = new.id) WHERE id = new.id;
END;
--> statement-breakpoint
CREATE TRIGGER `product_categories_json_insert` AFTER INSERT ON `product_categories` BEGIN
  UPDATE products SET json_tail = (SELECT tail FROM product_json_parts WHERE id = new.product_id) WHERE id = new.product_id;
END;
--> statement-breakpoint
CREATE TRIGGER `product_categories_json_delete` AFTER DELETE ON `product_categories` BEGIN
  UPDATE products SET json_tail = (SELECT tail FROM product_json_parts WHERE id = old.product_id) WHERE id = old.product_id;
END;
--> statement-breakpoint
UPDATE products SET (json_head, json_middle, json_tail) = (SELECT head, middle, tail FROM product_json_parts v WHERE v.id = products.id);
