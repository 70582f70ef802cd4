import SecAggCrypto
import SecAggGraph
import SecureAggregation
import Testing

@Suite("graph seeds that cannot be ground (issue 11, SPEC.md §11.2)")
struct GraphSeedTests {
    static let inputs = [InputSpecification(name: "x", length: 8, modulus: .powerOfTwo(bitWidth: 32))]

    /// The grinding attack: the server, colluding with corrupt clients 1–6, sees every advertisement before it
    /// fixes the advertised set and re-draws the corrupt clients' keys as often as it likes (256 candidate sets
    /// per session here). Under the round-0-only rule (the ring seeded by SHA-256(label || sessionId)) it could
    /// compute each candidate's ring and keep the one that surrounds the target client 24 with corrupt
    /// neighbours. Now the ring also depends on contributions the honest clients reveal after the set is fixed:
    /// over 8 sessions the rings the adversary aimed for averaged at least 3 corrupt neighbours of 4, the rings it
    /// got average what an unbiased ring gives (4 · 6/23 ≈ 1.04).
    @Test func graphSeedCannotBeGroundFromRoundZero() throws {
        let n = 24
        let k = 4
        let corrupt = Set(UInt32(1)...6)
        let target: UInt32 = 24
        var aimed = 0
        var obtained = 0
        for session in 0..<8 {
            var rng = DeterministicRandomGenerator(testLabel: "grinding session \(session)")
            let (config, _) = SessionDriver.makeConfiguration(
                n: n, t: 3, model: .semiHonest, inputs: Self.inputs, graph: .harary(degree: k), rng: &rng)
            var honest: [UInt32: SecAggClient] = [:]
            var honestAdverts: [ClientMessage] = []
            for u in UInt32(7)...UInt32(n) {
                var client = try SecAggClient(configuration: config, index: ClientID(u))
                honestAdverts.append(try client.start(using: &rng))
                honest[u] = client
            }
            var best: (score: Int, clients: [UInt32: SecAggClient], adverts: [ClientMessage])?
            for trial in 0..<256 {
                var candidates: [UInt32: SecAggClient] = [:]
                var adverts: [ClientMessage] = []
                var trialRng = DeterministicRandomGenerator(testLabel: "grinding \(session) trial \(trial)")
                for u in corrupt.sorted() {
                    var client = try SecAggClient(configuration: config, index: ClientID(u))
                    adverts.append(try client.start(using: &trialRng))
                    candidates[u] = client
                }
                let entries = (adverts + honestAdverts).compactMap { message -> AdvertisedKeys? in
                    if case let .advertiseKeys(_, keys) = message { return keys }
                    return nil
                }
                let broadcast = KeyBroadcast(entries: entries, signed: false, committed: true)
                let sessionId = try broadcast.sessionId(configurationDigest: config.digest, clientCount: n)
                let predicted = try HararyGraph(
                    clientCount: n, degree: k, seed: Hkdf.sha256(Array("secagg/v1/graph-seed".utf8) + sessionId))
                let score = predicted.neighbours(of: target).filter { corrupt.contains($0) }.count
                if score > (best?.score ?? -1) { best = (score, candidates, adverts) }
            }
            let chosen = try #require(best)
            aimed += chosen.score
            // The session runs with the chosen candidate set; everyone reveals.
            var server = try SecAggServer(configuration: config)
            let wire = WireFormat(configuration: config)
            var clients = honest.merging(chosen.clients) { a, _ in a }
            for message in chosen.adverts + honestAdverts {
                try server.receive(encoded: try wire.encode(message), from: message.sender)
            }
            let keys = try server.advanceEncoded()
            for (id, bytes) in keys.outbox.allMessages {
                let recipient = id.rawValue
                let reply = try #require(try clients[recipient]!.handle(encoded: bytes, using: &rng))
                try server.receive(encoded: reply, from: recipient)
            }
            _ = try server.advanceEncoded()
            obtained += server.neighbours(of: ClientID(target)).filter { corrupt.contains($0.rawValue) }.count
        }
        #expect(aimed >= 3 * 8, "the round-0 rule would have let the adversary choose")
        #expect(obtained <= 2 * 8, "obtained \(obtained) corrupt neighbours over 8 sessions, aimed at \(aimed)")
    }

