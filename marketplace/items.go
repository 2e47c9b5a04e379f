package marketplace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Condition of an item.
type Condition string

// Conditions an item may be in.
const (
	CondNew         Condition = "new"
	CondLikeNew     Condition = "like_new"
	CondUsed        Condition = "used"
	CondRefurbished Condition = "refurbished"
	CondForParts    Condition = "for_parts"
)

// Conditions lists the valid conditions.
var Conditions = []Condition{CondNew, CondLikeNew, CondUsed, CondRefurbished, CondForParts}

func (c Condition) valid() bool {
	for _, v := range Conditions {
		if c == v {
			return true
		}
	}
	return false
}

// MaxPrice is the largest price DECIMAL(12,2) holds.
const MaxPrice Cents = 9_999_999_999_99

// NewItem is what a seller lists.
type NewItem struct {
	Title       string // 1–200 bytes
	Description string
	Category    string // 1–64 bytes, e.g. "electronics"
	Keywords    []string
	Condition   Condition // default CondNew
	Price       Cents     // > 0
	Quantity    int       // ≥ 0
}

// Item is a listing.
type Item struct {
	ID ItemID
	// Region is the seller's region, whose partition holds the item
	// (regional schema; "" in the plain one).
	Region      string
	Seller      SellerID
	Title       string
	Description string
	Category    string
	Keywords    []string // as searched: the listed keywords and the title's words
	Condition   Condition
	Price       Cents
	Quantity    int // units in stock
	ListedAt    time.Time
	Active      bool // false once removed
	Sold        int  // units sold (SellerItems only)
}

// itemColumns are read by scanItem, in order (through Store.q, which keeps
// the region in the regional schema).
const itemColumns = "[[region, ]]id, seller_id, title, description, category, keywords, item_condition, price, quantity, listed_at, active"

// scanItem reads the itemColumns of s's schema.
func (s *Store) scanItem(sc interface{ Scan(...any) error }) (Item, error) {
	var (
		it          Item
		desc        sql.NullString
		kw, cond    string
		active      bool
		price       Cents
		listed      time.Time
		seller, iid int64
	)
	dest := []any{&iid, &seller, &it.Title, &desc, &it.Category, &kw, &cond, &price, &it.Quantity, dbTime{&listed}, &active}
	if s.opts.Region != "" {
		dest = append([]any{&it.Region}, dest...)
	}
	err := sc.Scan(dest...)
	it.ID, it.Seller, it.Description, it.Condition, it.Price, it.ListedAt, it.Active =
		ItemID(iid), SellerID(seller), desc.String, Condition(cond), price, listed, active
	it.Keywords = strings.Fields(kw)
	return it, err
}

func validateItem(it *NewItem) error {
	it.Title = strings.TrimSpace(it.Title)
	it.Category = strings.ToLower(strings.TrimSpace(it.Category))
	if it.Condition == "" {
		it.Condition = CondNew
	}
	switch {
	case it.Title == "" || len(it.Title) > 200:
		return fmt.Errorf("%w: title must have 1 to 200 bytes", ErrInvalid)
	case it.Category == "" || len(it.Category) > 64:
		return fmt.Errorf("%w: category must have 1 to 64 bytes", ErrInvalid)
	case !it.Condition.valid():
		return fmt.Errorf("%w: condition %q", ErrInvalid, it.Condition)
	case it.Price <= 0 || it.Price > MaxPrice:
		return fmt.Errorf("%w: price %s", ErrInvalid, it.Price)
	case it.Quantity < 0:
		return fmt.Errorf("%w: quantity %d", ErrInvalid, it.Quantity)
	}
	return nil
}

