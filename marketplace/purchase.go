package marketplace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Purchase is one checkout of a cart.
type Purchase struct {
	ID          PurchaseID
	Buyer       BuyerID
	Total       Cents
	PurchasedAt time.Time
	Lines       []PurchaseLine // ordered by item
}

// PurchaseLine is one item of a purchase, with its title and price as they
// were when bought.
type PurchaseLine struct {
	Item      ItemID
	Seller    SellerID
	Title     string
	Quantity  int
	UnitPrice Cents
}

// Purchase buys everything in buyer's cart in one transaction:
//
//  1. lock the cart's rows, then the items' rows (FOR UPDATE, in item
//     order, so that concurrent purchases queue rather than deadlock);
//  2. check every item is for sale (ErrItemUnavailable) and has the units
//     asked for (ErrOutOfStock), in item order, and stop at the first that
//     is not;
//  3. decrement the stock, record the purchase and its lines at the current
//     prices, and empty the cart; commit.
//
// Stock never goes negative, whatever runs concurrently: the decrement
// happens under the item's lock after the check, and is itself guarded by
// "quantity >= n". On any error nothing changed. ErrEmptyCart if the cart
// is empty.
func (s *Store) Purchase(ctx context.Context, buyer BuyerID) (Purchase, error) {
	var p Purchase
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = s.purchaseTx(ctx, tx, buyer)
		return err
	})
	var oos *ErrOutOfStock
	var unavailable *ErrItemUnavailable
	if err != nil && !errors.Is(err, ErrEmptyCart) && !errors.As(err, &oos) && !errors.As(err, &unavailable) {
		err = fmt.Errorf("marketplace: buyer %d purchasing the cart: %w", buyer, err)
	}
	return p, err
}

func (s *Store) purchaseTx(ctx context.Context, tx *sql.Tx, buyer BuyerID) (Purchase, error) {
	want := map[ItemID]int{}
	q, qargs := s.q("SELECT item_id, quantity FROM cart_items WHERE [[region = @ AND ]]buyer_id = ? ORDER BY item_id FOR UPDATE", int64(buyer))
	rows, err := tx.QueryContext(ctx, q, qargs...)
	if err != nil {
		return Purchase{}, err
	}
	var ids []ItemID
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return Purchase{}, err
		}
		want[ItemID(id)] = n
		ids = append(ids, ItemID(id))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Purchase{}, err
	}
	if len(ids) == 0 {
		return Purchase{}, fmt.Errorf("%w: buyer %d", ErrEmptyCart, buyer)
	}

	marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = int64(id)
	}
	q, args = s.q("SELECT id, seller_id, title, price, quantity, active FROM items WHERE [[region = @ AND ]]id IN ("+marks+") ORDER BY id FOR UPDATE", args...)
	rows, err = tx.QueryContext(ctx, q, args...)
	if err != nil {
		return Purchase{}, err
	}
	type stock struct {
		seller   SellerID
		title    string
		price    Cents
		quantity int
		active   bool
	}
	items := map[ItemID]stock{}
	for rows.Next() {
		var (
			id, seller int64
			st         stock
		)
		if err := rows.Scan(&id, &seller, &st.title, &st.price, &st.quantity, &st.active); err != nil {
			rows.Close()
			return Purchase{}, err
		}
		st.seller = SellerID(seller)
		items[ItemID(id)] = st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Purchase{}, err
	}

	p := Purchase{Buyer: buyer, PurchasedAt: s.now()}
	for _, id := range ids {
		st, ok := items[id]
		if !ok || !st.active {
			return Purchase{}, &ErrItemUnavailable{Item: id}
		}
		if st.quantity < want[id] {
			return Purchase{}, &ErrOutOfStock{Item: id, Title: st.title, Requested: want[id], Available: st.quantity}
		}
		p.Lines = append(p.Lines, PurchaseLine{Item: id, Seller: st.seller, Title: st.title, Quantity: want[id], UnitPrice: st.price})
		p.Total += st.price * Cents(want[id])
	}
	for _, l := range p.Lines {
		q, args := s.q("UPDATE items SET quantity = quantity - ? WHERE [[region = @ AND ]]id = ? AND quantity >= ?", l.Quantity, int64(l.Item), l.Quantity)
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return Purchase{}, err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			// The lock above makes this impossible; a server that lost it
			// must not oversell.
			return Purchase{}, fmt.Errorf("marketplace: item %d: stock changed under its lock (rows affected %d, %v)", l.Item, n, err)
		}
	}
	q, args = s.q("INSERT INTO purchases ([[region, ]]buyer_id, total, purchased_at) VALUES ([[@, ]]?, ?, ?)", int64(buyer), p.Total, sqlTime(p.PurchasedAt))
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return Purchase{}, err
	}
	pid, err := res.LastInsertId()
	if err != nil {
		return Purchase{}, err
	}
	p.ID = PurchaseID(pid)
	var vals []string
	var largs []any
	for _, l := range p.Lines {
		vals = append(vals, "([[@, ]]?, ?, ?, ?, ?, ?)")
		largs = append(largs, pid, int64(l.Item), int64(l.Seller), l.Title, l.Quantity, l.UnitPrice)
	}
	q, args = s.q("INSERT INTO purchase_lines ([[region, ]]purchase_id, item_id, seller_id, title, quantity, unit_price) VALUES "+
		strings.Join(vals, ", "), largs...)
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return Purchase{}, err
	}
	q, args = s.q("DELETE FROM cart_items WHERE [[region = @ AND ]]buyer_id = ?", int64(buyer))
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return Purchase{}, err
	}
	return p, nil
}

