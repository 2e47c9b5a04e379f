// Package rowcodec owns the byte formats of SQL data: order-preserving key
// encodings for every key type (key.go, whose grammar is written on the
// encoder), and the row value format (row.go).
//
// # Invariants
//
//   - Every key this package builds lies in [0x74, 0xff), inside the SQL
//     keyspace [0x10, 0xff) (the lower layers reserve keys below 0x10).
//   - For values a, b of one column type, bytes.Compare(AppendKey(a),
//     AppendKey(b)) has the sign of types.Compare(a, b), with NULL first;
//     the property tests check this against types.Compare.
//   - DecodeKey(AppendKey(v)) == v, and DecodeRow inverts AppendColumn.
//
// # Goroutines
//
// Pure functions; safe for concurrent use.
package rowcodec
