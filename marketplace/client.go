package marketplace

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
)

// client is one workload client: a buyer and a seller, its own random
// source and statistics, run by one goroutine.
type client struct {
	id          int
	store       *Store
	pop         *population // shared, read-only
	mix         []OpWeight
	totalWeight int
	runID       string
	rnd         *rand.Rand
	clock       Clock
	stats       map[string]*opStats

	// region is the client's region (regional schema), "" otherwise.
	region   string
	buyer    BuyerID
	seller   SellerID
	own      []ItemID        // the seller's items for sale
	cart     map[ItemID]bool // what the buyer's cart holds, as far as the client knows
	lastSeen []itemRef       // the last search's results
	unrated  []ratable       // (purchase, seller) pairs the buyer may rate
	created  int             // accounts created
	// clearCart asks step to empty the cart after a rejected purchase,
	// outside the timed operation.
	clearCart bool
}

type ratable struct {
	purchase PurchaseID
	seller   SellerID
}

// itemRef is an item and its region ("" in the plain schema).
type itemRef struct {
	id     ItemID
	region string
}

// opStats are one client's counts and latencies of one operation.
type opStats struct {
	hist                 histogram
	ok, rejected, errors int64
	firstErr             string
}

func (c *client) pick() string {
	n := c.rnd.IntN(c.totalWeight)
	for _, m := range c.mix {
		if n -= max(m.Weight, 0); n < 0 {
			return m.Op
		}
	}
	return c.mix[len(c.mix)-1].Op
}

// isRejection reports whether err is a business outcome (the operation
// worked, the answer was no) rather than a failure.
func isRejection(err error) bool {
	var oos *ErrOutOfStock
	var un *ErrItemUnavailable
	return errors.As(err, &oos) || errors.As(err, &un) || errors.Is(err, ErrEmptyCart) || errors.Is(err, ErrBadCredentials) ||
		errors.Is(err, ErrUsernameTaken) || errors.Is(err, ErrFeedbackExists) || errors.Is(err, ErrNotYourPurchase) ||
		errors.Is(err, ErrNotOwner) || errors.Is(err, ErrNotFound)
}

// step performs one operation of the mix and records it; it reports
// whether the operation failed.
func (c *client) step(ctx context.Context) (failed bool) {
	op := c.pick()
	op, run := c.prepare(op)
	start := c.clock.Now()
	err := run(ctx)
	lat := c.clock.Now().Sub(start)
	if err != nil && ctx.Err() != nil {
		return false // the run ended during the operation
	}
	st := c.stats[op]
	if st == nil {
		st = &opStats{}
		c.stats[op] = st
	}
	switch {
	case err == nil:
		st.ok++
	case isRejection(err):
		st.rejected++
	default:
		st.errors++
		if st.firstErr == "" {
			st.firstErr = err.Error()
		}
		return true
	}
	st.hist.record(lat)
	if c.clearCart {
		c.clearCart = false
		if c.store.ClearCart(ctx, c.buyer) == nil {
			clear(c.cart)
		}
	}
	return false
}

// randomItem picks an item to look at: mostly one the last search found,
// else any, in any region.
func (c *client) randomItem() itemRef {
	if len(c.lastSeen) > 0 && c.rnd.IntN(10) < 7 {
		return c.lastSeen[c.rnd.IntN(len(c.lastSeen))]
	}
	id := c.pop.items[c.rnd.IntN(len(c.pop.items))]
	return itemRef{id, c.pop.itemRegion[id]}
}

// cartItem picks an item to buy: as randomItem, but in the regional schema
// one of the client's region (buyers buy locally).
func (c *client) cartItem() ItemID {
	if c.region == "" {
		return c.randomItem().id
	}
	var local []ItemID
	for _, it := range c.lastSeen {
		if it.region == c.region {
			local = append(local, it.id)
		}
	}
	if len(local) > 0 && c.rnd.IntN(10) < 7 {
		return local[c.rnd.IntN(len(local))]
	}
	if mine := c.pop.itemsIn[c.region]; len(mine) > 0 {
		return mine[c.rnd.IntN(len(mine))]
	}
	return c.randomItem().id
}

