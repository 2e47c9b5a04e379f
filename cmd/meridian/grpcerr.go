package main

import "google.golang.org/grpc/status"

// grpcMessage returns an RPC error's message without gRPC's decoration.
func grpcMessage(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}
