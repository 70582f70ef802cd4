import SecAggCrypto
import SecAggGraph
import SecureAggregation
import Testing

/// What a server that splits views achieved against client 1 (issue 11, SPEC.md §10.4 A1).
enum SplitViewOutcome: Equatable {
    /// A client refused the configuration before sending anything.
    case refusedConfiguration(SecAggError)
    /// Every client of the attack refused before revealing a share (errors by client).
    case refusedBeforeRevealing([UInt32: SecAggError])
    /// The server reconstructed both secrets of client 1 and unmasked its input.
    case recovered([UInt64])
    /// Shares were revealed but not enough for both secrets.
    case incomplete
}

/// A server that follows the protocol up to the masked inputs (written here with the public message types, as
/// an attacker would) and then tells clients 2–4 that the survivors are {2, 3, 4} and clients 1, 5, 6 that they
/// are {1, 5, 6}, each view with its own consistency signatures. Clients 2–4 then treat client 1 as dropped
/// and reveal shares of its masking key; clients 5 and 6 treat it as a survivor and reveal shares of its
/// self-mask seed. With both secrets the server removes every mask from client 1's masked input.
func splitViewAttack(threshold t: Int, label: String) throws -> SplitViewOutcome {
    var rng = DeterministicRandomGenerator(testLabel: label)
    let spec = InputSpecification(name: "x", length: 16, modulus: .powerOfTwo(bitWidth: 32))
    let (config, signing) = SessionDriver.makeConfiguration(n: 6, t: t, model: .active, inputs: [spec], rng: &rng)
    let inputs = SessionDriver.randomInputs(config, rng: &rng)
    var clients: [UInt32: SecAggClient] = [:]
    for u in UInt32(1)...6 {
        do {
            clients[u] = try SecAggClient(
                configuration: config, index: ClientID(u), input: inputs[u], signingKey: signing[u])
        } catch {
            return .refusedConfiguration(error)
        }
    }
    // Rounds 0–2, honestly.
    let digest = config.digest
    var adverts: [AdvertisedKeys] = []
    for u in UInt32(1)...6 {
        guard case let .advertiseKeys(_, keys) = try clients[u]!.start(using: &rng) else { return .incomplete }
        adverts.append(keys)
    }
    let broadcast = KeyBroadcast(entries: adverts, signed: true, committed: false)
    let sid = try broadcast.sessionId(configurationDigest: digest, clientCount: 6)
    var boxes: [UInt32: [EncryptedShare]] = [:]
    for u in UInt32(1)...6 {
        guard
            case let .shareKeys(_, _, _, shares)? = try clients[u]!.handle(
                .keysBroadcast(configurationDigest: digest, keys: broadcast), using: &rng)
        else { return .incomplete }
        for s in shares { boxes[s.peer, default: []].append(EncryptedShare(peer: u, ciphertext: s.ciphertext)) }
    }
    var maskedOne: [[UInt64]] = []
    for u in UInt32(1)...6 {
        let forwarded = (boxes[u] ?? []).sorted { $0.peer < $1.peer }
        guard
            case let .maskedInput(_, _, _, vectors)? = try clients[u]!.handle(
                .sharesForward(sessionId: sid, recipient: u, shares: forwarded), using: &rng)
        else { return .incomplete }
        if u == 1 { maskedOne = vectors }
    }
    // Round 3: two views.
    let views: [[UInt32]] = [[2, 3, 4], [1, 5, 6]]
    var refusals: [UInt32: SecAggError] = [:]
    var signatures: [UInt32: [UInt8]] = [:]
    for view in views {
        let set = ClientSet(clientCount: 6, members: view)
        for u in view {
            do {
                guard
                    case let .consistencySignature(_, _, signature)? = try clients[u]!.handle(
                        .consistencyRequest(sessionId: sid, survivors: set), using: &rng)
                else { return .incomplete }
                signatures[u] = signature
            } catch {
                refusals[u] = error
            }
        }
    }
    // Round 4: each client is told its own view.
    var keyShares: [ShamirShare] = []
    var seedShares: [ShamirShare] = []
    for view in views {
        for u in view where refusals[u] == nil {
            let others = view.filter { $0 != u }
            let dropped = (UInt32(1)...6).filter { !view.contains($0) }
            let entries = others.compactMap { v in
                signatures[v].map { ConsistencySignatureEntry(signer: v, signature: $0) }
            }
            do {
                guard
                    case let .unmaskingResponse(_, _, keys, seeds)? = try clients[u]!.handle(
                        .unmaskingRequest(
                            sessionId: sid, recipient: u, dropped: dropped, survivors: others, signatures: entries),
                        using: &rng)
                else { return .incomplete }
                keyShares += keys.filter { $0.owner == 1 }.map(\.share)
                seedShares += seeds.filter { $0.owner == 1 }.map(\.share)
            } catch {
                refusals[u] = error
            }
        }
    }
    if keyShares.isEmpty && seedShares.isEmpty { return .refusedBeforeRevealing(refusals) }
    guard keyShares.count >= t, seedShares.count >= t,
        let s1 = try? ShamirSecretSharing.reconstruct(keyShares, threshold: t, secretByteCount: 32),
        let b1 = try? ShamirSecretSharing.reconstruct(seedShares, threshold: t, secretByteCount: 32)
    else { return .incomplete }
    // y_1 = x_1 + PRG(b_1) − Σ_{v > 1} PRG(s_1v): undo every mask.
    let maskingKey = try X25519.PrivateKey(rawRepresentation: s1)
    var jobs = [MaskJob(seed: b1, negate: true)]
    for v in adverts where v.index != 1 {
        let shared = try maskingKey.sharedSecret(with: v.maskingKey)
        jobs.append(
            MaskJob(
                seed: try KeyDerivation.pairwiseMaskSeed(sharedSecret: shared, sessionId: sid, 1, v.index),
                negate: false))
    }
    var unmasked = maskedOne
    try MaskApplication.apply(jobs, to: &unmasked, inputs: [spec])
    return unmasked[0] == inputs[1]![0] ? .recovered(unmasked[0]) : .incomplete
}

