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
                let sessionId = broadcast.sessionId(configurationDigest: config.digest)
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
        guard case let .seedReveals(_, contributions)? = h.pending.first?.message else {
            Issue.record("no seed reveals")
            return
        }
        // Clients refuse a reveal list with a changed contribution, or one that leaves an advertiser out (tried
        // on copies: clients are values, so the session below goes on with all twelve).
        var changed = contributions
        changed[3].contribution[7] ^= 0x40
        var first = h.clients[1]!
        #expect(
            throws: SecAggError.inconsistentServerMessage(
                reason: "client 4's seed contribution does not match its commitment")
        ) {
            _ = try first.handle(.seedReveals(sessionId: sid, contributions: changed))
        }
        if case .aborted = first.state {} else { Issue.record("client 1 should have aborted") }
        var second = h.clients[2]!
        #expect(
            throws: SecAggError.inconsistentServerMessage(
                reason: "the seed reveals do not cover exactly the advertised clients")
        ) {
            _ = try second.handle(.seedReveals(sessionId: sid, contributions: Array(contributions.dropLast())))
        }
        // A reveal list for another session is only rejected (the client is unchanged and carries on).
        let before = h.clients[3]!.state
        #expect(throws: SecAggError.wrongSession) {
            _ = try h.clients[3]!.handle(
                .seedReveals(sessionId: [UInt8](repeating: 9, count: 32), contributions: contributions))
        }
        #expect(h.clients[3]!.state == before)
        try h.deliver()
        let result = try #require(try h.finish())
        #expect(result.includedClients.map(\.rawValue) == Array(1...12))
        #expect(result.vectors == h.expectedSum(of: Array(1...12)))
    }

    /// The ring comes from every revealed contribution: the same key broadcast with one honest contribution
    /// changed gives another graph.
    @Test func theRingDependsOnEveryContribution() throws {
        var h = try Harness(n: 16, t: 3, label: "ring depends", graph: .harary(degree: 4))
        try h.run(until: .shareKeys)
        guard case let .seedReveals(sid, contributions)? = h.pending.first?.message else { return }
        let original = SeedContribution.graphSeed(sessionId: sid, contributions: contributions)
        for i in contributions.indices {
            var other = contributions
            other[i].contribution[0] ^= 1
            #expect(SeedContribution.graphSeed(sessionId: sid, contributions: other) != original)
        }
        let graph = try h.configuration.makeGraph(graphSeed: original)
        for u in UInt32(1)...16 {
            #expect(graph.neighbours(of: u) == h.server.neighbours(of: ClientID(u)).map(\.rawValue))
        }
    }
}
