#!/usr/bin/env bash
# The network benchmark of issue 15: the server in one process, n clients as separate gRPC connections from a second
# process on loopback, against `secagg bench protocol` on the same configuration (release builds of both).
#
#   Transports/GRPC/Scripts/bench.sh [--clients 100] [--length 100000] [--drop 0.1] [--bits 32]
#
# Prints the networked session's wall time (first stream to the end-of-session messages), the in-process session's
# (`secagg bench protocol`'s session_s) and their ratio; exits non-zero unless the aggregate verified.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
swift build -c release --package-path "$root" --product secagg
swift build -c release --package-path "$here" --product secagg-node
"$here/.build/release/secagg-node" bench --secagg "$root/.build/release/secagg" "$@"