// keywordText is what the keywords column holds: the words of the
// seller's keywords and of the title, lower-cased, without repeats,
// separated by spaces, cut to 255 bytes. Searching it with LIKE finds
// title words too, whatever the server's collation.
func keywordText(title string, kw []string) string {
	seen := map[string]bool{}
	var out []string
	n := 0
	for _, w := range strings.Fields(strings.ToLower(strings.Join(kw, " ") + " " + title)) {
		w = strings.Trim(w, ".,;:!?()[]\"'")
		if w == "" || seen[w] || n+len(w)+1 > 256 {
			continue
		}
		seen[w] = true
		out = append(out, w)
		n += len(w) + 1
	}
	return strings.Join(out, " ")
}

// ListItem puts an item up for sale.
func (s *Store) ListItem(ctx context.Context, seller SellerID, it NewItem) (ItemID, error) {
	if err := validateItem(&it); err != nil {
		return 0, err
	}
	var id int64
	err := s.do(ctx, func() error {
		q, args := s.q("INSERT INTO items ([[region, ]]seller_id, title, description, category, keywords, item_condition, price, quantity, listed_at, active)"+
			" VALUES ([[@, ]]?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE)",
			int64(seller), it.Title, it.Description, it.Category, keywordText(it.Title, it.Keywords), string(it.Condition), it.Price, it.Quantity, sqlTime(s.now()))
		res, err := s.db.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("marketplace: seller %d listing %q: %w", seller, it.Title, err)
	}
	return ItemID(id), nil
}

// ownItem checks, inside tx, that item exists and belongs to seller, and
// locks it.
func (s *Store) ownItem(ctx context.Context, tx *sql.Tx, seller SellerID, item ItemID) error {
	var owner int64
	q, args := s.q("SELECT seller_id FROM items WHERE [[region = @ AND ]]id = ? FOR UPDATE", int64(item))
	err := tx.QueryRowContext(ctx, q, args...).Scan(&owner)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: item %d", ErrNotFound, item)
	case err != nil:
		return err
	case SellerID(owner) != seller:
		return fmt.Errorf("%w: item %d, seller %d", ErrNotOwner, item, seller)
	}
	return nil
}

// updateOwnItem runs an UPDATE of one of seller's items.
func (s *Store) updateOwnItem(ctx context.Context, seller SellerID, item ItemID, what, set string, args ...any) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.ownItem(ctx, tx, seller, item); err != nil {
			return err
		}
		q, qargs := s.q("UPDATE items SET "+set+" WHERE [[region = @ AND ]]id = ?", append(args, int64(item))...)
		_, err := tx.ExecContext(ctx, q, qargs...)
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrNotOwner) {
		err = fmt.Errorf("marketplace: seller %d %s item %d: %w", seller, what, item, err)
	}
	return err
}

// ChangePrice sets the price of one of seller's items.
func (s *Store) ChangePrice(ctx context.Context, seller SellerID, item ItemID, price Cents) error {
	if price <= 0 || price > MaxPrice {
		return fmt.Errorf("%w: price %s", ErrInvalid, price)
	}
	return s.updateOwnItem(ctx, seller, item, "repricing", "price = ?", price)
}

// Restock adds units to one of seller's items.
func (s *Store) Restock(ctx context.Context, seller SellerID, item ItemID, units int) error {
	if units <= 0 {
		return fmt.Errorf("%w: restocking %d units", ErrInvalid, units)
	}
	return s.updateOwnItem(ctx, seller, item, "restocking", "quantity = quantity + ?", units)
}

// RemoveItem takes one of seller's items off sale. It stays in purchase
// histories; carts holding it can no longer be bought until it is taken
// out of them (ErrItemUnavailable).
func (s *Store) RemoveItem(ctx context.Context, seller SellerID, item ItemID) error {
	return s.updateOwnItem(ctx, seller, item, "removing", "active = FALSE")
}

