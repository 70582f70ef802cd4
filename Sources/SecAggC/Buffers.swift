public import CSecAgg
internal import CSodiumShims
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Byte strings the library hands out (`secagg_buffer`): allocated with `malloc`, remembered until
/// `secagg_buffer_free` zeroises and releases them, so that a pointer the library did not allocate, or one
/// already released, is ignored instead of being passed to `free`.
enum Buffers {
    private static let live = Mutex(Set<UInt>())

    /// Copies `bytes` into a new buffer and stores it in `out` (an empty array gives {NULL, 0}).
    static func store(_ bytes: [UInt8], in out: UnsafeMutablePointer<secagg_buffer>) throws(CError) {
        out.pointee = secagg_buffer(data: nil, length: 0)
        guard !bytes.isEmpty else { return }
        guard let memory = malloc(bytes.count) else {
            throw CError(
                status: Int32(SECAGG_INTERNAL_ERROR), kind: "outOfMemory",
                message: "cannot allocate \(bytes.count) bytes")
        }
        bytes.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress.unsafelyUnwrapped, byteCount: $0.count) }
        _ = live.withLock { $0.insert(UInt(bitPattern: memory)) }
        out.pointee = secagg_buffer(data: memory.assumingMemoryBound(to: UInt8.self), length: bytes.count)
    }

    /// Stores the UTF-8 of `text`.
    static func store(_ text: String, in out: UnsafeMutablePointer<secagg_buffer>) throws(CError) {
        try store(Array(text.utf8), in: out)
    }

    /// Zeroises and releases a buffer this library allocated; ignores anything else.
    static func release(_ buffer: UnsafeMutablePointer<secagg_buffer>?) {
        guard let buffer, let data = buffer.pointee.data else { return }
        let known = live.withLock { $0.remove(UInt(bitPattern: data)) != nil }
        guard known else { return }
        CSodiumShims_memzero(data, buffer.pointee.length)
        free(data)
        buffer.pointee = secagg_buffer(data: nil, length: 0)
    }
}

/// Releases a buffer the library returned.
@_cdecl("secagg_buffer_free")
public func secaggBufferFree(_ buffer: UnsafeMutablePointer<secagg_buffer>?) {
    Buffers.release(buffer)
}

/// Checked access to the caller's memory.
enum Arguments {
    /// A byte count or element count from C as an `Int`.
    static func count(_ value: Int, _ name: String) throws(CError) -> Int {
        guard value >= 0 else { throw .argument("\(name) is too large") }
        return value
    }

    /// The `count` elements at `pointer` (NULL only when `count` is 0), copied.
    static func array<T>(_ pointer: UnsafePointer<T>?, count: Int, _ name: String) throws(CError) -> [T] {
        let count = try Self.count(count, "\(name) length")
        guard count > 0 else { return [] }
        guard let pointer else { throw .argument("\(name) is NULL but its length is \(count)") }
        return Array(UnsafeBufferPointer(start: pointer, count: count))
    }

    /// The `count` bytes at `pointer`, copied.
    static func bytes(_ pointer: UnsafePointer<UInt8>?, count: Int, _ name: String) throws(CError) -> [UInt8] {
        try array(pointer, count: count, name)
    }

    /// `pointer` when it is not NULL.
    static func required<T>(_ pointer: T?, _ name: String) throws(CError) -> T {
        guard let pointer else { throw .argument("\(name) is NULL") }
        return pointer
    }

    /// A fixed-size output: `pointer` must hold exactly `expected` bytes; `bytes` are copied there.
    static func write(
        _ bytes: [UInt8], to pointer: UnsafeMutablePointer<UInt8>?, length: Int, _ name: String
    ) throws(CError) {
        guard let pointer else { throw .argument("\(name) is NULL") }
        guard length == bytes.count else { throw .argument("\(name) must hold \(bytes.count) bytes, not \(length)") }
        for (i, byte) in bytes.enumerated() { pointer[i] = byte }
    }

    /// Writes `values` to a caller array of `capacity` elements (at most that many) and their count to `count`.
    static func writeList(
        _ values: [UInt32], to pointer: UnsafeMutablePointer<UInt32>?, capacity: Int,
        count: UnsafeMutablePointer<Int>?
    ) throws(CError) {
        let count = try required(count, "count")
        let capacity = try Self.count(capacity, "capacity")
        let written = min(capacity, values.count)
        if written > 0 {
            guard let pointer else { throw .argument("the output array is NULL but its capacity is \(capacity)") }
            for i in 0..<written { pointer[i] = values[i] }
        }
        count.pointee = values.count
    }
}
