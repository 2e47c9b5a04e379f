// Package marketplace is Meridian's seed application: an online
// marketplace, used by `meridian demo`, by tests of the SQL layer through
// go-sql-driver/mysql, and by `meridian workload marketplace`. It uses
// the database only as a user would: a *sql.DB and SQL from the portable
// MySQL subset Meridian supports (no foreign keys, triggers, views, CTEs,
// window or JSON functions; ids through the driver's LastInsertId).
//
// What it owns:
//   - the schema (schema.go: sellers, buyers, items, cart_items,
//     purchases, purchase_lines, feedback), CreateSchema and DropSchema;
//     and its regional form (RegionalSchema, CreateRegionalSchema), for
//     users living in regions: a region column leads every primary key
//     and every table is PARTITION BY LIST COLUMNS (region) with a
//     placement policy per partition (TiDB's syntax, which Meridian
//     carries out), so that each region's rows are homed in it. Stores
//     then act for one region (Options.Region; In for browsing another),
//     buyers buy their own region's items, and searches are global;
//   - stale browsing (Options.BrowseStaleness): search, item and seller
//     pages read AS OF TIMESTAMP a bounded time ago, at the nearest
//     replica, while carts, purchases and every write stay strictly
//     serializable;
//   - Store, the operations: sellers sign up, log in, list items, change
//     prices, restock, remove items, see their items and rating; buyers
//     sign up, log in, search by category, keywords and price, add to,
//     remove from and clear carts, see carts, purchase, leave feedback and
//     see their purchase history;
//   - RunTx, the one helper that retries a transaction on deadlock (1213),
//     lock-wait timeout (1205) and serialization failure (SQLSTATE 40001)
//     with bounded, jittered exponential backoff;
//   - LoadSample, a deterministic generator of sample data (seeded), for
//     either schema;
//   - Workload, a weighted mix of buyer and seller operations from C
//     concurrent clients, with per-operation throughput and latency.
//
// Invariants:
//   - Stock never goes negative and is never oversold: Purchase locks the
//     cart's items (SELECT … FOR UPDATE) before checking and decrementing
//     them, in one transaction with the purchase rows and the emptying of
//     the cart. So units sold = initial stock + restocks − stock left, and
//     each purchase appears exactly once in its buyer's history, however
//     many buyers purchase concurrently.
//   - A failed operation changed nothing (each is one statement or one
//     transaction); retried transactions are run from the start.
//   - Passwords are stored as salted PBKDF2-SHA256 hashes that name their
//     iteration count.
//   - In the regional schema, a region's carts, purchases and feedback
//     reference only that region's rows (its stores name the region in
//     every statement, and AddToCart finds only its items), so a buyer's
//     transactions touch only its region's partitions.
//   - No wall clock or global randomness: time comes from Options.Clock
//     (the caller's), randomness from seeds and Options.Entropy.
//
// Goroutines: Store starts none and is safe for concurrent use (its only
// mutable state is an atomic counter and a mutex-guarded jitter source).
// Workload.Run starts one goroutine per client and one for the progress
// line, and returns after all have stopped.
package marketplace
