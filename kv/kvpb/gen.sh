#!/usr/bin/env bash
# Regenerates kv.pb.go from kv.proto. Needs protoc (Debian protobuf-compiler)
# and protoc-gen-go v1.36 on PATH.
set -euo pipefail
cd "$(dirname "$0")"
raft=$(go list -m -f '{{.Dir}}' go.etcd.io/raft/v3)
protoc -I . -I ../../replication/replicationpb -I "$raft/raftpb" \
  --go_out=. --go_opt=paths=source_relative \
  --go_opt=Mreplication.proto=github.com/meridiandb/meridian/replication/replicationpb \
  kv.proto
