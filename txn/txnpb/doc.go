// Package txnpb holds the generated protobuf types of the transaction
// layer's requests, records and errors. Regenerate with gen.sh. It starts no
// goroutines.
package txnpb
