import SecAggCrypto

/// Round 4: collecting the revealed shares, then removing every mask from the sum (SPEC.md §11.4).
struct UnmaskingRound: Sendable {
    var masked: MaskedSum
    /// The clients asked for shares: U3, or U4 in the active model.
    let eligible: ClientSet
    /// Revealed shares by owner index (slot 0 unused), in the order they arrived.
    private var maskingKeyShares: [[ShamirShare]]
    private var selfMaskShares: [[ShamirShare]]

    init(masked: MaskedSum, eligible: ClientSet) {
        self.masked = masked
        self.eligible = eligible
        maskingKeyShares = Array(repeating: [], count: masked.session.configuration.clientCount + 1)
        selfMaskShares = maskingKeyShares
    }

    mutating func accept(_ message: ClientMessage, from sender: UInt32) throws(SecAggError) {
        guard case let .unmaskingResponse(sid, _, keyShares, seedShares) = message, sid == masked.session.sessionId
        else { throw .wrongSession }
        let (dropped, survivors) = masked.unmaskingLists(for: sender)
        guard keyShares.map(\.owner) == dropped, seedShares.map(\.owner) == survivors else {
            throw .invalidClientMessage(sender: sender, reason: "shares do not match the unmasking request")
        }
        let fromSender: (RevealedShare) -> Bool = { $0.share.x == sender && $0.share.chunkCount == 5 }
        guard keyShares.allSatisfy(fromSender), seedShares.allSatisfy(fromSender) else {
            throw .invalidClientMessage(sender: sender, reason: "share x-coordinate is not the sender's index")
        }
        for s in keyShares { maskingKeyShares[Int(s.owner)].append(s.share) }
        for s in seedShares { selfMaskShares[Int(s.owner)].append(s.share) }
    }

    /// The secrets to reconstruct, in the order errors are reported: the self-mask seeds of the included clients,
    /// then the masking keys of the clients that dropped after sharing keys whose pair masks some included
    /// neighbour added (every included neighbour that did not complain about its ciphertext).
    private func requests() -> [ReconstructionRequest] {
        let (u2, u3) = (masked.u2, masked.u3)
        var requests: [ReconstructionRequest] = []
        for u in u3 {
            requests.append(ReconstructionRequest(owner: u, kind: .selfMaskSeed, shares: selfMaskShares[Int(u)]))
        }
        for u in u2
        where !u3.contains(u)
            && masked.session.neighbours(of: u).contains(where: { u3.contains($0) && !masked.complained($0, about: u) })
        {
            requests.append(ReconstructionRequest(owner: u, kind: .maskingKey, shares: maskingKeyShares[Int(u)]))
        }
        return requests
    }

    /// Closes round 4 with U5 and removes the masks on up to `workers` threads (the calling one included).
    consuming func finish(u5: ClientSet, workers: Int) throws(SecAggError) -> AggregationResult {
        let session = masked.session
        let t = session.configuration.threshold
        let (u3, sid) = (masked.u3, session.sessionId)
        let requests = requests()
        selfMaskShares = []
        maskingKeyShares = []
        let commitments = masked.commitments
        let keys = session.advertised
        // A reconstructed secret must match what its owner committed to: the self-mask seed its commitment of
        // round 1, the masking key its advertised public key (SPEC.md §11.4).
        let verify: @Sendable (ReconstructionRequest, SecretBytes) -> Bool = { request, secret in
            switch request.kind {
            case .selfMaskSeed:
                guard let commitment = commitments[request.owner] else { return false }
                return selfMaskCommitment(sessionId: sid, owner: request.owner, seed: secret) == commitment
            case .maskingKey:
                guard let key = try? X25519.PrivateKey(rawRepresentation: secret), let advertised = keys[request.owner]
                else { return false }
                return key.publicKey == advertised.maskingKey
            }
        }
        let secrets = LagrangeCache.reconstructAll(requests, threshold: t, concurrency: workers, verify: verify)

        // Self masks of every included client; the masking keys of the dropped ones. Errors in request order,
        // as if the secrets were reconstructed one after the other.
        var jobs: [MaskJob] = []
        var dropped: [(owner: UInt32, key: X25519.PrivateKey)] = []
        var flagged: [FlaggedClient] = []
        for (request, result) in zip(requests, secrets) {
            let reconstructed = try result.get()
            for x in reconstructed.faultyShares {
                flagged.append(
                    FlaggedClient(
                        client: ClientID(x), reason: .invalidShare(owner: ClientID(request.owner), kind: request.kind)))
            }
            switch request.kind {
            case .selfMaskSeed:
                jobs.append(MaskJob(seed: reconstructed.secret, negate: true))
            case .maskingKey:
                guard let key = try? X25519.PrivateKey(rawRepresentation: reconstructed.secret) else {
                    throw .reconstructionFailed(owner: request.owner, kind: .maskingKey)
                }
                dropped.append((request.owner, key))
            }
        }
        jobs += try pairMaskJobs(dropped: dropped, workers: workers)
        jobs += complaintJobs(flagging: &flagged)
        var vectors = masked.sum
        masked.sum = []
        do {
            try MaskApplication.apply(jobs, to: &vectors, inputs: session.configuration.inputs, concurrency: workers)
        } catch {
            throw .crypto(error)
        }
        var counts = session.liveCounts
        counts[.unmasking] = u5.count
        flagged.sort { ($0.client, $0.description) < ($1.client, $1.description) }
        return AggregationResult(
            vectors: vectors, includedClients: u3.ids, liveCounts: counts, flaggedClients: flagged)
    }

