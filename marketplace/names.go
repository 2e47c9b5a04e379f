package marketplace

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// category is a department of the sample catalogue: item titles are
// "[brand] [adjective] noun", keywords come from the noun and tags.
type category struct {
	name       string
	nouns      []string
	adjectives []string
	brands     []string
	tags       []string
	minPrice   Cents // prices are drawn log-uniformly in [minPrice, maxPrice]
	maxPrice   Cents
}

var categories = []category{
	{"electronics", []string{"Headphones", "Bluetooth Speaker", "Mechanical Keyboard", "Monitor", "Webcam", "Smartwatch", "E-Reader", "USB-C Hub", "Power Bank", "Drone"},
		[]string{"Wireless", "Noise-Cancelling", "Compact", "4K", "Portable", "Refurbished", "Gaming", "Waterproof"},
		[]string{"Sonora", "Voltix", "Pixelcraft", "Nordwave", "Kestrel"}, []string{"gadget", "tech", "audio", "usb", "battery"}, 1500, 120000},
	{"books", []string{"Cookbook", "Atlas", "Poetry Collection", "Field Guide", "Graphic Novel", "Biography", "Travel Guide", "Textbook"},
		[]string{"Illustrated", "First Edition", "Signed", "Paperback", "Hardcover", "Annotated"},
		nil, []string{"reading", "literature", "gift", "paper"}, 300, 9000},
	{"home", []string{"Desk Lamp", "Throw Blanket", "Ceramic Vase", "Wall Clock", "Cast Iron Pan", "Teapot", "Cutting Board", "Mirror"},
		[]string{"Vintage", "Handmade", "Brass", "Oak", "Minimalist", "Rustic", "Linen"},
		[]string{"Hearth & Co", "Lumen", "Birchwood"}, []string{"decor", "kitchen", "interior", "cozy"}, 800, 30000},
	{"fashion", []string{"Wool Scarf", "Leather Jacket", "Sneakers", "Denim Jeans", "Silk Tie", "Backpack", "Sunglasses", "Wristwatch"},
		[]string{"Slim", "Classic", "Organic Cotton", "Waterproof", "Oversized", "Vintage"},
		[]string{"Atelier Nord", "Fieldline", "Marlowe"}, []string{"clothing", "style", "accessory", "wear"}, 900, 45000},
	{"sports", []string{"Yoga Mat", "Tennis Racket", "Road Bike", "Climbing Rope", "Running Shoes", "Kettlebell", "Tent", "Snowboard"},
		[]string{"Lightweight", "Pro", "Carbon", "Ultralight", "Beginner", "Competition"},
		[]string{"Summit", "Stride", "Apex"}, []string{"outdoor", "fitness", "training", "camping"}, 1200, 150000},
	{"toys", []string{"Puzzle", "Building Blocks", "Board Game", "Plush Bear", "Model Train", "Kite", "Chess Set", "Yo-Yo"},
		[]string{"Wooden", "1000-Piece", "Classic", "Educational", "Giant", "Collector's"},
		nil, []string{"kids", "games", "family", "fun"}, 400, 20000},
	{"garden", []string{"Pruning Shears", "Watering Can", "Raised Bed", "Bird Feeder", "Hose Reel", "Seed Kit", "Planter"},
		[]string{"Galvanized", "Ergonomic", "Terracotta", "Solar", "Self-Watering"},
		[]string{"Greenfold", "Rootwell"}, []string{"plants", "outdoor", "gardening", "yard"}, 500, 25000},
	{"music", []string{"Acoustic Guitar", "Vinyl Record", "Ukulele", "Synthesizer", "Drum Pad", "Harmonica", "Violin", "Microphone"},
		[]string{"Vintage", "Handcrafted", "Beginner", "Studio", "Limited Edition"},
		[]string{"Resonant", "Tonewood", "Analogic"}, []string{"instrument", "audio", "records", "band"}, 1000, 200000},
	{"collectibles", []string{"Stamp Album", "Coin Set", "Trading Card", "Pocket Watch", "Poster", "Figurine", "Postcard Lot"},
		[]string{"Rare", "Mint", "Antique", "Limited", "Graded", "1960s"},
		nil, []string{"vintage", "collector", "antique", "rare"}, 200, 500000},
}