@Suite("thresholds that protect privacy (issue 11)")
struct ThresholdTests {
    /// The split-view attack with t = 2 (which SPEC §10.4 A1 forbids for k = 5) is refused when the clients are
    /// configured, before any message exists; with t = 3 the clients refuse in round 3, before revealing any
    /// share. (Without the configuration check the attack recovers client 1's input exactly: the mutation
    /// script's `validate-privacy` mutant makes this test fail.)
    @Test func splitViewAttackIsRefusedBeforeAnyShareIsRevealed() throws {
        let weak = try splitViewAttack(threshold: 2, label: "split view t=2")
        guard case let .refusedConfiguration(error) = weak else {
            Issue.record("t = 2 was not refused at configuration: \(weak)")
            return
        }
        guard case let .insecureThreshold(threshold, requirement, smallest) = error else {
            Issue.record("refused for another reason: \(error)")
            return
        }
        #expect(threshold == 2)
        #expect(smallest == 3)
        #expect(requirement.contains("t > (k + C)/2"))
        #expect(error.description.contains("t ≥ 3 would pass"))

        let valid = try splitViewAttack(threshold: 3, label: "split view t=3")
        guard case let .refusedBeforeRevealing(refusals) = valid else {
            Issue.record("t = 3: \(valid)")
            return
        }
        #expect(Set(refusals.keys) == Set(UInt32(1)...6))
    }

    @Test func activeModelNeedsTwoTGreaterThanKPlusCorrupt() throws {
        var rng = DeterministicRandomGenerator(testLabel: "active rule")
        let inputs = [InputSpecification(name: "x", length: 4, modulus: .powerOfTwo(bitWidth: 16))]
        // n = 10, k = 9: 2t > 9 + C.
        for (corrupt, smallest) in [(0, 5), (1, 6), (3, 7)] {
            var (config, _) = SessionDriver.makeConfiguration(
                n: 10, t: smallest - 1, model: .active, inputs: inputs, rng: &rng)
            config.threat = ThreatAssumption(corruptClients: corrupt, droppedClients: 0)
            #expect(throws: SecAggError.self) { try config.validate() }
            do {
                try config.validate()
            } catch let SecAggError.insecureThreshold(_, _, passing) {
                #expect(passing == smallest, "C = \(corrupt)")
            }
            config.threshold = smallest
            try config.validate()
        }
    }

