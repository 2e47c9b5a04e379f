package marketplace

import (
	"context"
	"database/sql"
	"fmt"
)

// Tables lists the marketplace's tables in creation order.
var Tables = []string{"sellers", "buyers", "items", "cart_items", "purchases", "purchase_lines", "feedback"}

// schema is the DDL, in the portable MySQL subset Meridian supports: no
// foreign keys (the operations keep references valid), no triggers, views
// or ON UPDATE clauses.
//
// Money is DECIMAL(12,2) (Cents in Go); times are DATETIME in UTC.
// Removing an item only clears items.active: carts and purchase lines keep
// pointing at it.
var schema = []string{
	`CREATE TABLE sellers (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(64) NOT NULL,
  display_name VARCHAR(128) NOT NULL,
  email VARCHAR(255) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  created_at DATETIME NOT NULL,
  UNIQUE INDEX uq_sellers_username (username)
)`,
	`CREATE TABLE buyers (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(64) NOT NULL,
  display_name VARCHAR(128) NOT NULL,
  email VARCHAR(255) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  created_at DATETIME NOT NULL,
  UNIQUE INDEX uq_buyers_username (username)
)`,
	`CREATE TABLE items (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  seller_id BIGINT NOT NULL,
  title VARCHAR(200) NOT NULL,
  description TEXT,
  category VARCHAR(64) NOT NULL,
  keywords VARCHAR(255) NOT NULL DEFAULT '',
  item_condition VARCHAR(16) NOT NULL DEFAULT 'new',
  price DECIMAL(12,2) NOT NULL,
  quantity INT NOT NULL,
  listed_at DATETIME NOT NULL,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  INDEX idx_items_seller (seller_id),
  INDEX idx_items_category (category, active)
)`,
	`CREATE TABLE cart_items (
  buyer_id BIGINT NOT NULL,
  item_id BIGINT NOT NULL,
  quantity INT NOT NULL,
  added_at DATETIME NOT NULL,
  PRIMARY KEY (buyer_id, item_id)
)`,
	`CREATE TABLE purchases (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  buyer_id BIGINT NOT NULL,
  total DECIMAL(12,2) NOT NULL,
  purchased_at DATETIME NOT NULL,
  INDEX idx_purchases_buyer (buyer_id)
)`,
	`CREATE TABLE purchase_lines (
  purchase_id BIGINT NOT NULL,
  item_id BIGINT NOT NULL,
  seller_id BIGINT NOT NULL,
  title VARCHAR(200) NOT NULL,
  quantity INT NOT NULL,
  unit_price DECIMAL(12,2) NOT NULL,
  PRIMARY KEY (purchase_id, item_id),
  INDEX idx_purchase_lines_seller (seller_id),
  INDEX idx_purchase_lines_item (item_id)
)`,
	`CREATE TABLE feedback (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  purchase_id BIGINT NOT NULL,
  buyer_id BIGINT NOT NULL,
  seller_id BIGINT NOT NULL,
  rating INT NOT NULL,
  comment TEXT,
  created_at DATETIME NOT NULL,
  UNIQUE INDEX uq_feedback_purchase_seller (purchase_id, seller_id),
  INDEX idx_feedback_seller (seller_id)
)`,
}

// CreateSchema creates the marketplace's tables in db's current database,
// which must not have them yet.
func CreateSchema(ctx context.Context, db *sql.DB) error {
	for i, stmt := range schema {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("marketplace: creating table %s: %w", Tables[i], err)
		}
	}
	return nil
}

// DropSchema drops the marketplace's tables that exist in db's current
// database.
func DropSchema(ctx context.Context, db *sql.DB) error {
	for i := len(Tables) - 1; i >= 0; i-- {
		if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+Tables[i]); err != nil {
			return fmt.Errorf("marketplace: dropping table %s: %w", Tables[i], err)
		}
	}
	return nil
}
