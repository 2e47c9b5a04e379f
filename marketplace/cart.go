package marketplace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// CartLine is one item in a cart.
type CartLine struct {
	Item      ItemID
	Seller    SellerID
	Title     string
	UnitPrice Cents // the item's current price
	Quantity  int   // units in the cart
	Subtotal  Cents // UnitPrice × Quantity
	// Available is false when the item was removed or has fewer units in
	// stock than the cart asks for: Purchase would fail.
	Available bool
}

// Cart is a buyer's cart.
type Cart struct {
	Lines []CartLine // in the order items were first added
	Total Cents      // sum of the subtotals
	Units int        // sum of the quantities
}

// AddToCart adds units of item to buyer's cart (on top of any already
// there). The item must be for sale (ErrItemUnavailable) and, in the
// regional schema, of the store's region; stock is only checked at
// purchase.
func (s *Store) AddToCart(ctx context.Context, buyer BuyerID, item ItemID, units int) error {
	if units <= 0 {
		return fmt.Errorf("%w: adding %d units", ErrInvalid, units)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var active bool
		q, args := s.q("SELECT active FROM items WHERE [[region = @ AND ]]id = ?", int64(item))
		err := tx.QueryRowContext(ctx, q, args...).Scan(&active)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !active) {
			return &ErrItemUnavailable{Item: item}
		}
		if err != nil {
			return err
		}
		var have int
		q, args = s.q("SELECT quantity FROM cart_items WHERE [[region = @ AND ]]buyer_id = ? AND item_id = ? FOR UPDATE", int64(buyer), int64(item))
		err = tx.QueryRowContext(ctx, q, args...).Scan(&have)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			q, args = s.q("INSERT INTO cart_items ([[region, ]]buyer_id, item_id, quantity, added_at) VALUES ([[@, ]]?, ?, ?, ?)",
				int64(buyer), int64(item), units, sqlTime(s.now()))
			_, err = tx.ExecContext(ctx, q, args...)
			if isDuplicate(err) {
				// Another AddToCart of the same buyer and item got there
				// first; the retry sees its row.
				return errRetry
			}
			return err
		case err != nil:
			return err
		}
		q, args = s.q("UPDATE cart_items SET quantity = ? WHERE [[region = @ AND ]]buyer_id = ? AND item_id = ?", have+units, int64(buyer), int64(item))
		_, err = tx.ExecContext(ctx, q, args...)
		return err
	})
	var unavailable *ErrItemUnavailable
	if err != nil && !errors.As(err, &unavailable) {
		err = fmt.Errorf("marketplace: buyer %d adding item %d to the cart: %w", buyer, item, err)
	}
	return err
}

// RemoveFromCart takes item out of buyer's cart (nothing if absent).
func (s *Store) RemoveFromCart(ctx context.Context, buyer BuyerID, item ItemID) error {
	q, args := s.q("DELETE FROM cart_items WHERE [[region = @ AND ]]buyer_id = ? AND item_id = ?", int64(buyer), int64(item))
	err := s.do(ctx, func() error {
		_, err := s.db.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("marketplace: buyer %d removing item %d from the cart: %w", buyer, item, err)
	}
	return nil
}

// ClearCart empties buyer's cart.
func (s *Store) ClearCart(ctx context.Context, buyer BuyerID) error {
	q, args := s.q("DELETE FROM cart_items WHERE [[region = @ AND ]]buyer_id = ?", int64(buyer))
	err := s.do(ctx, func() error {
		_, err := s.db.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("marketplace: buyer %d clearing the cart: %w", buyer, err)
	}
	return nil
}

// Cart returns buyer's cart with current prices and totals.
func (s *Store) Cart(ctx context.Context, buyer BuyerID) (Cart, error) {
	var cart Cart
	q, args := s.q("SELECT c.item_id, c.quantity, i.seller_id, i.title, i.price, i.quantity, i.active"+
		" FROM cart_items c INNER JOIN items i ON i.id = c.item_id[[ AND i.region = c.region]]"+
		" WHERE [[c.region = @ AND ]]c.buyer_id = ? ORDER BY c.added_at, c.item_id", int64(buyer))
	err := s.do(ctx, func() error {
		cart = Cart{}
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				l            CartLine
				item, seller int64
				stock        int
				active       bool
			)
			if err := rows.Scan(&item, &l.Quantity, &seller, &l.Title, &l.UnitPrice, &stock, &active); err != nil {
				return err
			}
			l.Item, l.Seller = ItemID(item), SellerID(seller)
			l.Subtotal = l.UnitPrice * Cents(l.Quantity)
			l.Available = active && stock >= l.Quantity
			cart.Lines = append(cart.Lines, l)
			cart.Total += l.Subtotal
			cart.Units += l.Quantity
		}
		return rows.Err()
	})
	if err != nil {
		return Cart{}, fmt.Errorf("marketplace: cart of buyer %d: %w", buyer, err)
	}
	return cart, nil
}
