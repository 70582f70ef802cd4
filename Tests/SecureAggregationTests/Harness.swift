import SecAggCrypto
import SecureAggregation

/// A step-by-step session for adversarial tests: the test holds the messages between rounds and may
/// tamper with them before delivery.
struct Harness {
    var configuration: SessionConfiguration
    var server: SecAggServer
    var clients: [UInt32: SecAggClient] = [:]
    var inputs: [UInt32: [[UInt64]]]
    var rng: DeterministicRandomGenerator
    var wire: WireFormat
    /// Active model: each client's signing key.
    var signingKeys: [UInt32: Ed25519.PrivateKey]
    /// Server → client messages of the current round, not yet delivered.
    var pending: [(recipient: UInt32, message: ServerMessage)] = []
    /// Client → server replies of the current round, not yet delivered.
    var replies: [(sender: UInt32, message: ClientMessage)] = []

    init(
        n: Int = 5, t: Int = 3, model: SecurityModel = .semiHonest, label: String = "harness",
        graph: GraphSpecification = .complete
    ) throws {
        rng = DeterministicRandomGenerator(testLabel: label)
        let inputs = [
            InputSpecification(name: "x", length: 33, modulus: .powerOfTwo(bitWidth: 32)),
            InputSpecification(name: "y", length: 5, modulus: .integer(10_007)),
        ]
        let (config, keys) = SessionDriver.makeConfiguration(
            n: n, t: t, model: model, inputs: inputs, graph: graph, rng: &rng)
        configuration = config
        signingKeys = keys
        self.inputs = SessionDriver.randomInputs(config, rng: &rng)
        server = try SecAggServer(configuration: config)
        wire = WireFormat(configuration: config)
        for u in 1...UInt32(n) {
            clients[u] = try SecAggClient(
                configuration: config, index: ClientID(u), input: self.inputs[u] ?? [], signingKey: keys[u])
        }
    }

    /// Round 0: every client in `clients` (ascending) produces its advertisement.
    mutating func start(skipping: Set<UInt32> = []) throws {
        for u in clients.keys.sorted() where !skipping.contains(u) {
            replies.append((u, try clients[u]!.start(using: &rng)))
        }
    }

    /// Sends the held replies to the server (through the wire format).
    mutating func flushReplies() throws {
        for (sender, message) in replies {
            try server.receive(encoded: try wire.encode(message), from: ClientID(sender))
        }
        replies = []
    }

    /// Closes the round on the server; its messages become `pending`. Throws the reason when the server aborted
    /// (its notices are then pending).
    mutating func advance() throws {
        try flushReplies()
        let step = try server.advance()
        pending = step.outbox.allMessages.map { ($0.recipient.rawValue, $0.message) }.sorted {
            $0.recipient < $1.recipient
        }
        if case let .aborted(reason, _) = step { throw reason }
    }

    /// Delivers the pending messages (through the wire format) and holds the replies.
    mutating func deliver(skipping: Set<UInt32> = []) throws {
        for (recipient, message) in pending where !skipping.contains(recipient) {
            let bytes = wire.encode(message)
            if let reply = try clients[recipient]!.handle(encoded: bytes, using: &rng) {
                replies.append((recipient, try wire.decodeClientMessage(reply)))
            }
        }
        pending = []
    }

    /// Starts the session and runs it honestly until the server messages that start `round` are pending (not yet
    /// delivered). `skip[r]` are the clients that do not answer in round r (round 0: do not advertise).
    mutating func run(until round: ProtocolRound, skip: [ProtocolRound: Set<UInt32>] = [:]) throws {
        try start(skipping: skip[.advertiseKeys] ?? [])
        try advance()
        var current = configuration.round(after: .advertiseKeys) ?? .unmasking
        while current != round {
            try deliver(skipping: skip[current] ?? [])
            try advance()
            guard let next = configuration.round(after: current) else { return }
            current = next
        }
    }

    /// Runs the remaining rounds honestly and returns the result.
    mutating func finish() throws -> AggregationResult? {
        while true {
            if case .completed = server.state { return server.result }
            if !replies.isEmpty || pending.isEmpty { try advance() }
            if case .completed = server.state { return server.result }
            try deliver()
        }
    }

    func expectedSum(of included: [UInt32]) -> [[UInt64]] {
        SessionDriver(configuration: configuration, inputs: inputs).expectedSum(of: included)
    }
}

extension SecAggServer {
    /// Tests name clients by their bare index.
    @_disfavoredOverload mutating func receive(encoded bytes: [UInt8], from sender: UInt32) throws(SecAggError) {
        try receive(encoded: bytes, from: ClientID(sender))
    }

    /// Tests name clients by their bare index.
    @_disfavoredOverload mutating func receive(_ message: ClientMessage, from sender: UInt32) throws(SecAggError) {
        try receive(message, from: ClientID(sender))
    }
}