    /// Pairwise masks between clients that dropped after sharing keys and their surviving neighbours (pairs of two
    /// dropped clients cancel and are never expanded; a survivor that complained about the dropped client never
    /// added the mask). One X25519 + HKDF per pair; each dropped client's agreements run as one batch (one private
    /// key, many peers), clients on every worker.
    private func pairMaskJobs(dropped: [(owner: UInt32, key: X25519.PrivateKey)], workers: Int)
        throws(SecAggError) -> [MaskJob]
    {
        let session = masked.session
        let sid = session.sessionId
        var groups: [(key: X25519.PrivateKey, owner: UInt32, peers: [(v: UInt32, key: X25519.PublicKey)])] = []
        for (u, key) in dropped {
            var peers: [(v: UInt32, key: X25519.PublicKey)] = []
            for v in session.neighbours(of: u) where masked.u3.contains(v) && !masked.complained(v, about: u) {
                guard let peer = session.advertised[v] else { continue }
                peers.append((v, peer.maskingKey))
            }
            groups.append((key, u, peers))
        }
        let groupList = groups
        let derived = ParallelWork.map(count: groupList.count, concurrency: workers, batch: 1) {
            (i) -> Result<[MaskJob], SecAggCryptoError> in
            let (key, u, peers) = groupList[i]
            do throws(SecAggCryptoError) {
                let shared = try key.sharedSecrets(with: peers.map(\.key))
                var out: [MaskJob] = []
                out.reserveCapacity(peers.count)
                for ((v, _), secret) in zip(peers, shared) {
                    let seed = try KeyDerivation.pairwiseMaskSeed(sharedSecret: secret, sessionId: sid, u, v)
                    // v added +PRG(s_uv) when u < v and −PRG(s_uv) when u > v; undo it.
                    out.append(MaskJob(seed: seed, negate: u < v))
                }
                return .success(out)
            } catch {
                return .failure(error)
            }
        }
        var jobs: [MaskJob] = []
        for result in derived {
            switch result {
            case let .success(pairJobs): jobs += pairJobs
            case let .failure(error): throw .crypto(error)
            }
        }
        return jobs
    }

    /// Complaints between two included clients: the complainer v left the pair mask out, so the other side u's
    /// mask stays in the sum unless u complained too; remove it with the seed v disclosed. (A complaint about a
    /// client that dropped is handled by leaving v out of u's pairs.) Every complaint flags its subject.
    private func complaintJobs(flagging flagged: inout [FlaggedClient]) -> [MaskJob] {
        var jobs: [MaskJob] = []
        let u3 = masked.u3
        for (v, reported) in masked.complaints.sorted(by: { $0.key < $1.key }) where u3.contains(v) {
            for complaint in reported {
                let u = complaint.sender
                flagged.append(FlaggedClient(client: ClientID(u), reason: .undecryptableShares(reporter: ClientID(v))))
                guard u3.contains(u), !masked.complained(u, about: v) else { continue }
                // u added +PRG(s_uv) when v < u and −PRG(s_uv) when v > u; undo it.
                jobs.append(MaskJob(seed: complaint.pairwiseMaskSeed, negate: v < u))
            }
        }
        return jobs
    }
}
