// Package types owns SQL values and column types: the Value representation
// every other sql package passes around, MySQL-style comparison and
// coercion, and text formatting.
//
// # Invariants
//
//   - A Value is immutable once built; strings and bytes share storage.
//   - A DECIMAL value is an int64 unscaled number with a scale (at most 18
//     digits of precision); arithmetic that would overflow is an error.
//   - A time value (DATE, DATETIME, TIMESTAMP) is microseconds since the
//     Unix epoch in UTC; Value.Scale says whether it is a DATE.
//   - Comparison is binary for strings (collation utf8mb4_bin).
//
// # Goroutines
//
// Everything here is pure functions over values; safe for concurrent use.
package types
