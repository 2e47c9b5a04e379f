package marketplace

import (
	"errors"
	"testing"
)

func TestAccounts(t *testing.T) {
	s := testStore(t)
	ctx := ctxT(t)
	sid := must[SellerID](t)(s.CreateSeller(ctx, NewAccount{Username: "oak-and-iron", Email: "shop@example.com", Password: "pw1"}))
	if _, err := s.CreateSeller(ctx, NewAccount{Username: "oak-and-iron", Password: "other"}); !errors.Is(err, ErrUsernameTaken) {
		t.Errorf("duplicate seller: %v, want ErrUsernameTaken", err)
	}
	if got, err := s.SellerLogin(ctx, "oak-and-iron", "pw1"); err != nil || got != sid {
		t.Errorf("SellerLogin = %v, %v; want %v", got, err, sid)
	}
	if _, err := s.SellerLogin(ctx, "oak-and-iron", "wrong"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := s.SellerLogin(ctx, "nobody", "pw1"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("unknown seller: %v", err)
	}
	// Buyers have their own namespace.
	bid := must[BuyerID](t)(s.CreateBuyer(ctx, NewAccount{Username: "oak-and-iron", Password: "pw2"}))
	if got, err := s.BuyerLogin(ctx, "oak-and-iron", "pw2"); err != nil || got != bid {
		t.Errorf("BuyerLogin = %v, %v; want %v", got, err, bid)
	}
	if _, err := s.BuyerLogin(ctx, "oak-and-iron", "pw1"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("seller's password let the buyer in: %v", err)
	}
	if _, err := s.CreateBuyer(ctx, NewAccount{Username: "", Password: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty username: %v", err)
	}
}

// shop is a seller with items and a buyer, for the tests below.
type shop struct {
	s             *Store
	seller, rival SellerID
	buyer         BuyerID
	lamp, desk    ItemID
}

func newShop(t *testing.T) shop {
	s := testStore(t)
	ctx := ctxT(t)
	m := must[SellerID](t)
	sh := shop{s: s, seller: m(s.CreateSeller(ctx, NewAccount{Username: "seller", Password: "p"})),
		rival: m(s.CreateSeller(ctx, NewAccount{Username: "rival", Password: "p"}))}
	sh.buyer = must[BuyerID](t)(s.CreateBuyer(ctx, NewAccount{Username: "buyer", Password: "p"}))
	mi := must[ItemID](t)
	sh.lamp = mi(s.ListItem(ctx, sh.seller, NewItem{Title: "Brass Desk Lamp", Description: "1950s, rewired", Category: "Home",
		Keywords: []string{"lighting", "vintage"}, Condition: CondUsed, Price: 4500, Quantity: 3}))
	sh.desk = mi(s.ListItem(ctx, sh.seller, NewItem{Title: "Oak Desk", Category: "home", Keywords: []string{"furniture"}, Price: 25000, Quantity: 1}))
	return sh
}

func TestSellerItems(t *testing.T) {
	sh := newShop(t)
	s, ctx := sh.s, ctxT(t)
	it, err := s.GetItem(ctx, sh.lamp)
	if err != nil {
		t.Fatal(err)
	}
	if it.Title != "Brass Desk Lamp" || it.Category != "home" || it.Condition != CondUsed || it.Price != 4500 ||
		it.Quantity != 3 || !it.Active || it.Seller != sh.seller || it.Description != "1950s, rewired" || it.ListedAt.IsZero() {
		t.Errorf("GetItem = %+v", it)
	}
	if _, err := s.ListItem(ctx, sh.seller, NewItem{Title: "x", Category: "home", Price: 0, Quantity: 1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("price 0: %v", err)
	}
	if _, err := s.ListItem(ctx, sh.seller, NewItem{Title: "x", Category: "home", Price: 1, Condition: "mint"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad condition: %v", err)
	}

	if err := s.ChangePrice(ctx, sh.seller, sh.lamp, 3999); err != nil {
		t.Fatal(err)
	}
	if err := s.ChangePrice(ctx, sh.seller, sh.lamp, 3999); err != nil {
		t.Errorf("same price again: %v", err)
	}
	if err := s.ChangePrice(ctx, sh.rival, sh.lamp, 1); !errors.Is(err, ErrNotOwner) {
		t.Errorf("rival repricing: %v", err)
	}
	if err := s.ChangePrice(ctx, sh.seller, 999999, 100); !errors.Is(err, ErrNotFound) {
		t.Errorf("repricing a missing item: %v", err)
	}
	if err := s.Restock(ctx, sh.seller, sh.desk, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveItem(ctx, sh.rival, sh.desk); !errors.Is(err, ErrNotOwner) {
		t.Errorf("rival removing: %v", err)
	}
	if err := s.RemoveItem(ctx, sh.seller, sh.desk); err != nil {
		t.Fatal(err)
	}
	items, err := s.SellerItems(ctx, sh.seller)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].ID != sh.desk || items[1].ID != sh.lamp {
		t.Fatalf("SellerItems = %+v, want desk then lamp", items)
	}
	if items[0].Active || items[0].Quantity != 3 || items[1].Price != 3999 {
		t.Errorf("SellerItems = %+v", items)
	}
	if rival, _ := s.SellerItems(ctx, sh.rival); len(rival) != 0 {
		t.Errorf("rival has items %+v", rival)
	}
}

func TestSearch(t *testing.T) {
	sh := newShop(t)
	s, ctx := sh.s, ctxT(t)
	mi := must[ItemID](t)
	pen := mi(s.ListItem(ctx, sh.rival, NewItem{Title: "Fountain Pen", Category: "office", Keywords: []string{"writing", "brass"}, Price: 1200, Quantity: 5}))
	soldOut := mi(s.ListItem(ctx, sh.rival, NewItem{Title: "Brass Bell", Category: "home", Price: 800, Quantity: 0}))
	odd := mi(s.ListItem(ctx, sh.rival, NewItem{Title: "100% wool_scarf", Category: "fashion", Price: 900, Quantity: 2}))
	if err := s.RemoveItem(ctx, sh.seller, sh.desk); err != nil {
		t.Fatal(err)
	}
	ids := func(q Query) []ItemID {
		t.Helper()
		items, err := s.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []ItemID
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	check := func(name string, q Query, want ...ItemID) {
		t.Helper()
		got := ids(q)
		if len(got) != len(want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
			return
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: got %v, want %v", name, got, want)
				return
			}
		}
	}
	_ = soldOut
	check("all in stock, by price", Query{}, odd, pen, sh.lamp)
	check("category", Query{Category: "HOME"}, sh.lamp)
	check("keyword in keywords or title", Query{Keywords: []string{"brass"}}, pen, sh.lamp)
	check("keywords and category", Query{Category: "office", Keywords: []string{"Brass"}}, pen)
	check("two keywords", Query{Keywords: []string{"brass", "lighting"}}, sh.lamp)
	check("title word", Query{Keywords: []string{"lamp"}}, sh.lamp)
	check("LIKE wildcards are literal", Query{Keywords: []string{"%"}}, odd)
	check("underscore literal", Query{Keywords: []string{"l_mp"}})
	check("price range", Query{MinPrice: 1000, MaxPrice: 5000}, pen, sh.lamp)
	check("min price only", Query{MinPrice: 1000}, pen, sh.lamp)
	check("limit", Query{Limit: 2}, odd, pen)
	check("offset", Query{Limit: 2, Offset: 2}, sh.lamp)
}

func TestCart(t *testing.T) {
	sh := newShop(t)
	s, ctx := sh.s, ctxT(t)
	if err := s.AddToCart(ctx, sh.buyer, sh.lamp, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToCart(ctx, sh.buyer, sh.desk, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToCart(ctx, sh.buyer, sh.lamp, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToCart(ctx, sh.buyer, 424242, 1); !errors.As(err, new(*ErrItemUnavailable)) {
		t.Errorf("adding a missing item: %v", err)
	}
	if err := s.AddToCart(ctx, sh.buyer, sh.lamp, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("adding 0 units: %v", err)
	}
	cart, err := s.Cart(ctx, sh.buyer)
	if err != nil {
		t.Fatal(err)
	}
	if len(cart.Lines) != 2 || cart.Lines[0].Item != sh.lamp || cart.Lines[0].Quantity != 3 || cart.Lines[0].Subtotal != 13500 ||
		cart.Lines[1].Item != sh.desk || cart.Total != 13500+25000 || cart.Units != 4 || !cart.Lines[0].Available {
		t.Errorf("Cart = %+v", cart)
	}
	// A removed item stays in the cart, marked unavailable.
	if err := s.RemoveItem(ctx, sh.seller, sh.desk); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToCart(ctx, sh.buyer, sh.desk, 1); !errors.As(err, new(*ErrItemUnavailable)) {
		t.Errorf("adding a removed item: %v", err)
	}
	cart, _ = s.Cart(ctx, sh.buyer)
	if len(cart.Lines) != 2 || cart.Lines[1].Available {
		t.Errorf("Cart after removal = %+v", cart)
	}
	if err := s.RemoveFromCart(ctx, sh.buyer, sh.desk); err != nil {
		t.Fatal(err)
	}
	cart, _ = s.Cart(ctx, sh.buyer)
	if len(cart.Lines) != 1 || cart.Total != 13500 {
		t.Errorf("Cart after RemoveFromCart = %+v", cart)
	}
	if err := s.ClearCart(ctx, sh.buyer); err != nil {
		t.Fatal(err)
	}
	if cart, _ = s.Cart(ctx, sh.buyer); len(cart.Lines) != 0 || cart.Total != 0 {
		t.Errorf("Cart after ClearCart = %+v", cart)
	}
}

func TestPurchaseAndFeedback(t *testing.T) {
	sh := newShop(t)
	s, ctx := sh.s, ctxT(t)
	if _, err := s.Purchase(ctx, sh.buyer); !errors.Is(err, ErrEmptyCart) {
		t.Errorf("empty cart: %v", err)
	}
	pen := must[ItemID](t)(s.ListItem(ctx, sh.rival, NewItem{Title: "Fountain Pen", Category: "office", Price: 1250, Quantity: 5}))
	s.AddToCart(ctx, sh.buyer, sh.lamp, 2)
	s.AddToCart(ctx, sh.buyer, pen, 1)
	p, err := s.Purchase(ctx, sh.buyer)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID == 0 || p.Total != 2*4500+1250 || len(p.Lines) != 2 || p.Lines[0].Item != sh.lamp || p.Lines[0].Quantity != 2 {
		t.Errorf("Purchase = %+v", p)
	}
	if lamp, _ := s.GetItem(ctx, sh.lamp); lamp.Quantity != 1 {
		t.Errorf("lamp stock %d after buying 2 of 3", lamp.Quantity)
	}
	if cart, _ := s.Cart(ctx, sh.buyer); len(cart.Lines) != 0 {
		t.Errorf("cart not emptied: %+v", cart)
	}

	// Out of stock: nothing changes, the cart stays.
	s.AddToCart(ctx, sh.buyer, sh.lamp, 2)
	s.AddToCart(ctx, sh.buyer, pen, 1)
	_, err = s.Purchase(ctx, sh.buyer)
	var oos *ErrOutOfStock
	if !errors.As(err, &oos) || oos.Item != sh.lamp || oos.Requested != 2 || oos.Available != 1 || oos.Title != "Brass Desk Lamp" {
		t.Fatalf("Purchase beyond stock: %v", err)
	}
	if penNow, _ := s.GetItem(ctx, pen); penNow.Quantity != 4 {
		t.Errorf("pen stock %d after a failed purchase, want 4", penNow.Quantity)
	}
	if cart, _ := s.Cart(ctx, sh.buyer); len(cart.Lines) != 2 || cart.Lines[0].Available {
		t.Errorf("cart after a failed purchase: %+v", cart)
	}
	// A removed item blocks the purchase.
	s.RemoveFromCart(ctx, sh.buyer, sh.lamp)
	s.AddToCart(ctx, sh.buyer, sh.desk, 1)
	s.RemoveItem(ctx, sh.seller, sh.desk)
	if _, err := s.Purchase(ctx, sh.buyer); !errors.As(err, new(*ErrItemUnavailable)) {
		t.Errorf("buying a removed item: %v", err)
	}

	hist, err := s.PurchaseHistory(ctx, sh.buyer)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].ID != p.ID || hist[0].Total != p.Total || len(hist[0].Lines) != 2 || hist[0].PurchasedAt.IsZero() {
		t.Errorf("PurchaseHistory = %+v, want [%+v]", hist, p)
	}
	items, _ := s.SellerItems(ctx, sh.seller)
	for _, it := range items {
		if it.ID == sh.lamp && it.Sold != 2 {
			t.Errorf("lamp sold %d, want 2", it.Sold)
		}
	}

	// Feedback: once per purchase and seller, only by the buyer, only for
	// sellers in the purchase.
	other := must[BuyerID](t)(s.CreateBuyer(ctx, NewAccount{Username: "other", Password: "p"}))
	if _, err := s.LeaveFeedback(ctx, other, p.ID, sh.seller, 5, "not mine"); !errors.Is(err, ErrNotYourPurchase) {
		t.Errorf("feedback by another buyer: %v", err)
	}
	if _, err := s.LeaveFeedback(ctx, sh.buyer, p.ID, sh.seller, 6, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("rating 6: %v", err)
	}
	if _, err := s.LeaveFeedback(ctx, sh.buyer, 987654, sh.seller, 5, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("feedback on a missing purchase: %v", err)
	}
	third := must[SellerID](t)(s.CreateSeller(ctx, NewAccount{Username: "third", Password: "p"}))
	if _, err := s.LeaveFeedback(ctx, sh.buyer, p.ID, third, 5, ""); !errors.Is(err, ErrNotYourPurchase) {
		t.Errorf("feedback for a seller not in the purchase: %v", err)
	}
	if _, err := s.LeaveFeedback(ctx, sh.buyer, p.ID, sh.seller, 4, "lovely lamp"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LeaveFeedback(ctx, sh.buyer, p.ID, sh.seller, 1, "changed my mind"); !errors.Is(err, ErrFeedbackExists) {
		t.Errorf("second feedback: %v", err)
	}
	if _, err := s.LeaveFeedback(ctx, sh.buyer, p.ID, sh.rival, 2, "slow"); err != nil {
		t.Fatal(err)
	}
	r, err := s.SellerRating(ctx, sh.seller)
	if err != nil || r.Count != 1 || r.Average != 4 || r.Histogram != [5]int{0, 0, 0, 1, 0} {
		t.Errorf("SellerRating = %+v, %v", r, err)
	}
	fb, err := s.SellerFeedback(ctx, sh.seller, 0)
	if err != nil || len(fb) != 1 || fb[0].Buyer != "buyer" || fb[0].Rating != 4 || fb[0].Comment != "lovely lamp" || fb[0].Purchase != p.ID {
		t.Errorf("SellerFeedback = %+v, %v", fb, err)
	}
	if r, _ := s.SellerRating(ctx, third); r.Count != 0 || r.Average != 0 {
		t.Errorf("unrated seller: %+v", r)
	}
}
