// Package rangespb holds the generated protobuf types of the ranges layer:
// gossip, node descriptors and liveness, placement policies, and admin
// requests. Regenerate with gen.sh. It starts no goroutines.
package rangespb