// PurchaseHistory returns buyer's purchases, oldest first.
func (s *Store) PurchaseHistory(ctx context.Context, buyer BuyerID) ([]Purchase, error) {
	var out []Purchase
	q, args := s.q("SELECT p.id, p.total, p.purchased_at, l.item_id, l.seller_id, l.title, l.quantity, l.unit_price"+
		" FROM purchases p INNER JOIN purchase_lines l ON l.purchase_id = p.id[[ AND l.region = p.region]]"+
		" WHERE [[p.region = @ AND ]]p.buyer_id = ? ORDER BY p.id, l.item_id", int64(buyer))
	err := s.do(ctx, func() error {
		out = nil
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				pid, item, seller int64
				total             Cents
				at                time.Time
				l                 PurchaseLine
			)
			if err := rows.Scan(&pid, &total, dbTime{&at}, &item, &seller, &l.Title, &l.Quantity, &l.UnitPrice); err != nil {
				return err
			}
			l.Item, l.Seller = ItemID(item), SellerID(seller)
			if len(out) == 0 || out[len(out)-1].ID != PurchaseID(pid) {
				out = append(out, Purchase{ID: PurchaseID(pid), Buyer: buyer, Total: total, PurchasedAt: at})
			}
			last := &out[len(out)-1]
			last.Lines = append(last.Lines, l)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("marketplace: purchase history of buyer %d: %w", buyer, err)
	}
	return out, nil
}