var (
	firstNames = []string{"ada", "ben", "chloe", "dmitri", "elena", "farah", "gus", "hana", "ivan", "jules", "kemal", "lena",
		"mateo", "nora", "omar", "priya", "quinn", "rosa", "sven", "tara", "umar", "vera", "wen", "yusuf", "zoe"}
	lastNames = []string{"adler", "brooks", "costa", "diaz", "eriksen", "fischer", "garcia", "haddad", "ito", "jensen", "kowalski",
		"lopez", "moreau", "nakamura", "okafor", "petrov", "quispe", "rossi", "silva", "tanaka", "novak", "weber", "yilmaz", "zhou"}
	shopWords1 = []string{"golden", "urban", "little", "northern", "blue", "quiet", "rusty", "bright", "velvet", "copper", "wild", "old-town"}
	shopWords2 = []string{"attic", "finds", "goods", "trading", "emporium", "workshop", "corner", "market", "depot", "bazaar", "studio", "outlet"}
	comments   = [5][]string{
		{"Never arrived.", "Not as described.", "Broken on arrival."},
		{"Slow shipping.", "Poor packaging.", "Item had flaws not mentioned."},
		{"OK, as expected.", "Took a while but fine.", "Average."},
		{"Good seller.", "Nice item, quick shipping.", "Would buy again."},
		{"Excellent!", "Perfect, thank you!", "Great communication, fast delivery.", "Exactly as pictured."},
	}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// logUniform draws a price in [lo, hi] with log-uniform density, rounded
// down to whole units and ending in .99, .49 or .00.
func logUniform(r *rand.Rand, lo, hi Cents) Cents {
	f := float64(lo) * math.Pow(float64(hi)/float64(lo), r.Float64())
	c := Cents(f) / 100 * 100
	switch r.IntN(3) {
	case 0:
		c += 99
	case 1:
		c += 49
	}
	return max(c, 99)
}

// sampleItem draws an item of category c.
func sampleItem(r *rand.Rand, c category) NewItem {
	noun := pick(r, c.nouns)
	words := []string{}
	if len(c.brands) > 0 && r.IntN(2) == 0 {
		words = append(words, pick(r, c.brands))
	}
	adj := ""
	if r.IntN(4) != 0 {
		adj = pick(r, c.adjectives)
		words = append(words, adj)
	}
	words = append(words, noun)
	title := strings.Join(words, " ")
	kw := []string{pick(r, c.tags), pick(r, c.tags)}
	cond := CondNew
	if r.IntN(3) == 0 {
		cond = Conditions[1+r.IntN(len(Conditions)-1)]
	}
	desc := fmt.Sprintf("%s in %s condition. %s", title, strings.ReplaceAll(string(cond), "_", " "),
		pick(r, []string{"Ships within two days.", "Smoke-free home.", "Original box included.", "Local pickup possible.", "Gift wrapping on request."}))
	return NewItem{Title: title, Description: desc, Category: c.name, Keywords: kw, Condition: cond,
		Price: logUniform(r, c.minPrice, c.maxPrice), Quantity: 1 + r.IntN(20)}
}

func buyerName(r *rand.Rand, i int) (username, display string) {
	f, l := pick(r, firstNames), pick(r, lastNames)
	return fmt.Sprintf("%s.%s%d", f, l, i), strings.ToUpper(f[:1]) + f[1:] + " " + strings.ToUpper(l[:1]) + l[1:]
}

func sellerName(r *rand.Rand, i int) (username, display string) {
	a, b := pick(r, shopWords1), pick(r, shopWords2)
	return fmt.Sprintf("%s-%s-%d", a, b, i), strings.ToUpper(a[:1]) + a[1:] + " " + strings.ToUpper(b[:1]) + b[1:]
}

// CategoryNames lists the sample catalogue's categories.
func CategoryNames() []string {
	out := make([]string, len(categories))
	for i, c := range categories {
		out[i] = c.name
	}
	return out
}
