#!/usr/bin/env bash
# Regenerates the Go code from replication.proto. Needs protoc (Debian
# protobuf-compiler), protoc-gen-go v1.36 and protoc-gen-go-grpc v1.6 on PATH.
set -euo pipefail
cd "$(dirname "$0")"
raft=$(go list -m -f '{{.Dir}}' go.etcd.io/raft/v3)
protoc -I . -I "$raft/raftpb" \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  replication.proto