// prepare turns op into the operation to time, falling back to a related
// one when op's precondition does not hold (nothing in the cart to remove,
// nothing to rate, no items to manage).
func (c *client) prepare(op string) (string, func(context.Context) error) {
	if c.cart == nil {
		c.cart = map[ItemID]bool{}
	}
	s := c.store
	switch op {
	case "remove_from_cart", "purchase":
		if len(c.cart) == 0 {
			return c.prepare("add_to_cart")
		}
	case "leave_feedback":
		if len(c.unrated) == 0 {
			return c.prepare("purchase_history")
		}
	case "change_price", "restock":
		if len(c.own) == 0 {
			return c.prepare("list_item")
		}
	case "remove_item":
		if len(c.own) <= 3 {
			return c.prepare("restock")
		}
	}
	switch op {
	case "search":
		cat := categories[c.rnd.IntN(len(categories))]
		q := Query{Category: cat.name, Limit: 20}
		if c.rnd.IntN(2) == 0 {
			words := strings.Fields(strings.ToLower(cat.nouns[c.rnd.IntN(len(cat.nouns))]))
			q.Keywords = []string{words[len(words)-1]}
		}
		return op, func(ctx context.Context) error {
			items, err := s.Search(ctx, q)
			c.lastSeen = c.lastSeen[:0]
			for _, it := range items {
				c.lastSeen = append(c.lastSeen, itemRef{it.ID, it.Region})
			}
			return err
		}
	case "view_item":
		it := c.randomItem()
		return op, func(ctx context.Context) error { _, err := s.In(it.region).GetItem(ctx, it.id); return err }
	case "add_to_cart":
		id := c.cartItem()
		return op, func(ctx context.Context) error {
			err := s.AddToCart(ctx, c.buyer, id, 1+c.rnd.IntN(2))
			if err == nil {
				c.cart[id] = true
			}
			return err
		}
	case "view_cart":
		return op, func(ctx context.Context) error { _, err := s.Cart(ctx, c.buyer); return err }
	case "remove_from_cart":
		var id ItemID
		for id = range c.cart {
			break
		}
		return op, func(ctx context.Context) error {
			err := s.RemoveFromCart(ctx, c.buyer, id)
			if err == nil {
				delete(c.cart, id)
			}
			return err
		}
	case "purchase":
		return op, func(ctx context.Context) error {
			p, err := s.Purchase(ctx, c.buyer)
			switch {
			case err == nil:
				seen := map[SellerID]bool{}
				for _, l := range p.Lines {
					if !seen[l.Seller] {
						seen[l.Seller] = true
						c.unrated = append(c.unrated, ratable{p.ID, l.Seller})
					}
				}
				clear(c.cart)
			case isRejection(err):
				c.clearCart = true // start over, after the timing
			}
			return err
		}
	case "purchase_history":
		return op, func(ctx context.Context) error { _, err := s.PurchaseHistory(ctx, c.buyer); return err }
	case "leave_feedback":
		r := c.unrated[len(c.unrated)-1]
		c.unrated = c.unrated[:len(c.unrated)-1]
		stars := 1 + c.rnd.IntN(5)
		return op, func(ctx context.Context) error {
			_, err := s.LeaveFeedback(ctx, c.buyer, r.purchase, r.seller, stars, comments[stars-1][0])
			return err
		}
	case "buyer_login":
		name := c.pop.names[c.buyer]
		return op, func(ctx context.Context) error { _, err := s.BuyerLogin(ctx, name, SamplePassword); return err }
	case "create_buyer":
		c.created++
		name := fmt.Sprintf("wl-%.32s-%d-%d", c.runID, c.id, c.created)
		return op, func(ctx context.Context) error {
			_, err := s.CreateBuyer(ctx, NewAccount{Username: name, Password: SamplePassword})
			return err
		}
	case "list_item":
		it := sampleItem(c.rnd, categories[c.rnd.IntN(len(categories))])
		return op, func(ctx context.Context) error {
			id, err := s.ListItem(ctx, c.seller, it)
			if err == nil {
				c.own = append(c.own, id)
			}
			return err
		}
	case "change_price":
		id := c.own[c.rnd.IntN(len(c.own))]
		price := Cents(99 + c.rnd.IntN(50000))
		return op, func(ctx context.Context) error { return s.ChangePrice(ctx, c.seller, id, price) }
	case "restock":
		id := c.own[c.rnd.IntN(len(c.own))]
		units := 5 + c.rnd.IntN(16)
		return op, func(ctx context.Context) error { return s.Restock(ctx, c.seller, id, units) }
	case "remove_item":
		k := c.rnd.IntN(len(c.own))
		id := c.own[k]
		c.own = append(c.own[:k], c.own[k+1:]...)
		return op, func(ctx context.Context) error { return s.RemoveItem(ctx, c.seller, id) }
	case "seller_items":
		return op, func(ctx context.Context) error { _, err := s.SellerItems(ctx, c.seller); return err }
	case "seller_rating":
		return op, func(ctx context.Context) error { _, err := s.SellerRating(ctx, c.seller); return err }
	case "seller_login":
		name := c.pop.sellerN[c.seller]
		return op, func(ctx context.Context) error { _, err := s.SellerLogin(ctx, name, SamplePassword); return err }
	}
	return op, func(context.Context) error { return fmt.Errorf("marketplace: workload: unknown operation %q", op) }
}
