import SecAggCrypto
import SecAggGraph

/// Round 2: summing the masked inputs as they arrive (one buffer, never one per client) and collecting the
/// complaints about share ciphertexts that did not open.
struct MaskedInputRound: Sendable {
    var session: ServerSession
    let u2: ClientSet
    let commitments: [UInt32: [UInt8]]
    private var sum: [[UInt64]]
    /// Complaints by complainer: senders whose ciphertext it could not open, with their pair seeds.
    private var complaints: [UInt32: [ShareComplaint]] = [:]

    init(session: ServerSession, u2: ClientSet, commitments: [UInt32: [UInt8]]) {
        self.session = session
        self.u2 = u2
        self.commitments = commitments
        sum = session.configuration.inputs.map { [UInt64](repeating: 0, count: $0.length) }
    }

    mutating func accept(_ message: ClientMessage, from sender: UInt32) throws(SecAggError) {
        guard case let .maskedInput(sid, _, reported, vectors) = message, sid == session.sessionId else {
            throw .wrongSession
        }
        let configuration = session.configuration
        guard vectors.count == sum.count else {
            throw .invalidClientMessage(sender: sender, reason: "wrong number of vectors")
        }
        // Complaints name senders whose ciphertext was forwarded to this client (its neighbours in U2), and
        // leave it t of them.
        let graph = session.graph
        // Strictly ascending (so each pair is corrected once), as the wire decoder enforces for bytes.
        guard zip(reported, reported.dropFirst()).allSatisfy({ $0.sender < $1.sender }) else {
            throw .invalidClientMessage(sender: sender, reason: "complaints must be strictly ascending")
        }
        guard reported.allSatisfy({ u2.contains($0.sender) && graph.areNeighbours(sender, $0.sender) }) else {
            throw .invalidClientMessage(sender: sender, reason: "complaint about a client it received nothing from")
        }
        let forwardedCount = session.neighbourCount(of: sender, in: u2)
        guard forwardedCount - reported.count >= configuration.threshold else {
            throw .invalidClientMessage(
                sender: sender, reason: "complaints leave fewer than t = \(configuration.threshold) neighbours")
        }
        for (i, spec) in configuration.inputs.enumerated() where vectors[i].count != spec.length {
            throw .invalidClientMessage(sender: sender, reason: "vector \(spec.name) has the wrong shape")
        }
        // Checked and added in one pass; a vector with an element out of range is taken out again, so a
        // rejected message leaves the sum as it was.
        for (i, spec) in configuration.inputs.enumerated()
        where !spec.modulus.accumulateChecked(vectors[i], into: &sum[i]) {
            for j in 0...i { configuration.inputs[j].modulus.deduct(vectors[j], from: &sum[j]) }
            throw .invalidClientMessage(sender: sender, reason: "vector \(spec.name) has the wrong shape")
        }
        if !reported.isEmpty { complaints[sender] = reported }
    }

    /// Closes round 2 with U3: the active model asks U3 to sign it; otherwise the unmasking requests go out.
    consuming func close(u3: ClientSet) -> (ServerPhase, ServerOutbox) {
        session.liveCounts[.maskedInputCollection] = u3.count
        let masked = MaskedSum(
            session: session, u2: u2, u3: u3, commitments: commitments, complaints: complaints, sum: sum)
        var outbox = ServerOutbox()
        if session.context.isActive {
            outbox.broadcast = (
                .consistencyRequest(sessionId: session.sessionId, survivors: u3),
                u3.ids
            )
            return (.consistencyCheck(ConsistencyCheckRound(masked: masked)), outbox)
        }
        outbox.direct = OutboxMessages(masked.unmaskingRequests(to: u3, signatures: [:]))
        return (.unmasking(UnmaskingRound(masked: masked, eligible: u3)), outbox)
    }
}

/// What round 2 left: the live sets U2 and U3, the commitments, the complaints and the masked sum.
struct MaskedSum: Sendable {
    var session: ServerSession
    let u2: ClientSet
    let u3: ClientSet
    let commitments: [UInt32: [UInt8]]
    let complaints: [UInt32: [ShareComplaint]]
    var sum: [[UInt64]]

