import CSecAgg

/// A failed call of the C ABI, with the thread's last error.
struct CStatusError: Error, CustomStringConvertible {
    let status: secagg_status
    let kind: String
    let message: String

    var description: String { "status \(status) (\(kind)): \(message)" }
}

/// Throws unless `status` is SECAGG_OK.
func check(_ status: secagg_status) throws {
    guard status == Int32(SECAGG_OK) else {
        throw CStatusError(
            status: status, kind: String(cString: secagg_last_error_kind()),
            message: String(cString: secagg_last_error_message()))
    }
}

/// The bytes of a buffer-returning call (nil for an empty buffer), releasing the buffer.
func bytes(_ call: (UnsafeMutablePointer<secagg_buffer>) -> secagg_status) throws -> [UInt8]? {
    var buffer = secagg_buffer(data: nil, length: 0)
    try check(call(&buffer))
    defer { secagg_buffer_free(&buffer) }
    guard let data = buffer.data else { return nil }
    return Array(UnsafeBufferPointer(start: data, count: buffer.length))
}

/// The handle of a handle-returning call.
func handle(_ call: (UnsafeMutablePointer<OpaquePointer?>) -> secagg_status) throws -> OpaquePointer {
    var out: OpaquePointer?
    try check(call(&out))
    guard let out else { throw CStatusError(status: -1, kind: "", message: "no handle") }
    return out
}

/// A configuration from the C ABI: n clients, threshold t, the given inputs (name, length, kind, value).
func makeConfiguration(
    clients: UInt32, threshold: UInt32, inputs: [(String, UInt64, Int, UInt64)], model: Int = SECAGG_SEMI_HONEST,
    hararyDegree: UInt32 = 0, verificationKeys: [UInt8] = []
) throws -> OpaquePointer {
    let names = inputs.map { Array($0.0.utf8) }
    var nonce = [UInt8](repeating: 0, count: 32)
    try check(secagg_random_nonce(&nonce, 32))
    return try withNames(names) { pointers in
        let specs = inputs.indices.map { i in
            secagg_input_spec(
                name: pointers[i], name_length: names[i].count, length: inputs[i].1,
                modulus_kind: UInt32(inputs[i].2), modulus_value: inputs[i].3)
        }
        return try handle { out in
            secagg_config_new(
                clients, threshold, UInt32(model), hararyDegree, nil, nonce, nonce.count, specs, specs.count,
                verificationKeys.isEmpty ? nil : verificationKeys, verificationKeys.count / 32, out)
        }
    }
}

/// Calls `body` with C pointers to each of `names` (valid during the call).
private func withNames<R>(_ names: [[UInt8]], _ body: ([UnsafePointer<CChar>?]) throws -> R) rethrows -> R {
    let buffers = names.map { name -> UnsafeMutablePointer<CChar> in
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, name.count))
        for (i, byte) in name.enumerated() { pointer[i] = CChar(bitPattern: byte) }
        return pointer
    }
    defer { buffers.forEach { $0.deallocate() } }
    return try body(buffers.map { UnsafePointer($0) })
}

/// The messages of an outbox, by recipient, and the step; frees the outbox.
func drain(_ outbox: OpaquePointer) throws -> (step: UInt32, round: UInt32, messages: [UInt32: [UInt8]], distinct: Int)
{
    defer { secagg_outbox_free(outbox) }
    var step: UInt32 = 0
    var round: UInt32 = 0
    try check(secagg_outbox_step(outbox, &step, &round))
    var count = 0
    try check(secagg_outbox_message_count(outbox, &count))
    var messages: [UInt32: [UInt8]] = [:]
    for i in 0..<count {
        var data: UnsafePointer<UInt8>?
        var length = 0
        var recipients: UnsafePointer<UInt32>?
        var recipientCount = 0
        try check(secagg_outbox_message(outbox, i, &data, &length, &recipients, &recipientCount))
        let payload = Array(UnsafeBufferPointer(start: data, count: length))
        for recipient in UnsafeBufferPointer(start: recipients, count: recipientCount) {
            messages[recipient] = payload
        }
    }
    return (step, round, messages, count)
}

/// A client's state code.
func clientState(_ client: OpaquePointer) throws -> (state: Int, included: Bool) {
    var state: UInt32 = 0
    var included: UInt32 = 0
    try check(secagg_client_state(client, &state, &included))
    return (Int(state), included == 1)
}

/// A server's state code and round.
func serverState(_ server: OpaquePointer) throws -> (state: Int, round: Int) {
    var state: UInt32 = 0
    var round: UInt32 = 0
    try check(secagg_server_state(server, &state, &round))
    return (Int(state), Int(round))
}

/// A deterministic test vector: element i of client u.
func testElement(client u: UInt32, index i: Int, below bound: UInt64) -> UInt64 {
    var x = UInt64(u) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(i) &* 0xBF58_476D_1CE4_E5B9
    x ^= x >> 31
    return x % bound
}
