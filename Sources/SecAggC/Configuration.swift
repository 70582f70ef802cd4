public import CSecAgg
import SecAggCrypto
import SecureAggregation

/// A validated, immutable session configuration behind a `secagg_config` handle.
final class ConfigurationHandle: HandleObject, @unchecked Sendable {
    let configuration: SessionConfiguration
    /// Each input's name as UTF-8 with a terminating zero, owned by the handle (`secagg_config_get_input`).
    private let names: [UnsafeMutableBufferPointer<CChar>]

    init(_ configuration: SessionConfiguration) {
        self.configuration = configuration
        names = configuration.inputs.map { input in
            let utf8 = Array(input.name.utf8)
            let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: utf8.count + 1)
            for (i, byte) in utf8.enumerated() { buffer[i] = CChar(bitPattern: byte) }
            buffer[utf8.count] = 0
            return buffer
        }
    }

    deinit {
        for name in names { name.deallocate() }
    }

    /// Input `index` with its name pointing into the handle (immutable, so the pointer stays valid).
    func input(at index: Int) -> secagg_input_spec? {
        guard index >= 0, index < configuration.inputs.count else { return nil }
        let input = configuration.inputs[index]
        let (kind, value): (Int, UInt64) =
            switch input.modulus {
            case .powerOfTwo(let bitWidth): (SECAGG_MODULUS_POWER_OF_TWO, UInt64(bitWidth))
            case .integer(let q): (SECAGG_MODULUS_INTEGER, q)
            }
        return secagg_input_spec(
            name: UnsafePointer(names[index].baseAddress), name_length: names[index].count - 1,
            length: UInt64(input.length), modulus_kind: UInt32(kind), modulus_value: value)
    }

    static func lookup(_ handle: OpaquePointer?) throws(CError) -> ConfigurationHandle {
        try HandleTable.lookup(handle, as: ConfigurationHandle.self, name: "config")
    }
}

/// The ring of a `secagg_input_spec` or plan.
func ringModulus(kind: UInt32, value: UInt64) throws(CError) -> RingModulus {
    switch Int(kind) {
    case SECAGG_MODULUS_POWER_OF_TWO:
        guard value >= 1, value <= 64 else { throw .argument("a power-of-two ring has a bit width in 1...64") }
        return .powerOfTwo(bitWidth: Int(value))
    case SECAGG_MODULUS_INTEGER: return .integer(value)
    default: throw .argument("unknown modulus kind \(kind)")
    }
}

/// The protocol round of a `SECAGG_ROUND_*` value.
func protocolRound(_ value: UInt32) throws(CError) -> ProtocolRound {
    switch Int(value) {
    case SECAGG_ROUND_ADVERTISE_KEYS: .advertiseKeys
    case SECAGG_ROUND_SEED_REVEAL: .seedReveal
    case SECAGG_ROUND_SHARE_KEYS: .shareKeys
    case SECAGG_ROUND_MASKED_INPUT: .maskedInputCollection
    case SECAGG_ROUND_CONSISTENCY_CHECK: .consistencyCheck
    case SECAGG_ROUND_UNMASKING: .unmasking
    default: throw .argument("unknown round \(value)")
    }
}

/// The `SECAGG_ROUND_*` value of a round (`SECAGG_ROUND_NONE` for nil).
func roundCode(_ round: ProtocolRound?) -> UInt32 {
    guard let round else { return UInt32(SECAGG_ROUND_NONE) }
    return switch round {
    case .advertiseKeys: UInt32(SECAGG_ROUND_ADVERTISE_KEYS)
    case .seedReveal: UInt32(SECAGG_ROUND_SEED_REVEAL)
    case .shareKeys: UInt32(SECAGG_ROUND_SHARE_KEYS)
    case .maskedInputCollection: UInt32(SECAGG_ROUND_MASKED_INPUT)
    case .consistencyCheck: UInt32(SECAGG_ROUND_CONSISTENCY_CHECK)
    case .unmasking: UInt32(SECAGG_ROUND_UNMASKING)
    }
}

