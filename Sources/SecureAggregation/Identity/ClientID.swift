/// A client's index in a session: 1...n, assigned by whoever runs check-in (SPEC.md §11.1). The wire format
/// carries it as LE32; the embedder's API uses this type so that an index cannot be confused with a count, a
/// position in an array (index − 1) or a byte.
public struct ClientID: RawRepresentable, Hashable, Comparable, Sendable, Codable, ExpressibleByIntegerLiteral,
    CustomStringConvertible
{
    /// The index, 1...n.
    public let rawValue: UInt32

    /// The client with index `rawValue`.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The client with index `rawValue`.
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// The client with index `value` (a literal in code).
    public init(integerLiteral value: UInt32) { rawValue = value }

    /// The client at `position` (0-based, as in an array of n clients): index position + 1; nil when
    /// `position` is negative or too large for an index.
    public init?(position: Int) {
        guard position >= 0, position < Int(UInt32.max) else { return nil }
        rawValue = UInt32(position + 1)
    }

    /// The 0-based position (index − 1), for arrays of n clients.
    public var position: Int { Int(rawValue) - 1 }

    /// Orders by index.
    public static func < (a: ClientID, b: ClientID) -> Bool { a.rawValue < b.rawValue }

    /// "client 3".
    public var description: String { "client \(rawValue)" }
}

/// A session id (SPEC.md §11.2): the 32-byte hash of the key broadcast, known to both sides once round 0
/// closed. Public (it binds every later message to the session), so it prints as hex.
public struct SessionID: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes.
    public let bytes: [UInt8]

    /// Wraps `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Lower-case hex.
    public var description: String { bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined() }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
