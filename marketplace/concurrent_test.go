package marketplace

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestConcurrentPurchases has many buyers buy the last units of the same
// items at once, twice (the second time while the seller restocks). Stock
// must never go negative, units sold must equal stock consumed, every
// successful purchase must appear exactly once in its buyer's history and
// every failed one not at all.
func TestConcurrentPurchases(t *testing.T) {
	s := testStore(t)
	ctx := ctxT(t)
	seller := must[SellerID](t)(s.CreateSeller(ctx, NewAccount{Username: "last-units", Password: "p"}))
	stock := []int{5, 3, 2, 1}
	var items []ItemID
	initial := map[ItemID]int{}
	for i, n := range stock {
		id := must[ItemID](t)(s.ListItem(ctx, seller, NewItem{Title: fmt.Sprintf("scarce %d", i), Category: "rare", Price: Cents(1000 + i), Quantity: n}))
		items = append(items, id)
		initial[id] = n
	}
	const buyers = 24
	rnd := rand.New(rand.NewPCG(8, 8))
	var bs []BuyerID
	for i := range buyers {
		b := must[BuyerID](t)(s.CreateBuyer(ctx, NewAccount{Username: fmt.Sprintf("b%d", i), Password: "p"}))
		bs = append(bs, b)
		for _, k := range rnd.Perm(len(items))[:1+rnd.IntN(2)] {
			if err := s.AddToCart(ctx, b, items[k], 1+rnd.IntN(2)); err != nil {
				t.Fatal(err)
			}
		}
	}

	bought := map[BuyerID][]Purchase{} // successful purchases, per buyer
	restocked := map[ItemID]int{}
	round := func(restock bool) (ok, outOfStock int) {
		var (
			mu    sync.Mutex
			wg    sync.WaitGroup
			start = make(chan struct{})
		)
		for _, b := range bs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				p, err := s.Purchase(ctx, b)
				mu.Lock()
				defer mu.Unlock()
				var oos *ErrOutOfStock
				switch {
				case err == nil:
					ok++
					bought[b] = append(bought[b], p)
				case errors.As(err, &oos):
					outOfStock++
				case errors.Is(err, ErrEmptyCart):
				default:
					t.Errorf("buyer %d: %v", b, err)
				}
			}()
		}
		if restock {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for _, id := range items[:2] {
					if err := s.Restock(ctx, seller, id, 1); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					restocked[id]++
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		return ok, outOfStock
	}
	ok1, oos1 := round(false)
	ok2, oos2 := round(true)
	t.Logf("round 1: %d bought, %d out of stock; round 2: %d bought, %d out of stock; retries %d", ok1, oos1, ok2, oos2, s.Stats().Retries)
	if ok1 == 0 || oos1 == 0 {
		t.Errorf("round 1 should both sell and run out: %d bought, %d out of stock", ok1, oos1)
	}

	sold := map[ItemID]int{}
	for _, ps := range bought {
		for _, p := range ps {
			for _, l := range p.Lines {
				sold[l.Item] += l.Quantity
			}
		}
	}
	for _, id := range items {
		it, err := s.GetItem(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if it.Quantity < 0 {
			t.Errorf("item %d: stock %d", id, it.Quantity)
		}
		if want := initial[id] + restocked[id] - it.Quantity; sold[id] != want {
			t.Errorf("item %d: %d units in successful purchases, but stock went from %d (+%d restocked) to %d",
				id, sold[id], initial[id], restocked[id], it.Quantity)
		}
	}
	var lines int
	if err := s.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM purchases").Scan(&lines); err != nil {
		t.Fatal(err)
	}
	if lines != ok1+ok2 {
		t.Errorf("%d purchases recorded, %d succeeded", lines, ok1+ok2)
	}
	for _, b := range bs {
		hist, err := s.PurchaseHistory(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[PurchaseID]int{}
		for _, p := range hist {
			seen[p.ID]++
		}
		if len(hist) != len(bought[b]) {
			t.Errorf("buyer %d: history has %d purchases, %d succeeded", b, len(hist), len(bought[b]))
		}
		for _, p := range bought[b] {
			if seen[p.ID] != 1 {
				t.Errorf("buyer %d: purchase %d appears %d times in the history", b, p.ID, seen[p.ID])
			}
		}
	}
}