/// Creates and validates a configuration.
@_cdecl("secagg_config_new")
public func secaggConfigNew(
    _ clientCount: UInt32, _ threshold: UInt32, _ model: UInt32, _ hararyDegree: UInt32,
    _ threat: UnsafePointer<secagg_threat>?, _ nonce: UnsafePointer<UInt8>?, _ nonceLength: Int,
    _ inputs: UnsafePointer<secagg_input_spec>?, _ inputCount: Int, _ verificationKeys: UnsafePointer<UInt8>?,
    _ verificationKeyCount: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    capture { () throws(CError) in
        let out = try Arguments.required(out, "out")
        out.pointee = nil
        let securityModel: SecurityModel
        switch Int(model) {
        case SECAGG_SEMI_HONEST: securityModel = .semiHonest
        case SECAGG_ACTIVE: securityModel = .active
        default: throw .argument("unknown security model \(model)")
        }
        let nonceBytes = try Arguments.bytes(nonce, count: nonceLength, "nonce")
        guard nonceBytes.count == SessionConfiguration.nonceByteCount else {
            throw .argument("the nonce must be \(SessionConfiguration.nonceByteCount) bytes, not \(nonceBytes.count)")
        }
        let specs = try Arguments.array(inputs, count: inputCount, "inputs")
        guard specs.count <= SessionConfiguration.maximumInputCount else {
            throw .argument("at most \(SessionConfiguration.maximumInputCount) inputs")
        }
        var inputSpecifications: [InputSpecification] = []
        for (i, spec) in specs.enumerated() {
            let nameBytes = try Arguments.array(
                UnsafeRawPointer(spec.name)?.assumingMemoryBound(to: UInt8.self), count: spec.name_length,
                "inputs[\(i)].name")
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw .argument("inputs[\(i)].name is not UTF-8")
            }
            guard let length = Int(exactly: spec.length) else { throw .argument("inputs[\(i)].length is too large") }
            inputSpecifications.append(
                InputSpecification(
                    name: name, length: length,
                    modulus: try ringModulus(kind: spec.modulus_kind, value: spec.modulus_value)))
        }
        let keyCount = try Arguments.count(verificationKeyCount, "verification_key_count")
        guard keyCount <= SessionConfiguration.maximumClientCount else {
            throw .argument("too many verification keys")
        }
        let keyBytes = try Arguments.bytes(
            verificationKeys, count: keyCount * Ed25519.publicKeyByteCount, "verification_keys")
        var keys: [Ed25519.PublicKey] = []
        for i in 0..<keyCount {
            let start = i * Ed25519.publicKeyByteCount
            do throws(SecAggCryptoError) {
                keys.append(
                    try Ed25519.PublicKey(
                        rawRepresentation: Array(keyBytes[start..<start + Ed25519.publicKeyByteCount])))
            } catch {
                throw CError(argument: error)
            }
        }
        let assumption =
            threat.map {
                ThreatAssumption(
                    corruptClients: Int($0.pointee.corrupt_clients), droppedClients: Int($0.pointee.dropped_clients),
                    sigma: Int($0.pointee.sigma))
            } ?? .minimal
        let configuration = SessionConfiguration(
            clientCount: Int(clientCount), threshold: Int(threshold), securityModel: securityModel,
            inputs: inputSpecifications, graph: hararyDegree == 0 ? .complete : .harary(degree: Int(hararyDegree)),
            threat: assumption, nonce: nonceBytes, verificationKeys: keys)
        do throws(SecAggError) {
            try configuration.validate()
        } catch {
            throw CError(error)
        }
        out.pointee = HandleTable.insert(ConfigurationHandle(configuration))
    }
}

/// Decodes and validates a configuration (SPEC.md §11.1).
@_cdecl("secagg_config_decode")
public func secaggConfigDecode(
    _ bytes: UnsafePointer<UInt8>?, _ length: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    capture { () throws(CError) in
        let out = try Arguments.required(out, "out")
        out.pointee = nil
        let encoded = try Arguments.bytes(bytes, count: length, "bytes")
        let configuration: SessionConfiguration
        do throws(SecAggError) {
            configuration = try SessionConfiguration(encoded: encoded)
        } catch {
            throw CError(error)
        }
        out.pointee = HandleTable.insert(ConfigurationHandle(configuration))
    }
}