// GetItem returns an item, removed or not (in the regional schema, an item
// of the store's region: s.In(region).GetItem for another's). A browsing
// read (Options.BrowseStaleness).
func (s *Store) GetItem(ctx context.Context, item ItemID) (Item, error) {
	var it Item
	q, args := s.q("SELECT "+itemColumns+" FROM items{asof} WHERE [[region = @ AND ]]id = ?", int64(item))
	err := s.do(ctx, func() error {
		var err error
		it, err = s.scanItem(s.db.QueryRowContext(ctx, q, args...))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Item{}, fmt.Errorf("%w: item %d", ErrNotFound, item)
	}
	if err != nil {
		return Item{}, fmt.Errorf("marketplace: reading item %d: %w", item, err)
	}
	return it, nil
}

// SellerItems returns every item seller listed, removed ones included,
// newest first, with the units sold of each (in the regional schema, of a
// seller of the store's region). A browsing read
// (Options.BrowseStaleness).
func (s *Store) SellerItems(ctx context.Context, seller SellerID) ([]Item, error) {
	var items []Item
	iq, iargs := s.q("SELECT "+itemColumns+" FROM items{asof} WHERE [[region = @ AND ]]seller_id = ? ORDER BY listed_at DESC, id DESC", int64(seller))
	sq, sargs := s.q("SELECT item_id, SUM(quantity) FROM purchase_lines{asof} WHERE [[region = @ AND ]]seller_id = ? GROUP BY item_id", int64(seller))
	err := s.do(ctx, func() error {
		items = items[:0]
		var err error
		if items, err = s.queryItems(ctx, iq, iargs...); err != nil {
			return err
		}
		rows, err := s.db.QueryContext(ctx, sq, sargs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		sold := map[ItemID]int{}
		for rows.Next() {
			var id int64
			var n float64
			if err := rows.Scan(&id, &n); err != nil {
				return err
			}
			sold[ItemID(id)] = int(n)
		}
		for i := range items {
			items[i].Sold = sold[items[i].ID]
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("marketplace: items of seller %d: %w", seller, err)
	}
	return items, nil
}

func (s *Store) queryItems(ctx context.Context, q string, args ...any) ([]Item, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var items []Item
	for rows.Next() {
		it, err := s.scanItem(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, rows.Err()
}

// Query is a buyer's search. Only active items in stock are found.
type Query struct {
	// Category, if set, must match exactly (case-insensitively).
	Category string
	// Keywords must each appear in the item's keywords or title (LIKE).
	Keywords []string
	// MinPrice and MaxPrice, if set, bound the price (BETWEEN).
	MinPrice, MaxPrice Cents
	// Limit (default 20, at most 1000) and Offset page the results, which
	// are ordered by price, then id.
	Limit, Offset int
}

// Search finds items for sale, in every region (the regional schema's
// category index is global). A browsing read (Options.BrowseStaleness).
func (s *Store) Search(ctx context.Context, q Query) ([]Item, error) {
	where := []string{"active = TRUE", "quantity > 0"}
	var args []any
	if q.Category != "" {
		where = append(where, "category = ?")
		args = append(args, strings.ToLower(q.Category))
	}
	for _, kw := range q.Keywords {
		pat := "%" + escapeLike(strings.ToLower(kw)) + "%"
		where = append(where, "keywords LIKE ?")
		args = append(args, pat)
	}
	if q.MinPrice > 0 || q.MaxPrice > 0 {
		hi := q.MaxPrice
		if hi <= 0 {
			hi = MaxPrice
		}
		where = append(where, "price BETWEEN ? AND ?")
		args = append(args, q.MinPrice, hi)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 1000)
	stmt, args := s.q(fmt.Sprintf("SELECT %s FROM items{asof} WHERE %s ORDER BY price, id LIMIT %d OFFSET %d",
		itemColumns, strings.Join(where, " AND "), limit, max(q.Offset, 0)), args...)
	var items []Item
	err := s.do(ctx, func() error {
		var err error
		items, err = s.queryItems(ctx, stmt, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("marketplace: search %+v: %w", q, err)
	}
	return items, nil
}

// escapeLike makes s match itself in a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
