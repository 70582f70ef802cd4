public import SecAggCrypto

/// Expected per-client and server work of one SecAgg+ session (SPEC.md §10.7). Counts are exact where the
/// protocol fixes them and expectations (over the random graph) where they depend on who dropped.
public struct CostEstimate: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Number of clients n.
    public var clientCount: Int
    /// Graph degree k.
    public var degree: Int
    /// Shamir threshold t.
    public var threshold: Int
    /// True for the complete graph.
    public var usesCompleteGraph: Bool
    /// Elements per input vector m.
    public var vectorLength: Int
    /// The ring of the vector.
    public var modulus: RingModulus
    /// Expected keystream bytes per mask element (word size × expected words per element).
    public var maskBytesPerElement: Double

    /// Per client: X25519 key agreements (one for share encryption and one for the mask seed per neighbour).
    public var clientKeyAgreements: Int
    /// Per client: Shamir shares created (two secrets, k holders each).
    public var clientSharesCreated: Int
    /// Per client: share ciphertexts sent (one per neighbour, holding both shares).
    public var clientShareCiphertexts: Int
    /// Per client: mask elements expanded (k pairwise masks and the self mask).
    public var clientMaskElements: Int
    /// Per client: expected mask keystream bytes.
    public var clientMaskBytes: Double
    /// Per client: the masked input upload, bit-packed (⌈m · bits / 8⌉ bytes).
    public var clientMaskedInputByteCount: Int

    /// ⌊δn⌋ dropouts assumed by the estimate.
    public var dropoutCount: Int
    /// n − ⌊δn⌋ survivors.
    public var survivorCount: Int
    /// Server: expected secret reconstructions (each survivor's self-mask seed, and the mask key of each dropped
    /// client that has at least one surviving neighbour).
    public var serverReconstructions: Double
    /// Server: expected shares consumed (t per reconstruction).
    public var serverSharesCombined: Double
    /// Server: expected key agreements to recompute pairwise seeds (dropped client × surviving neighbour).
    public var serverKeyAgreements: Double
    /// Server: expected mask elements re-expanded (survivors' self masks and the pairwise masks above).
    public var serverMaskElements: Double
    /// Server: expected mask keystream bytes.
    public var serverMaskBytes: Double
    /// Server: masked-input bytes received.
    public var serverMaskedInputBytes: Double

    /// A multi-line summary (printed by `secagg plan`).
    public var description: String {
        let graphText = usesCompleteGraph ? "complete graph" : "random Harary graph"
        return """
            cost estimate: n = \(Format.grouped(clientCount)), \(graphText), k = \(degree), t = \(threshold); \
            vector of \(Format.grouped(vectorLength)) elements mod \(modulus) \
            (\(Format.fixed(maskBytesPerElement, digits: 2)) keystream bytes per element)
              per client:
                key agreements:      \(Format.grouped(clientKeyAgreements))
                shares created:      \(Format.grouped(clientSharesCreated)) \
            (\(Format.grouped(clientShareCiphertexts)) ciphertexts)
                mask elements:       \(Format.grouped(clientMaskElements)) \
            (\(Format.bytes(clientMaskBytes)) of keystream)
                masked input upload: \(Format.bytes(Double(clientMaskedInputByteCount)))
              server (\(Format.grouped(dropoutCount)) dropouts, \(Format.grouped(survivorCount)) survivors):
                reconstructions:     \(Format.count(serverReconstructions)) \
            (\(Format.count(serverSharesCombined)) shares combined)
                key agreements:      \(Format.count(serverKeyAgreements))
                mask elements:       \(Format.count(serverMaskElements)) \
            (\(Format.bytes(serverMaskBytes)) of keystream)
                masked inputs in:    \(Format.bytes(serverMaskedInputBytes))
            """
    }
}

extension SecAggPlusParameters {
    /// The expected costs for vectors of `vectorLength` elements in Z_{2^bitWidth}.
    public func costEstimate(vectorLength: Int, bitWidth: Int) throws(GraphError) -> CostEstimate {
        try costEstimate(vectorLength: vectorLength, modulus: .powerOfTwo(bitWidth: bitWidth))
    }

    /// The expected costs for vectors of `vectorLength` elements in `modulus`, at ⌊δn⌋ dropouts.
    public func costEstimate(vectorLength m: Int, modulus: RingModulus) throws(GraphError) -> CostEstimate {
        guard m >= 0, m <= 1 << 40 else {
            throw .invalidParameter(name: "vectorLength", value: Double(m), allowed: "0...2^40")
        }
        do {
            try modulus.validate()
        } catch {
            throw .invalidParameter(name: "modulus", value: Double(modulus.elementBitWidth), allowed: "\(error)")
        }
        let n = clientCount
        let k = degree
        let d = min(dropoutClientCount, n)
        let survivors = n - d
        let bytesPerElement: Double
        switch modulus {
        case .powerOfTwo:
            bytesPerElement = Double(modulus.wordByteCount)
        case let .integer(q):
            // Rejection sampling: 2^bits / q words per accepted element on average.
            let span = Double(modulus.elementMask) + 1
            bytesPerElement = Double(modulus.wordByteCount) * (modulus.isPowerOfTwo ? 1 : span / Double(q))
        }
        // A dropped client's k neighbours are a random k-subset of the other n − 1, of which d − 1 dropped.
        let survivingNeighboursOfDropped = n > 1 ? Double(k) * Double(survivors) / Double(n - 1) : 0
        let logAllNeighboursDropped =
            d >= 1 ? LogMath.logChoose(d - 1, k) - LogMath.logChoose(n - 1, k) : -.infinity
        let recoveredDropped = Double(d) * (1 - LogMath.exponential(logAllNeighboursDropped))
        let reconstructions = Double(survivors) + recoveredDropped
        let pairwise = Double(d) * survivingNeighboursOfDropped
        let serverElements = Double(survivors) * Double(m) + pairwise * Double(m)
        let uploadBytes = (m * modulus.elementBitWidth + 7) / 8
        return CostEstimate(
            clientCount: n, degree: k, threshold: threshold, usesCompleteGraph: usesCompleteGraph,
            vectorLength: m, modulus: modulus, maskBytesPerElement: bytesPerElement,
            clientKeyAgreements: 2 * k, clientSharesCreated: 2 * k, clientShareCiphertexts: k,
            clientMaskElements: (k + 1) * m, clientMaskBytes: Double((k + 1) * m) * bytesPerElement,
            clientMaskedInputByteCount: uploadBytes, dropoutCount: d, survivorCount: survivors,
            serverReconstructions: reconstructions, serverSharesCombined: reconstructions * Double(threshold),
            serverKeyAgreements: pairwise, serverMaskElements: serverElements,
            serverMaskBytes: serverElements * bytesPerElement,
            serverMaskedInputBytes: Double(survivors) * Double(uploadBytes))
    }
}
