// Package kvpb holds the generated protobuf types of the requests gateways
// send to ranges (kv.proto) and their errors. Regenerate with gen.sh. It
// starts no goroutines.
package kvpb
