import CSecAgg
import Dispatch
import Testing

/// The C ABI called through its header, as a C program would.
struct LibraryTests {
    @Test func versions() {
        #expect(String(cString: secagg_version()) == "0.1.0")
        #expect(secagg_protocol_version() == 3)
        #expect(secagg_abi_version() == UInt32(SECAGG_ABI_VERSION))
    }

    @Test func defaultThresholdAndKeys() throws {
        #expect(secagg_default_threshold(20, 0) == 13)
        #expect(secagg_default_threshold(100, 10) == 7)
        let seed = [UInt8](repeating: 7, count: 32)
        var key = [UInt8](repeating: 0, count: 32)
        try check(secagg_verification_key(seed, 32, &key, 32))
        #expect(key != [UInt8](repeating: 0, count: 32))
        #expect(secagg_verification_key(seed, 31, &key, 32) == Int32(SECAGG_INVALID_ARGUMENT))
        #expect(String(cString: secagg_last_error_kind()) == "invalidArgument")
    }

    /// A whole session, n = 6, two inputs (2^32 and a prime), one client dropping after sharing keys and one
    /// giving its input late: the sum is exactly that of the included clients, every broadcast is one message.
    @Test func wholeSession() throws {
        let q: UInt64 = 2_147_483_647
        let inputs: [(String, UInt64, Int, UInt64)] = [
            ("weights", 50, SECAGG_MODULUS_POWER_OF_TWO, 32), ("counts", 7, SECAGG_MODULUS_INTEGER, q),
        ]
        let config = try makeConfiguration(clients: 6, threshold: 3, inputs: inputs)
        defer { secagg_config_free(config) }
        let published = try #require(try bytes { secagg_config_encode(config, $0) })
        let server = try handle { secagg_server_new(config, $0) }
        defer { secagg_server_free(server) }
        let decoded = try handle { secagg_config_decode(published, published.count, $0) }
        defer { secagg_config_free(decoded) }

        var clients: [UInt32: OpaquePointer] = [:]
        defer { clients.values.forEach { secagg_client_free($0) } }
        func vectors(_ u: UInt32) -> [[UInt64]] {
            [
                (0..<50).map { testElement(client: u, index: $0, below: 1 << 32) },
                (0..<7).map { testElement(client: u, index: $0, below: q) },
            ]
        }
        func provide(_ u: UInt32) throws -> [UInt8]? {
            let input = vectors(u)
            return try input[0].withUnsafeBufferPointer { a in
                try input[1].withUnsafeBufferPointer { b in
                    let pointers: [UnsafePointer<UInt64>?] = [a.baseAddress, b.baseAddress]
                    let lengths = [a.count, b.count]
                    return try bytes { secagg_client_provide_input(clients[u], pointers, lengths, 2, $0) }
                }
            }
        }
        for u: UInt32 in 1...6 {
            clients[u] = try handle { secagg_client_new(decoded, u, nil, 0, $0) }
            if u != 4 { #expect(try provide(u) == nil) }  // client 4 trains while keys are agreed
            let message = try #require(try bytes { secagg_client_start(clients[u], $0) })
            try check(secagg_server_receive(server, message, message.count, u))
        }
        var complete: UInt32 = 0
        try check(secagg_server_is_round_complete(server, &complete))
        #expect(complete == 1)

        var step = try drain(try handle { secagg_server_advance(server, $0) })
        #expect(step.step == UInt32(SECAGG_STEP_NEXT_ROUND) && step.round == UInt32(SECAGG_ROUND_SHARE_KEYS))
        #expect(step.distinct == 1 && step.messages.count == 6)  // the key broadcast, once
        while step.step == UInt32(SECAGG_STEP_NEXT_ROUND) {
            for (u, message) in step.messages.sorted(by: { $0.key < $1.key }) {
                if u == 2 && step.round == UInt32(SECAGG_ROUND_MASKED_INPUT) { continue }  // drops after sharing
                var reply = try bytes { secagg_client_handle(clients[u], message, message.count, $0) }
                if reply == nil, try clientState(clients[u]!).state == SECAGG_CLIENT_INPUT_REQUIRED {
                    reply = try provide(u)
                }
                if let reply { try check(secagg_server_receive(server, reply, reply.count, u)) }
            }
            step = try drain(try handle { secagg_server_advance(server, $0) })
        }
        #expect(step.step == UInt32(SECAGG_STEP_COMPLETED))
        for (u, message) in step.messages {
            _ = try bytes { secagg_client_handle(clients[u], message, message.count, $0) }
        }

        var included = [UInt32](repeating: 0, count: 6)
        var count = 0
        try check(secagg_server_result_included(server, &included, 6, &count))
        #expect(Array(included.prefix(count)) == [1, 3, 4, 5, 6])
        var weights = [UInt64](repeating: 0, count: 50)
        var counts = [UInt64](repeating: 0, count: 7)
        try check(secagg_server_result_vector(server, 0, &weights, 50))
        try check(secagg_server_result_vector(server, 1, &counts, 7))
        var expectedWeights = [UInt64](repeating: 0, count: 50)
        var expectedCounts = [UInt64](repeating: 0, count: 7)
        for u in included.prefix(count) {
            let v = vectors(u)
            for i in 0..<50 { expectedWeights[i] = (expectedWeights[i] + v[0][i]) & 0xFFFF_FFFF }
            for i in 0..<7 { expectedCounts[i] = (expectedCounts[i] + v[1][i]) % q }
        }
        #expect(weights == expectedWeights)
        #expect(counts == expectedCounts)
        #expect(try clientState(clients[1]!) == (SECAGG_CLIENT_COMPLETED, true))
        #expect(try clientState(clients[2]!) == (SECAGG_CLIENT_COMPLETED, false))  // told it is not in the sum
        #expect(secagg_server_result_vector(server, 0, &weights, 49) == Int32(SECAGG_INVALID_ARGUMENT))
    }

    /// Null pointers, wrong lengths, freed and other-type handles, foreign buffers: statuses, never a trap.
    @Test func argumentsAreChecked() throws {
        let config = try makeConfiguration(
            clients: 4, threshold: 2, inputs: [("x", 3, SECAGG_MODULUS_POWER_OF_TWO, 16)])
        let client = try handle { secagg_client_new(config, 1, nil, 0, $0) }
        let invalid = Int32(SECAGG_INVALID_ARGUMENT)

        #expect(secagg_client_new(config, 0, nil, 0, nil) == invalid)
        var out: OpaquePointer?
        #expect(secagg_client_new(config, 5, nil, 0, &out) == invalid && out == nil)
        #expect(secagg_client_new(config, 1, [1, 2, 3], 3, &out) == invalid)  // semi-honest: no key
        #expect(secagg_client_start(client, nil) == invalid)
        // A configuration handle where a client is expected, and the reverse.
        var buffer = secagg_buffer(data: nil, length: 0)
        #expect(secagg_client_start(config, &buffer) == invalid)
        #expect(String(cString: secagg_last_error_message()).contains("not a live"))
        #expect(secagg_config_encode(client, &buffer) == invalid)
        #expect(secagg_client_handle(client, nil, 10, &buffer) == invalid)
        // Input of the wrong shape or range.
        let short: [UInt64] = [1, 2]
        let big: [UInt64] = [1, 2, 1 << 16]
        short.withUnsafeBufferPointer { p in
            #expect(secagg_client_provide_input(client, [p.baseAddress], [2], 1, &buffer) == invalid)
        }
        big.withUnsafeBufferPointer { p in
            #expect(secagg_client_provide_input(client, [p.baseAddress], [3], 1, &buffer) == invalid)
            #expect(String(cString: secagg_last_error_kind()) == "invalidInput")
            #expect(secagg_client_provide_input(client, [p.baseAddress], [3], 2, &buffer) == invalid)
        }
        // A length that does not fit an Int.
        #expect(secagg_client_handle(client, [1], Int(bitPattern: UInt(Int.max) + 1), &buffer) == invalid)
        // Freed handles and double frees.
        secagg_client_free(client)
        secagg_client_free(client)
        #expect(secagg_client_start(client, &buffer) == invalid)
        var state: UInt32 = 0
        #expect(secagg_client_state(client, &state, nil) == invalid)
        secagg_config_free(config)
        #expect(secagg_server_new(config, &out) == invalid)
        secagg_client_free(nil)
        secagg_outbox_free(OpaquePointer(bitPattern: 0xDEAD))
        // A buffer the library did not allocate is ignored, not freed.
        var foreign = [UInt8](repeating: 9, count: 4)
        foreign.withUnsafeMutableBufferPointer { p in
            var buffer = secagg_buffer(data: p.baseAddress, length: 4)
            secagg_buffer_free(&buffer)
        }
        #expect(foreign == [9, 9, 9, 9])
        secagg_buffer_free(nil)
    }

    /// Malformed and other-session bytes are rejected with the right status and leave the party working.
    @Test func hostileBytesAreRejected() throws {
        let inputs: [(String, UInt64, Int, UInt64)] = [("x", 4, SECAGG_MODULUS_POWER_OF_TWO, 32)]
        let config = try makeConfiguration(clients: 3, threshold: 2, inputs: inputs)
        let other = try makeConfiguration(clients: 3, threshold: 2, inputs: inputs)
        defer {
            secagg_config_free(config)
            secagg_config_free(other)
        }
        let server = try handle { secagg_server_new(config, $0) }
        let stranger = try handle { secagg_client_new(other, 1, nil, 0, $0) }
        defer {
            secagg_server_free(server)
            secagg_client_free(stranger)
        }
        let client = try handle { secagg_client_new(config, 1, nil, 0, $0) }
        defer { secagg_client_free(client) }
        let message = try #require(try bytes { secagg_client_start(client, $0) })
        let foreign = try #require(try bytes { secagg_client_start(stranger, $0) })
        for cut in [0, 1, 2, 10, message.count - 1] {
            #expect(secagg_server_receive(server, message, cut, 1) == Int32(SECAGG_WIRE_FORMAT_ERROR))
        }
        #expect(String(cString: secagg_last_error_kind()) == "truncated")
        var trailing = message
        trailing.append(0)
        #expect(secagg_server_receive(server, trailing, trailing.count, 1) == Int32(SECAGG_WIRE_FORMAT_ERROR))
        #expect(secagg_server_receive(server, foreign, foreign.count, 1) == Int32(SECAGG_PROTOCOL_ERROR))
        #expect(String(cString: secagg_last_error_kind()) == "wrongSession")
        #expect(secagg_server_receive(server, message, message.count, 2) == Int32(SECAGG_PROTOCOL_ERROR))
        #expect(secagg_server_receive(server, message, message.count, 9) == Int32(SECAGG_PROTOCOL_ERROR))
        try check(secagg_server_receive(server, message, message.count, 1))
        var awaited = [UInt32](repeating: 0, count: 3)
        var count = 0
        try check(secagg_server_awaited_clients(server, &awaited, 3, &count))
        #expect(Array(awaited.prefix(count)) == [2, 3])
        // A client fed garbage stays where it was.
        #expect(secagg_client_handle(client, [2, 0x81, 1], 3, nil) == Int32(SECAGG_INVALID_ARGUMENT))
        var reply = secagg_buffer(data: nil, length: 0)
        #expect(secagg_client_handle(client, [2, 0x81, 1], 3, &reply) == Int32(SECAGG_WIRE_FORMAT_ERROR))
        #expect(try clientState(client).state == SECAGG_CLIENT_SHARE_KEYS)
    }

    /// Threads driving different clients, and two threads racing on one client, under ThreadSanitizer in CI.
    @Test func handlesAreThreadSafe() throws {
        let config = try makeConfiguration(
            clients: 8, threshold: 5, inputs: [("x", 1_000, SECAGG_MODULUS_POWER_OF_TWO, 32)])
        defer { secagg_config_free(config) }
        let clients = try (1...8).map { u in try handle { secagg_client_new(config, UInt32(u), nil, 0, $0) } }
        nonisolated(unsafe) let shared = clients
        let starts = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 16)
        starts.initialize(repeating: -1)
        defer { starts.deallocate() }
        nonisolated(unsafe) let results = starts
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            var buffer = secagg_buffer(data: nil, length: 0)
            // Every client is started twice, by two threads: exactly one start succeeds.
            results[i] = secagg_client_start(shared[i % 8], &buffer)
            secagg_buffer_free(&buffer)
            var state: UInt32 = 0
            _ = secagg_client_state(shared[(i + 3) % 8], &state, nil)
        }
        for u in 0..<8 {
            let outcomes = [results[u], results[u + 8]].sorted()
            #expect(outcomes == [Int32(SECAGG_OK), Int32(SECAGG_PROTOCOL_ERROR)])
        }
        clients.forEach { secagg_client_free($0) }
    }

    @Test func configurationRoundTrip() throws {
        let config = try makeConfiguration(
            clients: 10, threshold: 3, inputs: [("α", 5, SECAGG_MODULUS_INTEGER, 65_521)], hararyDegree: 4)
        defer { secagg_config_free(config) }
        var info = secagg_config_info()
        try check(secagg_config_get_info(config, &info))
        #expect(info.client_count == 10 && info.threshold == 3 && info.harary_degree == 4 && info.degree == 4)
        #expect(info.sparse == 1 && info.input_count == 1 && info.threat.sigma == 40)
        var spec = secagg_input_spec()
        try check(secagg_config_get_input(config, 0, &spec))
        let name = String(decoding: UnsafeRawBufferPointer(start: spec.name, count: spec.name_length), as: UTF8.self)
        #expect(name == "α" && spec.length == 5 && spec.modulus_value == 65_521)
        #expect(secagg_config_get_input(config, 1, &spec) == Int32(SECAGG_INVALID_ARGUMENT))
        let encoded = try #require(try bytes { secagg_config_encode(config, $0) })
        let decoded = try handle { secagg_config_decode(encoded, encoded.count, $0) }
        defer { secagg_config_free(decoded) }
        #expect(try bytes { secagg_config_encode(decoded, $0) } == encoded)
        var bound: UInt64 = 0
        try check(secagg_config_max_client_message_bytes(config, UInt32(SECAGG_ROUND_SHARE_KEYS), &bound))
        #expect(bound > 4 * 128)
        #expect(secagg_config_max_client_message_bytes(config, 77, &bound) == Int32(SECAGG_INVALID_ARGUMENT))
        // A threshold that gives no privacy, and a bad encoding.
        #expect(
            (try? makeConfiguration(clients: 10, threshold: 1, inputs: [("x", 5, SECAGG_MODULUS_POWER_OF_TWO, 8)]))
                == nil)
        #expect(String(cString: secagg_last_error_kind()) == "insecureThreshold")
        var out: OpaquePointer?
        #expect(secagg_config_decode(encoded, encoded.count - 1, &out) == Int32(SECAGG_WIRE_FORMAT_ERROR))
        #expect(out == nil)
    }

    @Test func quantizationPlan() throws {
        let plan = try handle {
            secagg_plan_new(10, 1.0, UInt32(SECAGG_MODULUS_POWER_OF_TWO), 32, 0, UInt32(SECAGG_ROUNDING_NEAREST), $0)
        }
        defer { secagg_plan_free(plan) }
        var info = secagg_plan_info()
        try check(secagg_plan_get_info(plan, &info))
        #expect(info.client_count == 10 && info.maximum_weight == 0 && info.worst_case_mean_error > 0)
        let values: [Float] = [0.5, -0.25, 2, -3]
        var elements = [UInt64](repeating: 0, count: 4)
        var clipped: UInt64 = 0
        try check(secagg_plan_quantize_f32(plan, values, 4, 1, &elements, 4, &clipped))
        #expect(clipped == 2)
        var mean = [Double](repeating: 0, count: 4)
        try check(secagg_plan_decode_mean(plan, elements, 4, 1, &mean, 4))
        #expect(abs(mean[0] - 0.5) <= info.worst_case_mean_error && abs(mean[3] + 1) <= info.worst_case_mean_error)
        let nan: [Double] = [1, .nan]
        #expect(
            secagg_plan_quantize_f64(plan, nan, 2, 1, &elements, 2, nil) == Int32(SECAGG_QUANTIZATION_ERROR))
        #expect(String(cString: secagg_last_error_kind()) == "nonFiniteValue")
        #expect(secagg_plan_quantize_f32(plan, values, 4, 2, &elements, 4, nil) == Int32(SECAGG_QUANTIZATION_ERROR))
        #expect(secagg_plan_quantize_f32(plan, values, 4, 1, &elements, 3, nil) == Int32(SECAGG_INVALID_ARGUMENT))
        let json = try #require(try bytes { secagg_plan_encode(plan, $0) })
        let decoded = try handle { secagg_plan_decode(json, json.count, $0) }
        defer { secagg_plan_free(decoded) }
        #expect(try bytes { secagg_plan_encode(decoded, $0) } == json)
        var out: OpaquePointer?
        #expect(secagg_plan_decode(json, json.count - 2, &out) == Int32(SECAGG_QUANTIZATION_ERROR))
        #expect(
            secagg_plan_new(1_000_000, 1e300, UInt32(SECAGG_MODULUS_POWER_OF_TWO), 8, 0, 0, &out)
                == Int32(SECAGG_QUANTIZATION_ERROR))
    }
}