    @Test func semiHonestModelNeedsTAtLeastTwoAndAboveCorrupt() throws {
        var rng = DeterministicRandomGenerator(testLabel: "semi-honest rule")
        let inputs = [InputSpecification(name: "x", length: 4, modulus: .powerOfTwo(bitWidth: 16))]
        var (config, _) = SessionDriver.makeConfiguration(n: 8, t: 1, model: .semiHonest, inputs: inputs, rng: &rng)
        #expect(
            throws: SecAggError.insecureThreshold(
                threshold: 1, requirement: try config.privacyRequirement().rule, smallestSecureThreshold: 2)
        ) {
            try config.validate()
        }
        config.threshold = 2
        try config.validate()
        config.threat = ThreatAssumption(corruptClients: 4, droppedClients: 0)
        #expect(throws: SecAggError.self) { try config.validate() }
        config.threshold = 5
        try config.validate()
        // Clients and the server refuse what validate() refuses.
        config.threshold = 4
        #expect(throws: SecAggError.self) { _ = try SecAggServer(configuration: config) }
        #expect(throws: SecAggError.self) { _ = try SecAggClient(configuration: config, index: ClientID(1)) }
    }

    /// On a sparse graph the declared γ enters the finder's bound: the engine accepts exactly the thresholds
    /// the finder's privacy condition accepts.
    @Test func sparseGraphsUseTheFindersPrivacyCondition() throws {
        let n = 1000
        let found = try ParameterFinder.find(
            clientCount: n, corruptFraction: 0.05, dropoutFraction: 0.05, model: .semiHonest)
        var rng = DeterministicRandomGenerator(testLabel: "sparse rule")
        let inputs = [InputSpecification(name: "x", length: 4, modulus: .powerOfTwo(bitWidth: 16))]
        var (config, _) = SessionDriver.makeConfiguration(
            n: n, t: found.threshold, model: .semiHonest, inputs: inputs, graph: .harary(degree: found.degree),
            rng: &rng)
        config.threat = ThreatAssumption(
            corruptClients: found.corruptClientCount, droppedClients: found.dropoutClientCount, sigma: found.sigma)
        try config.validate()
        let requirement = try config.privacyRequirement()
        #expect(requirement.isMet)
        let smallest = try #require(requirement.smallestPassingThreshold)
        #expect(smallest <= found.threshold)
        config.threshold = smallest - 1
        #expect(throws: SecAggError.self) { try config.validate() }
        // The bound checked is the finder's: just below the smallest passing t it exceeds 2^−σ.
        let below = try ParameterFinder.evaluate(
            clientCount: n, corruptFraction: 0.05, dropoutFraction: 0.05, model: .semiHonest, degree: found.degree,
            threshold: smallest - 1)
        #expect(below.privacyFailure.value > -Double(found.sigma))
    }

    /// Session attempts an adversary can force (each a fresh ring, SPEC.md §10.2) are paid for in the bound.
    @Test func sessionAttemptsTightenTheFindersPrivacyTarget() throws {
        let once = try ParameterFinder.find(
            clientCount: 10_000, corruptFraction: 0.05, dropoutFraction: 0.05, model: .semiHonest)
        let often = try ParameterFinder.find(
            clientCount: 10_000, corruptFraction: 0.05, dropoutFraction: 0.05, model: .semiHonest,
            sessionAttempts: 1 << 20)
        #expect(often.degree >= once.degree)
        #expect(often.privacyFailure.value <= -Double(often.sigma) - 20)
        #expect(often.meetsBounds)
        #expect(once.privacyFailure.value > -Double(once.sigma) - 20 || once.degree == often.degree)
        #expect(throws: GraphError.self) {
            _ = try ParameterFinder.find(
                clientCount: 100, corruptFraction: 0, dropoutFraction: 0, model: .active, sessionAttempts: 0)
        }
    }
}

/// Configurations are equal exactly when their encodings (and so their digests) are: input names that differ
/// in bytes but not after Unicode normalisation make different configurations.
@Test func configurationEqualityFollowsTheEncoding() throws {
    let nonce = [UInt8](repeating: 5, count: 32)
    func configuration(_ name: String) -> SessionConfiguration {
        SessionConfiguration(
            clientCount: 4, threshold: 2,
            inputs: [InputSpecification(name: name, length: 3, modulus: .powerOfTwo(bitWidth: 16))], nonce: nonce)
    }
    let composed = configuration("\u{E9}")  // é as one scalar
    let decomposed = configuration("e\u{301}")  // e + combining acute accent
    #expect(composed.inputs[0].name == decomposed.inputs[0].name)  // String == normalises
    #expect(composed.digest != decomposed.digest)
    #expect(composed != decomposed)
    #expect(Set([composed, decomposed]).count == 2)
    #expect(try SessionConfiguration(encoded: composed.encoded) == composed)
}
