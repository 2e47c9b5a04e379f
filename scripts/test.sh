#!/usr/bin/env bash
# Runs Meridian's tests: every package, then the core packages again under
# the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -count=1 ./...
go test -count=1 -race ./storage/... ./truetime/... ./replication/... ./ranges/... ./txn/... ./checker/...
