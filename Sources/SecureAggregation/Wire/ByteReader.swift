/// Appends fixed-width little-endian integers and byte strings (SPEC.md §12.1).
package struct ByteWriter: Sendable {
    /// The bytes written so far.
    package private(set) var bytes: [UInt8] = []

    /// An empty writer with room for `capacity` bytes.
    package init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends one byte.
    package mutating func write(_ value: UInt8) { bytes.append(value) }

    /// Appends a little-endian integer.
    package mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends raw bytes (no length prefix).
    package mutating func write(raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }

    /// Overwrites the little-endian integer written at `offset` (a count known only after its list).
    package mutating func overwrite(_ value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + 4), with: $0) }
    }

    /// Appends bytes to the buffer through a closure (used by the bit packer to append in place).
    package mutating func append<E: Error>(_ body: (inout [UInt8]) throws(E) -> Void) throws(E) {
        try body(&bytes)
    }
}

/// Reads a message with a bounds check before every read; every failure is a ``WireFormatError``.
package struct ByteReader: Sendable {
    private let bytes: [UInt8]
    /// The read position.
    package private(set) var offset: Int

    /// A reader over `bytes` from the start.
    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
        offset = 0
    }

    /// Bytes not yet read.
    package var remaining: Int { bytes.count - offset }

    /// Reads a little-endian integer.
    package mutating func read<T: FixedWidthInteger>(_: T.Type, field: String) throws(WireFormatError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw .truncated(field: field, needed: size, available: remaining) }
        var value: T = 0
        for i in 0..<size { value |= T(bytes[offset + i]) << (8 * i) }
        offset += size
        return value
    }

    /// Reads `count` raw bytes.
    package mutating func read(count: Int, field: String) throws(WireFormatError) -> [UInt8] {
        guard count >= 0, remaining >= count else {
            throw .truncated(field: field, needed: count, available: remaining)
        }
        let out = Array(bytes[offset..<(offset + count)])
        offset += count
        return out
    }

    /// Reads `count` bytes as a slice without copying.
    package mutating func readSlice(count: Int, field: String) throws(WireFormatError) -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else {
            throw .truncated(field: field, needed: count, available: remaining)
        }
        let out = bytes[offset..<(offset + count)]
        offset += count
        return out
    }

    /// Reads a LE32 count and checks it against `maximum` before anything is allocated.
    package mutating func readCount(field: String, maximum: Int) throws(WireFormatError) -> Int {
        let count = Int(try read(UInt32.self, field: field))
        guard count <= maximum else { throw .countOutOfRange(field: field, count: count, maximum: maximum) }
        return count
    }

    /// Reads a client index and checks 1 ≤ index ≤ n.
    package mutating func readIndex(field: String, clientCount: Int) throws(WireFormatError) -> UInt32 {
        let index = try read(UInt32.self, field: field)
        guard index >= 1, Int(index) <= clientCount else {
            throw .indexOutOfRange(field: field, index: index, clientCount: clientCount)
        }
        return index
    }

    /// Throws unless every byte was consumed.
    package func finish() throws(WireFormatError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining) }
    }
}
