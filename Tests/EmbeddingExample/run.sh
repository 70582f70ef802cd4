#!/usr/bin/env bash
# Builds and runs the README's embedding example as an outside package would: a scratch directory holding this
# package and a link named swift-secure-aggregation to the repository (a path dependency's identity is its folder
# name). Exits non-zero unless the example verifies. Usage: Tests/EmbeddingExample/run.sh [scratch-dir]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
scratch="${1:-${TMPDIR:-/tmp}/secagg-embedding-example}"
mkdir -p "$scratch/example"
ln -sfn "$root" "$scratch/swift-secure-aggregation"
rm -rf "$scratch/example/Sources"
cp -R "$here/Package.swift" "$here/Sources" "$scratch/example/"
swift run --package-path "$scratch/example" EmbeddingExample
