/// Per-recipient messages of an outbox, ascending by recipient when the engine makes them. Either stored, or — for
/// rounds whose messages are large in total (the neighbourhoods of a sparse graph: O(n · (k + log n)) bytes, the
/// forwarded shares: O(n · k)) — made one at a time when an element is read, so that a transport that sends them in
/// turn never holds them all (SPEC.md §11.8). Reading an element twice makes it twice; the result is the same.
public struct OutboxMessages<Message: Sendable>: RandomAccessCollection, Sendable, ExpressibleByArrayLiteral {
    /// A recipient and its message.
    public typealias Element = (recipient: ClientID, message: Message)

    private var stored: [Element]
    private var deferredRecipients: [ClientID]
    /// Makes the message of the recipient at a position of `deferredRecipients`.
    private var make: (@Sendable (Int) -> Message)?
    private var size: (@Sendable (ClientID) -> Int)?
    /// Makes the encoded message of the recipient at a position of `deferredRecipients`, when its maker can write
    /// the bytes without the typed message (the same bytes the wire format encodes from it).
    private var encodedMake: (@Sendable (Int) -> [UInt8])?

    /// Stored messages.
    public init(_ elements: [Element] = []) {
        stored = elements
        deferredRecipients = []
        make = nil
        size = nil
        encodedMake = nil
    }

    /// Stored messages.
    public init(arrayLiteral elements: Element...) { self.init(elements) }

    /// Messages made when read: `make(r)` for each recipient r, in this order.
    /// `byteCount(r)`, when given, is the encoded size of r's message (counted without making it).
    package init(
        recipients: [ClientID], make: @escaping @Sendable (ClientID) -> Message,
        byteCount: (@Sendable (ClientID) -> Int)? = nil
    ) {
        self.init(recipients: recipients, makeAt: { make(recipients[$0]) }, byteCount: byteCount)
    }

    /// Messages made when read: `make(i)` for the recipient at position i of `recipients`.
    package init(
        recipients: [ClientID], makeAt make: @escaping @Sendable (Int) -> Message,
        byteCount: (@Sendable (ClientID) -> Int)? = nil
    ) {
        stored = []
        deferredRecipients = recipients
        self.make = make
        size = byteCount
        encodedMake = nil
    }

    /// Messages made when read, with a maker of their encoded bytes too: `encoded(r)` must equal the wire format's
    /// encoding of `make(r)` (``encodedMessages`` hands it to the encoded outbox).
    package init(
        recipients: [ClientID], make: @escaping @Sendable (ClientID) -> Message,
        encoded: @escaping @Sendable (ClientID) -> [UInt8], byteCount: (@Sendable (ClientID) -> Int)? = nil
    ) {
        self.init(recipients: recipients, makeAt: { make(recipients[$0]) }, byteCount: byteCount)
        encodedMake = { encoded(recipients[$0]) }
    }

    /// The encoded messages straight from their own maker, when the deferred messages have one.
    package var encodedMessages: OutboxMessages<[UInt8]>? {
        guard make != nil, let encodedMake else { return nil }
        return OutboxMessages<[UInt8]>(recipients: deferredRecipients, makeAt: encodedMake, byteCount: size)
    }

    /// The encoded size of a deferred message, when its maker knows it without making it.
    package func byteCount(for recipient: ClientID) -> Int? { size?(recipient) }

    /// True when the messages are made as they are read.
    public var isDeferred: Bool { make != nil }

    /// The recipients, in order (without making any message).
    public var recipients: [ClientID] { make == nil ? stored.map(\.recipient) : deferredRecipients }

    public var startIndex: Int { 0 }
    public var endIndex: Int { make == nil ? stored.count : deferredRecipients.count }

    public subscript(position: Int) -> Element {
        guard let make else { return stored[position] }
        return (deferredRecipients[position], make(position))
    }

    /// Adds a message (deferred messages are made first).
    public mutating func append(_ element: Element) {
        materialize()
        stored.append(element)
    }

