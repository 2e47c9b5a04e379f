#!/usr/bin/env bash
# Regenerates txn.pb.go from txn.proto. Needs protoc (Debian
# protobuf-compiler) and protoc-gen-go v1.36 on PATH.
set -euo pipefail
cd "$(dirname "$0")"
protoc -I . --go_out=. --go_opt=paths=source_relative txn.proto