// LeaveFeedback records buyer's rating (1–5) of seller for one of buyer's
// purchases in which seller sold something; once per purchase and seller
// (ErrFeedbackExists).
func (s *Store) LeaveFeedback(ctx context.Context, buyer BuyerID, purchase PurchaseID, seller SellerID, rating int, comment string) (FeedbackID, error) {
	if rating < 1 || rating > 5 {
		return 0, fmt.Errorf("%w: rating %d (want 1 to 5)", ErrInvalid, rating)
	}
	var id int64
	err := s.do(ctx, func() error {
		var owner int64
		q, args := s.q("SELECT buyer_id FROM purchases WHERE [[region = @ AND ]]id = ?", int64(purchase))
		err := s.db.QueryRowContext(ctx, q, args...).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: purchase %d", ErrNotFound, purchase)
		}
		if err != nil {
			return err
		}
		var lines int
		q, args = s.q("SELECT COUNT(*) FROM purchase_lines WHERE [[region = @ AND ]]purchase_id = ? AND seller_id = ?", int64(purchase), int64(seller))
		if err := s.db.QueryRowContext(ctx, q, args...).Scan(&lines); err != nil {
			return err
		}
		if BuyerID(owner) != buyer || lines == 0 {
			return fmt.Errorf("%w: purchase %d, buyer %d, seller %d", ErrNotYourPurchase, purchase, buyer, seller)
		}
		q, args = s.q("INSERT INTO feedback ([[region, ]]purchase_id, buyer_id, seller_id, rating, comment, created_at) VALUES ([[@, ]]?, ?, ?, ?, ?, ?)",
			int64(purchase), int64(buyer), int64(seller), rating, comment, sqlTime(s.now()))
		res, err := s.db.ExecContext(ctx, q, args...)
		if isDuplicate(err) {
			return fmt.Errorf("%w: purchase %d, seller %d", ErrFeedbackExists, purchase, seller)
		}
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrNotYourPurchase) && !errors.Is(err, ErrFeedbackExists) {
		err = fmt.Errorf("marketplace: buyer %d rating seller %d: %w", buyer, seller, err)
	}
	return FeedbackID(id), err
}

// Rating summarizes a seller's feedback.
type Rating struct {
	Count   int
	Average float64 // 0 without feedback
	// Histogram[r-1] counts the ratings r.
	Histogram [5]int
}

// Feedback is one rating of a seller.
type Feedback struct {
	ID        FeedbackID
	Purchase  PurchaseID
	Buyer     string // the buyer's username
	Rating    int
	Comment   string
	CreatedAt time.Time
}

// SellerRating returns the number, average and spread of seller's ratings
// (in the regional schema, of a seller of the store's region). A browsing
// read (Options.BrowseStaleness).
func (s *Store) SellerRating(ctx context.Context, seller SellerID) (Rating, error) {
	var r Rating
	q, args := s.q("SELECT rating, COUNT(*) FROM feedback{asof} WHERE [[region = @ AND ]]seller_id = ? GROUP BY rating", int64(seller))
	err := s.do(ctx, func() error {
		r = Rating{}
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		sum := 0
		for rows.Next() {
			var rating, n int
			if err := rows.Scan(&rating, &n); err != nil {
				return err
			}
			if rating >= 1 && rating <= 5 {
				r.Histogram[rating-1] = n
			}
			r.Count += n
			sum += rating * n
		}
		if r.Count > 0 {
			r.Average = float64(sum) / float64(r.Count)
		}
		return rows.Err()
	})
	if err != nil {
		return Rating{}, fmt.Errorf("marketplace: rating of seller %d: %w", seller, err)
	}
	return r, nil
}

// SellerFeedback returns seller's latest limit ratings (default 20), newest
// first.
func (s *Store) SellerFeedback(ctx context.Context, seller SellerID, limit int) ([]Feedback, error) {
	if limit <= 0 {
		limit = 20
	}
	var out []Feedback
	q, args := s.q(fmt.Sprintf("SELECT f.id, f.purchase_id, b.username, f.rating, f.comment, f.created_at"+
		" FROM feedback f LEFT JOIN buyers b ON b.id = f.buyer_id[[ AND b.region = f.region]]"+
		" WHERE [[f.region = @ AND ]]f.seller_id = ? ORDER BY f.id DESC LIMIT %d", limit), int64(seller))
	err := s.do(ctx, func() error {
		out = nil
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				f             Feedback
				id, pid       int64
				buyer, commnt sql.NullString
			)
			if err := rows.Scan(&id, &pid, &buyer, &f.Rating, &commnt, dbTime{&f.CreatedAt}); err != nil {
				return err
			}
			f.ID, f.Purchase, f.Buyer, f.Comment = FeedbackID(id), PurchaseID(pid), buyer.String, commnt.String
			out = append(out, f)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("marketplace: feedback of seller %d: %w", seller, err)
	}
	return out, nil
}