    /// Drops the messages whose recipient matches, without making any.
    public mutating func removeRecipients(where shouldRemove: (ClientID) -> Bool) {
        guard let make else {
            stored.removeAll { shouldRemove($0.recipient) }
            return
        }
        // The makers take positions in the original list: map the kept positions back to them.
        let kept = deferredRecipients.indices.filter { !shouldRemove(deferredRecipients[$0]) }
        deferredRecipients = kept.map { deferredRecipients[$0] }
        self.make = { make(kept[$0]) }
        if let encodedMake { self.encodedMake = { encodedMake(kept[$0]) } }
    }

    /// The same recipients with each message transformed (deferred stays deferred).
    package func mapMessages<T: Sendable>(_ transform: @escaping @Sendable (Message) -> T) -> OutboxMessages<T> {
        if let make {
            return OutboxMessages<T>(recipients: deferredRecipients, makeAt: { transform(make($0)) }, byteCount: size)
        }
        return OutboxMessages<T>(stored.map { ($0.recipient, transform($0.message)) })
    }

    private mutating func materialize() {
        guard let make else { return }
        stored = deferredRecipients.indices.map { (deferredRecipients[$0], make($0)) }
        deferredRecipients = []
        self.make = nil
        size = nil
        encodedMake = nil
    }
}

/// Messages the server sends when a round closes.
public struct ServerOutbox: Sendable {
    /// One message for many recipients (encode once, send to each).
    public var broadcast: (message: ServerMessage, recipients: [ClientID])?
    /// Per-recipient messages (possibly made as they are read, ``OutboxMessages/isDeferred``).
    public var direct: OutboxMessages<ServerMessage> = []

    /// An empty outbox.
    public init() {}

    /// Every (recipient, message) pair, broadcast expanded (deferred messages are all made: a transport with many
    /// clients iterates ``direct`` instead).
    public var allMessages: [(recipient: ClientID, message: ServerMessage)] {
        var out = Array(direct)
        if let broadcast { out += broadcast.recipients.map { ($0, broadcast.message) } }
        return out
    }
}

/// The encoded form of a ``ServerOutbox``.
public struct EncodedOutbox: Sendable {
    /// One byte string for many recipients.
    public var broadcast: (bytes: [UInt8], recipients: [ClientID])?
    /// Per-recipient byte strings (possibly encoded as they are read, ``OutboxMessages/isDeferred``).
    public var direct: OutboxMessages<[UInt8]> = []

    /// An empty outbox.
    public init() {}

    /// Every (recipient, bytes) pair, broadcast expanded (deferred messages are all made: a transport with many
    /// clients iterates ``direct`` instead).
    public var allMessages: [(recipient: ClientID, bytes: [UInt8])] {
        var out = direct.map { (recipient: $0.recipient, bytes: $0.message) }
        if let broadcast { out += broadcast.recipients.map { ($0, broadcast.bytes) } }
        return out
    }
}

/// What closing a round led to, with the messages to send (``ServerOutbox`` or ``EncodedOutbox``).
///
/// Every step carries an outbox: the next round's requests, the end-of-session message that tells each client
/// the aggregation completed and whether its input is in the sum (``ServerMessage/sessionComplete(sessionId:included:)``),
/// or the abort notice for every client still in the session.
public enum ServerStep<Outbox: Sendable>: Sendable {
    /// The server now collects `round`; send the outbox.
    case nextRound(ProtocolRound, Outbox)
    /// The session completed; send the outbox (the end-of-session message).
    case completed(AggregationResult, Outbox)
    /// The session stopped for `reason` (its wire code is `reason.abortCode`); send the outbox (abort notices).
    case aborted(reason: SecAggError, Outbox)

    /// The messages to send.
    public var outbox: Outbox {
        switch self {
        case let .nextRound(_, outbox), let .completed(_, outbox), let .aborted(_, outbox): outbox
        }
    }
}

extension SecAggError {
    /// The code an abort notice carries for this reason (SPEC.md §12.3).
    public var abortCode: AbortCode {
        switch self {
        case .insufficientClients, .insufficientShares: .insufficientClients
        case .reconstructionFailed: .reconstructionFailed
        case .missingSeedReveals: .missingSeedReveals
        default: .other
        }
    }
}
