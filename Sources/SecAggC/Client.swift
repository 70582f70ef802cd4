public import CSecAgg
import SecAggCrypto
import SecureAggregation
import Synchronization

/// A client behind a `secagg_client` handle; its lock serialises calls on the handle.
final class ClientHandle: HandleObject {
    struct Party: Sendable {
        var client: SecAggClient
        /// Test only: the deterministic generator of `secagg_client_new_deterministic` (nil: the system CSPRNG).
        var generator: DeterministicRandomGenerator?

        /// The round-0 message, drawn from the party's generator.
        mutating func start() throws(SecAggError) -> [UInt8] {
            guard var rng = generator else { return try client.startEncoded() }
            defer { generator = rng }
            return try client.startEncoded(using: &rng)
        }

        /// The reply to one server message, drawn from the party's generator.
        mutating func handle(_ bytes: [UInt8]) throws(SecAggError) -> [UInt8]? {
            guard var rng = generator else { return try client.handle(encoded: bytes) }
            defer { generator = rng }
            return try client.handle(encoded: bytes, using: &rng)
        }
    }

    let party: Mutex<Party>
    let inputSpecifications: [InputSpecification]

    init(_ party: Party) {
        inputSpecifications = party.client.configuration.inputs
        self.party = Mutex(party)
    }

    static func lookup(_ handle: OpaquePointer?) throws(CError) -> ClientHandle {
        try HandleTable.lookup(handle, as: ClientHandle.self, name: "client")
    }
}

/// The `SECAGG_CLIENT_*` value of a state.
private func stateCode(_ state: ClientState) -> (state: Int, included: Bool) {
    switch state {
    case .advertiseKeys: (SECAGG_CLIENT_ADVERTISE_KEYS, false)
    case .seedReveal: (SECAGG_CLIENT_SEED_REVEAL, false)
    case .shareKeys: (SECAGG_CLIENT_SHARE_KEYS, false)
    case .maskedInputCollection: (SECAGG_CLIENT_MASKED_INPUT, false)
    case .inputRequired: (SECAGG_CLIENT_INPUT_REQUIRED, false)
    case .consistencyCheck: (SECAGG_CLIENT_CONSISTENCY_CHECK, false)
    case .unmasking: (SECAGG_CLIENT_UNMASKING, false)
    case .awaitingOutcome: (SECAGG_CLIENT_AWAITING_OUTCOME, false)
    case .completed(let included): (SECAGG_CLIENT_COMPLETED, included)
    case .aborted: (SECAGG_CLIENT_ABORTED, false)
    }
}

private func makeClient(
    _ config: OpaquePointer?, _ index: UInt32, _ signingKey: UnsafePointer<UInt8>?, _ signingKeyLength: Int,
    generatorSeed: [UInt8]?, _ out: UnsafeMutablePointer<OpaquePointer?>?
) throws(CError) {
    let out = try Arguments.required(out, "out")
    out.pointee = nil
    let configuration = try ConfigurationHandle.lookup(config).configuration
    guard index >= 1, Int(index) <= configuration.clientCount else {
        throw .argument("client index \(index) outside 1...\(configuration.clientCount)")
    }
    var key: Ed25519.PrivateKey?
    switch configuration.securityModel {
    case .active:
        key = try SigningKeys.key(signingKey, length: signingKeyLength)
    case .semiHonest:
        guard signingKeyLength == 0 else { throw .argument("the semi-honest model takes no signing key") }
    }
    var generator: DeterministicRandomGenerator?
    if let generatorSeed {
        do throws(SecAggCryptoError) {
            generator = try DeterministicRandomGenerator(seed: generatorSeed)
        } catch {
            throw CError(argument: error)
        }
    }
    let client: SecAggClient
    do throws(SecAggError) {
        client = try SecAggClient(configuration: configuration, index: ClientID(index), signingKey: key)
    } catch {
        throw CError(error)
    }
    out.pointee = HandleTable.insert(ClientHandle(ClientHandle.Party(client: client, generator: generator)))
}

/// A client with the system CSPRNG.
@_cdecl("secagg_client_new")
public func secaggClientNew(
    _ config: OpaquePointer?, _ index: UInt32, _ signingKey: UnsafePointer<UInt8>?, _ signingKeyLength: Int,
    _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    capture { () throws(CError) in
        try makeClient(config, index, signingKey, signingKeyLength, generatorSeed: nil, out)
    }
}

/// Test only: a client whose randomness is the deterministic generator of SPEC.md §2.6.
@_cdecl("secagg_client_new_deterministic")
public func secaggClientNewDeterministic(
    _ config: OpaquePointer?, _ index: UInt32, _ signingKey: UnsafePointer<UInt8>?, _ signingKeyLength: Int,
    _ generatorSeed: UnsafePointer<UInt8>?, _ generatorSeedLength: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    capture { () throws(CError) in
        let seed = try Arguments.bytes(generatorSeed, count: generatorSeedLength, "generator_seed")
        guard seed.count == DeterministicRandomGenerator.seedByteCount else {
            throw .argument("the generator seed must be \(DeterministicRandomGenerator.seedByteCount) bytes")
        }
        try makeClient(config, index, signingKey, signingKeyLength, generatorSeed: seed, out)
    }
}

