// Package conf reads geo-sim's configuration files (topologies, fault
// schedules) so that every error names the file, the line and the field.
//
// It owns one thing: turning YAML or JSON text into a yaml.v3 node tree
// whose nodes carry line and column numbers, and a small set of typed
// accessors over that tree (Map, Seq, Float, Int, String) that report
// errors as *Error{File, Line, Column, Field, Msg}.
//
// YAML goes through yaml.v3 directly. JSON goes through encoding/json's
// token stream, and each token's byte offset is turned into a line and a
// column, so a JSON file's errors point at the same places a YAML file's
// would. Syntax errors of either format also carry the line.
//
// Invariants: every error returned by this package (and by callers that use
// Errorf) is an *Error with a non-zero Line; field paths are written the way
// a reader would address them, e.g. regions[1].zones[0].nodes.
//
// Goroutines: none; everything is synchronous and allocation-only.
package conf