    /// Withholding a reveal (or dropping out in round 0′) aborts the session before any share is made, so the
    /// adversary learns the ring but gains nothing but a restart (SPEC.md §11.2).
    @Test func aMissingRevealAbortsBeforeAnyShareIsMade() throws {
        var h = try Harness(n: 12, t: 3, label: "missing reveal", graph: .harary(degree: 4))
        try h.run(until: .seedReveal)
        #expect(h.server.state == .collecting(.seedReveal))
        try h.deliver(skipping: [5])
        #expect(h.replies.allSatisfy { if case .seedReveal = $0.message { true } else { false } })
        #expect(throws: SecAggError.missingSeedReveals(clients: [5])) { try h.advance() }
        // Every advertiser, the withholding one included, is told why.
        #expect(h.pending.map(\.recipient) == Array(1...12))
        for (_, notice) in h.pending {
            guard case .abort(_, let code) = notice else {
                Issue.record("not an abort notice: \(notice)")
                return
            }
            #expect(code == .missingSeedReveals)
        }
        for u in UInt32(1)...12 where u != 5 { #expect(h.clients[u]!.state == .shareKeys) }
    }

    @Test func forgedRevealsAreRefused() throws {
        var h = try Harness(n: 12, t: 3, label: "forged reveal", graph: .harary(degree: 4))
        try h.run(until: .seedReveal)
        try h.deliver()
        // The server refuses a contribution that does not open the commitment, and keeps the honest one.
        guard case let .seedReveal(sid, sender, contribution) = h.replies[0].message else { return }
        var forged = contribution
        forged[0] ^= 1
        #expect(throws: SecAggError.self) {
            try h.server.receive(.seedReveal(sessionId: sid, sender: sender, contribution: forged), from: sender)
        }
        try h.advance()
        guard
            case let .neighbourhood(_, recipient, root, proof, ringRoot, records, multiproof)? = h.pending.first?
                .message
        else {
            Issue.record("no neighbourhood")
            return
        }
        #expect(recipient == 1)
        // Each forgery is tried on a copy of client 1 (clients are values); each aborts it with its reason.
        func refuses(_ message: ServerMessage, _ reason: String) {
            var copy = h.clients[1]!
            #expect(throws: SecAggError.inconsistentServerMessage(reason: reason)) { _ = try copy.handle(message) }
            if case .aborted = copy.state {} else { Issue.record("client 1 should have aborted: \(reason)") }
        }
        func with(
            ringRoot changedRoot: [UInt8]? = nil, multiproof changedProof: [UInt8]? = nil,
            _ edit: (inout [NeighbourRecord]) -> Void = { _ in }
        ) -> ServerMessage {
            var changed = records
            edit(&changed)
            return .neighbourhood(
                sessionId: sid, recipient: 1, revealRoot: root, proof: proof, ringRoot: changedRoot ?? ringRoot,
                neighbours: changed, multiproof: changedProof ?? multiproof)
        }
        let notShown = "the ring tree's multiproof does not show this neighbourhood"
        // A neighbour's keys changed, or a neighbour claimed absent: not the leaves of the ring tree.
        let present = try #require(records.firstIndex { $0.keys != nil })
        refuses(with { $0[present].keys!.seedCommitment[7] ^= 0x40 }, notShown)
        refuses(with { $0[present].keys!.maskingKey = $0[present].keys!.encryptionKey }, notShown)
        refuses(with { $0[present].keys = nil }, notShown)
        // A wrong, short, long or missing multiproof, or another ring root.
        var flipped = multiproof
        flipped[flipped.count / 2] ^= 1
        refuses(with(multiproof: flipped), notShown)
        refuses(with(multiproof: Array(multiproof.dropLast(32))), notShown)
        refuses(with(multiproof: multiproof + [UInt8](repeating: 0, count: 32)), notShown)
        refuses(with(multiproof: []), notShown)
        var otherRoot = ringRoot
        otherRoot[0] ^= 1
        refuses(with(ringRoot: otherRoot), notShown)
        // A neighbour left out, or this client's own contribution not in the tree the seed comes from.
        refuses(with { $0.removeLast() }, "the neighbourhood does not list exactly this client's neighbours")
        var otherProof = proof
        otherProof[0] ^= 1
        refuses(
            .neighbourhood(
                sessionId: sid, recipient: 1, revealRoot: root, proof: otherProof, ringRoot: ringRoot,
                neighbours: records, multiproof: multiproof),
            "the reveal tree does not hold this client's contribution")
        // Another session's ring tree (its root and multiproof, with this session's records) does not hold these
        // leaves: this client's own key leaf differs there.
        var other = try Harness(n: 12, t: 3, label: "forged reveal, another session", graph: .harary(degree: 4))
        try other.run(until: .shareKeys)
        guard case let .neighbourhood(_, _, _, _, foreignRoot, _, foreignProof)? = other.pending.first?.message else {
            Issue.record("no neighbourhood in the other session")
            return
        }
        refuses(with(ringRoot: foreignRoot, multiproof: foreignProof), notShown)
        // A message for another session is only rejected (the client is unchanged and carries on).
        let before = h.clients[3]!.state
        #expect(throws: SecAggError.wrongSession) {
            _ = try h.clients[3]!.handle(
                .neighbourhood(
                    sessionId: [UInt8](repeating: 9, count: 32), recipient: 3, revealRoot: root, proof: proof,
                    ringRoot: ringRoot, neighbours: records, multiproof: multiproof))
        }
        #expect(h.clients[3]!.state == before)
        try h.deliver()
        let result = try #require(try h.finish())
        #expect(result.includedClients.map(\.rawValue) == Array(1...12))
        #expect(result.vectors == h.expectedSum(of: Array(1...12)))
    }

    /// A client that never advertised is an absent leaf of the key tree and so of the ring tree: its neighbours get
    /// an absent record for it, shown by the same multiproof, and the session completes without it.
    @Test func absentNeighboursAreShownByTheMultiproof() throws {
        var h = try Harness(n: 20, t: 3, label: "absent neighbour", graph: .harary(degree: 4))
        try h.run(until: .shareKeys, skip: [.advertiseKeys: [7]])
        var absentRecords = 0
        for (recipient, message) in h.pending {
            guard case let .neighbourhood(_, _, _, _, _, records, _) = message else {
                Issue.record("not a neighbourhood")
                continue
            }
            #expect(recipient != 7)
            for record in records where record.index == 7 {
                #expect(record.keys == nil)
                absentRecords += 1
            }
        }
        // Client 7 has k = 4 neighbours, each of which lists it as absent.
        #expect(absentRecords == 4)
        try h.deliver()
        let included = (UInt32(1)...20).filter { $0 != 7 }
        let result = try #require(try h.finish())
        #expect(result.includedClients.map(\.rawValue) == included)
        #expect(result.vectors == h.expectedSum(of: included))
    }

    /// On sparse graphs the message that starts round 0′ — KeysBroadcast (active model) or KeyCommitment
    /// (semi-honest) — for another configuration is only rejected: the client keeps its state and goes on.
    @Test(arguments: [SecurityModel.semiHonest, .active])
    func aRoundZeroPrimeMessageForAnotherConfigurationIsRejected(model: SecurityModel) throws {
        var h = try Harness(
            n: 12, t: model == .active ? 4 : 3, model: model, label: "sparse digest", graph: .harary(degree: 6))
        try h.run(until: .seedReveal)
        let (recipient, message) = try #require(h.pending.first)
        let other = [UInt8](repeating: 0x5A, count: 32)
        let forged: ServerMessage
        switch message {
        case let .keysBroadcast(_, keys): forged = .keysBroadcast(configurationDigest: other, keys: keys)
        case let .keyCommitment(_, count, root, keys, proof):
            forged = .keyCommitment(configurationDigest: other, count: count, keyRoot: root, keys: keys, proof: proof)
        default:
            Issue.record("round 0′ did not start with a key broadcast or commitment: \(message)")
            return
        }
        let before = h.clients[recipient]!.state
        #expect(throws: SecAggError.wrongSession) { _ = try h.clients[recipient]!.handle(forged) }
        #expect(h.clients[recipient]!.state == before)
        try h.deliver()
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...12)))
    }

    /// The key tree binds each client's view: a proof from another session's tree, or a root that leaves this client
    /// out, is refused before the client reveals anything.
    @Test func keyCommitmentsAreChecked() throws {
        var h = try Harness(n: 12, t: 3, label: "key commitment", graph: .harary(degree: 4))
        try h.run(until: .seedReveal)
        var other = try Harness(n: 12, t: 3, label: "key commitment, another session", graph: .harary(degree: 4))
        try other.run(until: .seedReveal)
        guard case let .keyCommitment(digest, count, root, keys, proof)? = h.pending.first?.message,
            case let .keyCommitment(_, _, otherRoot, _, otherProof)? = other.pending.first?.message
        else {
            Issue.record("no key commitment")
            return
        }
        func refuses(_ message: ServerMessage) {
            var copy = h.clients[1]!
            #expect(
                throws: SecAggError.inconsistentServerMessage(reason: "the key tree does not hold this client's keys")
            ) { _ = try copy.handle(message) }
        }
        refuses(.keyCommitment(configurationDigest: digest, count: count, keyRoot: root, keys: keys, proof: otherProof))
        refuses(.keyCommitment(configurationDigest: digest, count: count, keyRoot: otherRoot, keys: keys, proof: proof))
        var flipped = proof
        flipped[flipped.count - 1] ^= 0x80
        refuses(.keyCommitment(configurationDigest: digest, count: count, keyRoot: root, keys: keys, proof: flipped))
        // A count of t advertisers is too few for anyone to have t live neighbours.
        var few = h.clients[1]!
        #expect(throws: SecAggError.insufficientClients(round: .seedReveal, count: 3, required: 4)) {
            _ = try few.handle(
                .keyCommitment(configurationDigest: digest, count: 3, keyRoot: root, keys: keys, proof: proof))
        }
        // Two roots give two session ids: clients shown different key lists can never agree on anything later.
        var a = h.clients[2]!
        var b = h.clients[2]!
        guard case let .keyCommitment(_, _, _, keys2, proof2)? = h.pending.dropFirst().first?.message else { return }
        _ = try a.handle(
            .keyCommitment(configurationDigest: digest, count: count, keyRoot: root, keys: keys2, proof: proof2))
        _ = try b.handle(
            .keyCommitment(configurationDigest: digest, count: count - 1, keyRoot: root, keys: keys2, proof: proof2))
        #expect(a.sessionID != nil && b.sessionID != nil && a.sessionID != b.sessionID)
        try h.deliver()
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...12)))
    }

    /// Active model: a server that showed two key lists (so two session ids) cannot pass one view's consistency
    /// signature off as the other's — the client checking it aborts before revealing any share (SPEC.md §11.2).
    @Test func anActiveServerShowingTwoKeyListsIsCaughtByTheConsistencySignatures() throws {
        var h = try Harness(n: 12, t: 4, model: .active, label: "two key lists", graph: .harary(degree: 6))
        try h.run(until: .unmasking)
        guard case let .unmaskingRequest(sid, recipient, dropped, survivors, signatures)? = h.pending.first?.message,
            let forged = signatures.first
        else {
            Issue.record("no unmasking request")
            return
        }
        // The other view: a different key list gives a different session id (any other 32 bytes here).
        var otherSid = sid
        otherSid[0] ^= 1
        let u3 = ClientSet(clientCount: 12, members: 1...12)
        let key = try #require(h.signingKeys[forged.signer])
        var changed = signatures
        changed[0].signature = key.signature(
            for: ConsistencyCheck.signedBytes(sessionId: otherSid, signer: forged.signer, survivors: u3))
        var client = h.clients[recipient]!
        #expect(throws: SecAggError.self) {
            _ = try client.handle(
                .unmaskingRequest(
                    sessionId: sid, recipient: recipient, dropped: dropped, survivors: survivors, signatures: changed))
        }
        if case .aborted = client.state {} else { Issue.record("the client should have aborted") }
        // Honestly relayed, the session completes.
        try h.deliver()
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...12)))
    }

    /// Active model on a sparse graph: the KeysBroadcast must carry this client's own seed commitment and at least
    /// t + 1 advertisers, and the SeedReveals must be of this session, cover exactly the advertised clients and each
    /// open its commitment. Each forgery is tried on a copy of a client (clients are values) and refused; honestly
    /// relayed, the session completes.
    @Test func activeSeedRevealsAreChecked() throws {
        var h = try Harness(n: 12, t: 4, model: .active, label: "active reveals", graph: .harary(degree: 6))
        try h.run(until: .seedReveal)
        guard case let .keysBroadcast(digest, keys)? = h.pending.first?.message, h.pending.first?.recipient == 1
        else {
            Issue.record("no key broadcast to client 1")
            return
        }
        // Client 1's own entry with another seed commitment.
        var entries = keys.entries
        entries[0].seedCommitment[5] ^= 0x10
        var copy = h.clients[1]!
        #expect(
            throws: SecAggError.inconsistentServerMessage(
                reason: "the key broadcast does not contain this client's keys")
        ) {
            _ = try copy.handle(
                .keysBroadcast(
                    configurationDigest: digest, keys: KeyBroadcast(entries: entries, signed: true, committed: true)))
        }
        // t advertisers (client 1 among them) are too few for anyone to have t live neighbours.
        copy = h.clients[1]!
        let few = KeyBroadcast(entries: Array(keys.entries.prefix(4)), signed: true, committed: true)
        #expect(throws: SecAggError.insufficientClients(round: .seedReveal, count: 4, required: 5)) {
            _ = try copy.handle(.keysBroadcast(configurationDigest: digest, keys: few))
        }
        try h.deliver()
        try h.advance()
        guard case let .seedReveals(sid, contributions)? = h.pending.first?.message else {
            Issue.record("no seed reveals")
            return
        }
        func refuses(_ list: [SeedContribution], _ reason: String) {
            var copy = h.clients[1]!
            #expect(throws: SecAggError.inconsistentServerMessage(reason: reason)) {
                _ = try copy.handle(.seedReveals(sessionId: sid, contributions: list))
            }
            if case .aborted = copy.state {} else { Issue.record("client 1 should have aborted: \(reason)") }
        }
        var changed = contributions
        changed[3].contribution[7] ^= 0x40
        refuses(changed, "client \(changed[3].index)'s seed contribution does not match its commitment")
        refuses(Array(contributions.dropLast()), "the seed reveals do not cover exactly the advertised clients")
        // Reveals for another session are only rejected: the client is unchanged and carries on.
        let before = h.clients[2]!.state
        #expect(throws: SecAggError.wrongSession) {
            _ = try h.clients[2]!.handle(
                .seedReveals(sessionId: [UInt8](repeating: 9, count: 32), contributions: contributions))
        }
        #expect(h.clients[2]!.state == before)
        try h.deliver()
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...12)))
    }

    /// The ring comes from every revealed contribution: changing any one changes the reveal tree's root, and so the
    /// graph seed; the clients' pointwise neighbourhoods equal the server's stored ring.
    @Test func theRingDependsOnEveryContribution() throws {
        for (n, k) in [(16, 4), (120, 4)] {
            var h = try Harness(n: n, t: 3, label: "ring depends \(n)", graph: .harary(degree: k))
            try h.run(until: .shareKeys)
            guard case let .neighbourhood(sid, _, root, _, _, _, _)? = h.pending.first?.message else { return }
            var rng = DeterministicRandomGenerator(testLabel: "contributions \(n)")
            let contributions = (0..<n).map { _ in rng.bytes(count: 32) }
            func revealRoot(_ list: [[UInt8]]) throws -> [UInt8] {
                let leaves = list.enumerated().flatMap {
                    SessionTrees.revealLeafHash(index: UInt32($0.offset + 1), contribution: $0.element)
                }
                return try MerkleTree(leafHashes: leaves, slotCount: n).root
            }
            let original = try revealRoot(contributions)
            for i in stride(from: 0, to: n, by: max(1, n / 16)) {
                var changed = contributions
                changed[i][i % 32] ^= 1
                #expect(try revealRoot(changed) != original)
            }
            let seed = SessionTrees.graphSeed(sessionId: sid, revealRoot: root)
            let table = try h.configuration.makeGraph(graphSeed: seed)
            let pointwise = try h.configuration.makeGraph(graphSeed: seed, evaluation: .pointwise)
            for u in UInt32(1)...UInt32(n) {
                #expect(table.neighbours(of: u) == h.server.neighbours(of: ClientID(u)).map(\.rawValue))
                #expect(pointwise.neighbours(of: u) == table.neighbours(of: u))
            }
            try h.deliver()
            let result = try #require(try h.finish())
            #expect(result.vectors == h.expectedSum(of: Array(1...UInt32(n))))
        }
    }
}
