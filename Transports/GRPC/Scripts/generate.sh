#!/usr/bin/env bash
# Regenerates Sources/SecAggGRPC/Generated/ from Protos/secagg/v1/aggregation.proto. Run it after changing the .proto
# and commit the result: builds never run the protobuf plugins.
#
# Needs protoc (Debian: `apt-get install -y protobuf-compiler`; generated with libprotoc 3.21.12) and builds the two
# plugins from this package's own dependencies, at the versions Package.swift pins (swift-protobuf 1.39.0's
# protoc-gen-swift, grpc-swift-protobuf 2.4.1's protoc-gen-grpc-swift-2), in this package's .build.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }
swift build --product protoc-gen-swift
swift build --product protoc-gen-grpc-swift-2
bin="$(swift build --show-bin-path)"
out=Sources/SecAggGRPC/Generated
protoc --proto_path=Protos \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --swift_out="$out" --swift_opt=Visibility=Package,FileNaming=DropPath,UseAccessLevelOnImports=true \
    --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
    --grpc-swift-2_out="$out" --grpc-swift-2_opt=Visibility=Package,FileNaming=DropPath,Client=true,Server=true,UseAccessLevelOnImports=true \
    secagg/v1/aggregation.proto
echo "wrote $out/aggregation.pb.swift and $out/aggregation.grpc.swift"