/// The round-0 message.
@_cdecl("secagg_client_start")
public func secaggClientStart(_ client: OpaquePointer?, _ message: UnsafeMutablePointer<secagg_buffer>?) -> Int32 {
    capture { () throws(CError) in
        let message = try Arguments.required(message, "message")
        message.pointee = secagg_buffer(data: nil, length: 0)
        let handle = try ClientHandle.lookup(client)
        let bytes = try handle.party.withLock { (party) throws(CError) in
            do throws(SecAggError) {
                return try party.start()
            } catch {
                throw CError(error)
            }
        }
        try Buffers.store(bytes, in: message)
    }
}

/// Handles one server message.
@_cdecl("secagg_client_handle")
public func secaggClientHandle(
    _ client: OpaquePointer?, _ message: UnsafePointer<UInt8>?, _ length: Int,
    _ reply: UnsafeMutablePointer<secagg_buffer>?
) -> Int32 {
    capture { () throws(CError) in
        let reply = try Arguments.required(reply, "reply")
        reply.pointee = secagg_buffer(data: nil, length: 0)
        let handle = try ClientHandle.lookup(client)
        let bytes = try Arguments.bytes(message, count: length, "message")
        let answer = try handle.party.withLock { (party) throws(CError) in
            do throws(SecAggError) {
                return try party.handle(bytes)
            } catch {
                throw CError(error)
            }
        }
        if let answer { try Buffers.store(answer, in: reply) }
    }
}

/// Gives the input (and, in the input-required state, returns the masked input).
@_cdecl("secagg_client_provide_input")
public func secaggClientProvideInput(
    _ client: OpaquePointer?, _ vectors: UnsafePointer<UnsafePointer<UInt64>?>?, _ lengths: UnsafePointer<Int>?,
    _ vectorCount: Int, _ reply: UnsafeMutablePointer<secagg_buffer>?
) -> Int32 {
    capture { () throws(CError) in
        let reply = try Arguments.required(reply, "reply")
        reply.pointee = secagg_buffer(data: nil, length: 0)
        let handle = try ClientHandle.lookup(client)
        let specifications = handle.inputSpecifications
        let count = try Arguments.count(vectorCount, "vector_count")
        guard count == specifications.count else {
            throw .argument("\(count) input vectors for \(specifications.count) configured inputs")
        }
        let pointers = try Arguments.array(vectors, count: count, "vectors")
        let counts = try Arguments.array(lengths, count: count, "lengths")
        var input: [[UInt64]] = []
        input.reserveCapacity(count)
        for (i, spec) in specifications.enumerated() {
            guard counts[i] == spec.length else {
                throw .argument("input \(spec.name): \(counts[i]) elements, expected \(spec.length)")
            }
            input.append(try Arguments.array(pointers[i], count: counts[i], "vectors[\(i)]"))
        }
        let answer = try handle.party.withLock { (party) throws(CError) in
            do throws(SecAggError) {
                return try party.client.provideInputEncoded(input)
            } catch {
                throw CError(error)
            }
        }
        if let answer { try Buffers.store(answer, in: reply) }
    }
}

/// The state and whether the input is in the sum.
@_cdecl("secagg_client_state")
public func secaggClientState(
    _ client: OpaquePointer?, _ state: UnsafeMutablePointer<UInt32>?, _ inputIncluded: UnsafeMutablePointer<UInt32>?
) -> Int32 {
    capture { () throws(CError) in
        let state = try Arguments.required(state, "state")
        let handle = try ClientHandle.lookup(client)
        let (code, included) = stateCode(handle.party.withLock { $0.client.state })
        state.pointee = UInt32(code)
        inputIncluded?.pointee = included ? 1 : 0
    }
}

/// Why the client aborted.
@_cdecl("secagg_client_abort_reason")
public func secaggClientAbortReason(_ client: OpaquePointer?, _ reason: UnsafeMutablePointer<secagg_buffer>?) -> Int32 {
    capture { () throws(CError) in
        let reason = try Arguments.required(reason, "reason")
        reason.pointee = secagg_buffer(data: nil, length: 0)
        let handle = try ClientHandle.lookup(client)
        guard case .aborted(let error) = handle.party.withLock({ $0.client.state }) else {
            throw .state("the client did not abort")
        }
        try Buffers.store(error.description, in: reason)
    }
}

/// The session id once known.
@_cdecl("secagg_client_session_id")
public func secaggClientSessionId(_ client: OpaquePointer?, _ out: UnsafeMutablePointer<UInt8>?, _ length: Int)
    -> Int32
{
    capture { () throws(CError) in
        let handle = try ClientHandle.lookup(client)
        guard let id = handle.party.withLock({ $0.client.sessionID }) else {
            throw .state("the session id is known once the key broadcast arrived")
        }
        try Arguments.write(id.bytes, to: out, length: length, "out")
    }
}

/// Releases a client and its secrets.
@_cdecl("secagg_client_free")
public func secaggClientFree(_ client: OpaquePointer?) {
    HandleTable.remove(client, as: ClientHandle.self)
}
