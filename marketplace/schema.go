package marketplace

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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

// RegionalSchema describes the regional form of the schema
// (CreateRegionalSchema), for a marketplace whose users live in regions:
// every table's primary key starts with a region column, and each table
// is partitioned BY LIST COLUMNS (region), one partition per region, whose
// placement policy homes the partition's rows (TiDB's partition-level
// placement, which Meridian carries out for partitioning columns that lead
// the key). A row's region is its user's: a buyer's account, cart,
// purchases and feedback, a seller's account and items. The secondary
// indexes a region's operations use lead with the region too, so they are
// partitioned with the rows; the one index shared by every region —
// items by category, which searches browse — is global and placed by
// TablePolicy. Usernames are unique within a region.
//
// Stores for this schema name their region (Options.Region), and a buyer
// buys only items of its own region, so that a region's carts and
// purchases touch only its partitions.
type RegionalSchema struct {
	// Regions are the regions rows may belong to, one partition each
	// (named PartitionName(region)). Required.
	Regions []string
	// Policies names, per region, the placement policy of its partitions;
	// the policies must exist. A region without one has partitions placed
	// by TablePolicy.
	Policies map[string]string
	// TablePolicy, if set, is every table's PLACEMENT POLICY: it places
	// the global index and the partitions without a policy of their own.
	TablePolicy string
}

// PartitionName is the name of region's partitions (and the usual name of
// its placement policy): "p_" and the region, with characters other than
// letters, digits and _ made _ ("us-east" → "p_us_east").
func PartitionName(region string) string {
	b := []byte("p_" + strings.ToLower(region))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// regionalTables are the tables of the regional schema, in Tables' order,
// without their table options and partitioning (DDL adds them).
var regionalTables = []string{
	`CREATE TABLE sellers (
  region VARCHAR(32) NOT NULL,
  id BIGINT NOT NULL AUTO_INCREMENT,
  username VARCHAR(64) NOT NULL,
  display_name VARCHAR(128) NOT NULL,
  email VARCHAR(255) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  created_at DATETIME NOT NULL,
  PRIMARY KEY (region, id),
  UNIQUE INDEX uq_sellers_username (region, username)
)`,
	`CREATE TABLE buyers (
  region VARCHAR(32) NOT NULL,
  id BIGINT NOT NULL AUTO_INCREMENT,
  username VARCHAR(64) NOT NULL,
  display_name VARCHAR(128) NOT NULL,
  email VARCHAR(255) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  created_at DATETIME NOT NULL,
  PRIMARY KEY (region, id),
  UNIQUE INDEX uq_buyers_username (region, username)
)`,
	`CREATE TABLE items (
  region VARCHAR(32) NOT NULL,
  id BIGINT NOT NULL AUTO_INCREMENT,
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
  PRIMARY KEY (region, id),
  INDEX idx_items_seller (region, seller_id),
  INDEX idx_items_category (category, active)
)`,
	`CREATE TABLE cart_items (
  region VARCHAR(32) NOT NULL,
  buyer_id BIGINT NOT NULL,
  item_id BIGINT NOT NULL,
  quantity INT NOT NULL,
  added_at DATETIME NOT NULL,
  PRIMARY KEY (region, buyer_id, item_id)
)`,
	`CREATE TABLE purchases (
  region VARCHAR(32) NOT NULL,
  id BIGINT NOT NULL AUTO_INCREMENT,
  buyer_id BIGINT NOT NULL,
  total DECIMAL(12,2) NOT NULL,
  purchased_at DATETIME NOT NULL,
  PRIMARY KEY (region, id),
  INDEX idx_purchases_buyer (region, buyer_id)
)`,
	`CREATE TABLE purchase_lines (
  region VARCHAR(32) NOT NULL,
  purchase_id BIGINT NOT NULL,
  item_id BIGINT NOT NULL,
  seller_id BIGINT NOT NULL,
  title VARCHAR(200) NOT NULL,
  quantity INT NOT NULL,
  unit_price DECIMAL(12,2) NOT NULL,
  PRIMARY KEY (region, purchase_id, item_id),
  INDEX idx_purchase_lines_seller (region, seller_id),
  INDEX idx_purchase_lines_item (region, item_id)
)`,
	`CREATE TABLE feedback (
  region VARCHAR(32) NOT NULL,
  id BIGINT NOT NULL AUTO_INCREMENT,
  purchase_id BIGINT NOT NULL,
  buyer_id BIGINT NOT NULL,
  seller_id BIGINT NOT NULL,
  rating INT NOT NULL,
  comment TEXT,
  created_at DATETIME NOT NULL,
  PRIMARY KEY (region, id),
  UNIQUE INDEX uq_feedback_purchase_seller (region, purchase_id, seller_id),
  INDEX idx_feedback_seller (region, seller_id)
)`,
}

// DDL returns the CREATE TABLE statements of the regional schema, in
// Tables' order.
func (r RegionalSchema) DDL() ([]string, error) {
	if len(r.Regions) == 0 {
		return nil, fmt.Errorf("marketplace: a regional schema needs regions")
	}
	seen := map[string]string{}
	var parts []string
	for _, region := range r.Regions {
		name := PartitionName(region)
		if other, dup := seen[name]; dup {
			return nil, fmt.Errorf("marketplace: regions %q and %q have the same partition name %s", other, region, name)
		}
		seen[name] = region
		p := fmt.Sprintf("  PARTITION %s VALUES IN ('%s')", name, strings.ReplaceAll(region, "'", "''"))
		if pol := r.Policies[region]; pol != "" {
			p += " PLACEMENT POLICY = " + quoteIdent(pol)
		}
		parts = append(parts, p)
	}
	for region := range r.Policies {
		if _, ok := seen[PartitionName(region)]; !ok {
			return nil, fmt.Errorf("marketplace: a placement policy for region %q, which is not among the regions %v", region, r.Regions)
		}
	}
	tail := ""
	if r.TablePolicy != "" {
		tail = " PLACEMENT POLICY = " + quoteIdent(r.TablePolicy)
	}
	tail += "\nPARTITION BY LIST COLUMNS (region) (\n" + strings.Join(parts, ",\n") + "\n)"
	out := make([]string, len(regionalTables))
	for i, t := range regionalTables {
		out[i] = t + tail
	}
	return out, nil
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// CreateRegionalSchema creates the regional schema (RegionalSchema) in
// db's current database, which must not have the tables yet; the
// placement policies it names must exist.
func CreateRegionalSchema(ctx context.Context, db *sql.DB, r RegionalSchema) error {
	ddl, err := r.DDL()
	if err != nil {
		return err
	}
	for i, stmt := range ddl {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("marketplace: creating the regional table %s: %w", Tables[i], err)
		}
	}
	return nil
}