/// The canonical encoding.
@_cdecl("secagg_config_encode")
public func secaggConfigEncode(_ config: OpaquePointer?, _ out: UnsafeMutablePointer<secagg_buffer>?) -> Int32 {
    capture { () throws(CError) in
        let out = try Arguments.required(out, "out")
        out.pointee = secagg_buffer(data: nil, length: 0)
        try Buffers.store(try ConfigurationHandle.lookup(config).configuration.encoded, in: out)
    }
}

/// The scalar fields.
@_cdecl("secagg_config_get_info")
public func secaggConfigGetInfo(_ config: OpaquePointer?, _ out: UnsafeMutablePointer<secagg_config_info>?) -> Int32 {
    capture { () throws(CError) in
        let out = try Arguments.required(out, "out")
        let configuration = try ConfigurationHandle.lookup(config).configuration
        var info = secagg_config_info()
        info.client_count = UInt32(configuration.clientCount)
        info.threshold = UInt32(configuration.threshold)
        info.model = UInt32(configuration.securityModel == .active ? SECAGG_ACTIVE : SECAGG_SEMI_HONEST)
        if case .harary(let k) = configuration.graph { info.harary_degree = UInt32(k) }
        info.degree = UInt32(configuration.degree)
        info.sparse = configuration.isSparse ? 1 : 0
        info.threat = secagg_threat(
            corrupt_clients: UInt32(configuration.threat.corruptClients),
            dropped_clients: UInt32(configuration.threat.droppedClients), sigma: UInt32(configuration.threat.sigma))
        info.input_count = UInt32(configuration.inputs.count)
        info.verification_key_count = UInt32(configuration.verificationKeys.count)
        withUnsafeMutableBytes(of: &info.nonce) { $0.copyBytes(from: configuration.nonce) }
        withUnsafeMutableBytes(of: &info.digest) { $0.copyBytes(from: configuration.digest) }
        info.max_server_message_bytes = UInt64(configuration.maximumServerMessageByteCount)
        out.pointee = info
    }
}

/// Input `index`.
@_cdecl("secagg_config_get_input")
public func secaggConfigGetInput(
    _ config: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<secagg_input_spec>?
) -> Int32 {
    capture { () throws(CError) in
        let out = try Arguments.required(out, "out")
        let handle = try ConfigurationHandle.lookup(config)
        guard let input = handle.input(at: index) else {
            throw .argument("input index \(index) outside 0..<\(handle.configuration.inputs.count)")
        }
        out.pointee = input
    }
}

/// Client `client`'s verification key.
@_cdecl("secagg_config_get_verification_key")
public func secaggConfigGetVerificationKey(
    _ config: OpaquePointer?, _ client: UInt32, _ out: UnsafeMutablePointer<UInt8>?, _ outLength: Int
) -> Int32 {
    capture { () throws(CError) in
        let keys = try ConfigurationHandle.lookup(config).configuration.verificationKeys
        guard client >= 1, Int(client) <= keys.count else {
            throw .argument("client \(client) has no verification key (the configuration lists \(keys.count))")
        }
        try Arguments.write(keys[Int(client) - 1].rawRepresentation, to: out, length: outLength, "out")
    }
}

/// The longest client message of a round.
@_cdecl("secagg_config_max_client_message_bytes")
public func secaggConfigMaxClientMessageBytes(
    _ config: OpaquePointer?, _ round: UInt32, _ out: UnsafeMutablePointer<UInt64>?
) -> Int32 {
    capture { () throws(CError) in
        let out = try Arguments.required(out, "out")
        let configuration = try ConfigurationHandle.lookup(config).configuration
        out.pointee = UInt64(configuration.maximumClientMessageByteCount(in: try protocolRound(round)))
    }
}

/// Releases a configuration handle.
@_cdecl("secagg_config_free")
public func secaggConfigFree(_ config: OpaquePointer?) {
    HandleTable.remove(config, as: ConfigurationHandle.self)
}