    /// True when `complainer` reported that it could not open `sender`'s ciphertext (so neither holds the
    /// other's shares on that side, and `complainer` never masked with `sender`).
    func complained(_ complainer: UInt32, about sender: UInt32) -> Bool {
        complaints[complainer]?.contains { $0.sender == sender } ?? false
    }

    /// (dropped, survivors) for the unmasking request to `client`: its neighbours in U2 \ U3 and in U3 whose
    /// shares it holds (every neighbour in U2 except those it complained about).
    func unmaskingLists(for client: UInt32) -> (dropped: [UInt32], survivors: [UInt32]) {
        var dropped: [UInt32] = []
        var survivors: [UInt32] = []
        for v in session.neighbours(of: client) where u2.contains(v) && !complained(client, about: v) {
            if u3.contains(v) { survivors.append(v) } else { dropped.append(v) }
        }
        return (dropped, survivors)
    }

    /// One unmasking request per recipient (with its neighbours' consistency signatures in the active model).
    func unmaskingRequests(to recipients: ClientSet, signatures: [UInt32: [UInt8]])
        -> [(recipient: ClientID, message: ServerMessage)]
    {
        recipients.map { w in
            let (dropped, survivors) = unmaskingLists(for: w)
            var entries: [ConsistencySignatureEntry] = []
            if session.context.isActive {
                for v in session.neighbours(of: w) {
                    if let s = signatures[v] { entries.append(ConsistencySignatureEntry(signer: v, signature: s)) }
                }
            }
            return (
                ClientID(w),
                .unmaskingRequest(
                    sessionId: session.sessionId, recipient: w, dropped: dropped, survivors: survivors,
                    signatures: entries)
            )
        }
    }
}

extension RingModulus {
    /// Adds a masked vector into a running sum, element by element in this ring (the benchmarks' ingest floor).
    package func accumulate(_ vector: [UInt64], into total: inout [UInt64]) {
        _ = accumulateChecked(vector, into: &total)
    }

    /// Adds a vector of `total.count` elements into a running sum in one pass and returns whether every element
    /// was canonical (< R). When it returns false the sum holds the unreduced addition: ``deduct(_:from:)``
    /// restores it exactly (the server's round 2).
    package func accumulateChecked(_ vector: [UInt64], into total: inout [UInt64]) -> Bool {
        precondition(vector.count == total.count, "accumulate: lengths differ")
        switch self {
        case .powerOfTwo:
            // Modular arithmetic mod 2^b: (t + v) mod 2^b − v ≡ t for any 64-bit v, so the sum is restorable even
            // when v is out of range.
            let mask = elementMask
            var high: UInt64 = 0
            total.withUnsafeMutableBufferPointer { t in
                vector.withUnsafeBufferPointer { v in
                    for k in 0..<t.count {
                        high |= v[k]
                        t[k] = (t[k] &+ v[k]) & mask
                    }
                }
            }
            return high & ~mask == 0
        case let .integer(q):
            // Checked first: a non-canonical element makes the reduced addition lossy.
            guard vector.allSatisfy({ $0 < q }) else { return false }
            total.withUnsafeMutableBufferPointer { t in
                vector.withUnsafeBufferPointer { v in
                    for k in 0..<t.count {
                        let s = t[k] &+ v[k]
                        t[k] = s >= q ? s &- q : s
                    }
                }
            }
            return true
        }
    }

    /// Undoes ``accumulateChecked(_:into:)``: exact after a true result, and after a false one for
    /// power-of-two rings (integer rings add nothing when they return false, and nothing is deducted).
    package func deduct(_ vector: [UInt64], from total: inout [UInt64]) {
        switch self {
        case .powerOfTwo:
            let mask = elementMask
            total.withUnsafeMutableBufferPointer { t in
                vector.withUnsafeBufferPointer { v in
                    for k in 0..<t.count { t[k] = (t[k] &- v[k]) & mask }
                }
            }
        case let .integer(q):
            guard vector.allSatisfy({ $0 < q }) else { return }
            for k in total.indices { total[k] = subtract(total[k], vector[k]) }
        }
    }
}
