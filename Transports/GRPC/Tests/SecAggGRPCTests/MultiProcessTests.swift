import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import SecAggCrypto
import SecAggQuantization
import SecureAggregation
import Testing

@testable import SecAggGRPC

#if canImport(Glibc)
    import Glibc
#endif

/// Whole sessions across processes: one `secagg-node serve` and `secagg-node join` processes on loopback, with real
/// SIGKILLed clients, hostile peers, a policy refusal and TLS. Each test is bounded in time, takes free ports
/// (`--listen 127.0.0.1:0`), and kills every process it started when it ends, passed or failed. Serialized: each
/// test runs up to 21 processes on the machine's cores.
@Suite(.serialized)
struct MultiProcessTests {
    /// 20 client processes; clients 3 and 7 are SIGKILLed after sharing keys (once the server has moved on to the
    /// masked-input round) and client 12 after its masked input was accepted (in the unmasking round). The written
    /// sum must equal the plaintext sum of exactly the included clients: everyone but 3 and 7 (12's input is in).
    @Test(.timeLimit(.minutes(4)))
    func twentyClientsThreeKilled() async throws {
        let sandbox = try ProcessSandbox()
        defer { sandbox.stopAll() }
        let n = 20
        let m = 1_000
        let output = sandbox.file("sum.npy")
        let (server, port) = try await startServer(
            sandbox,
            [
                "--clients", "\(n)", "--length", "\(m)", "--modulus", "\(GridInputs.modulus(clientCount: n))",
                "--round-timeout", "60", "--output", output.path, "--plaintext", "--json",
            ])
        let pauses: [Int: String] = [3: "share-keys", 7: "share-keys", 12: "masked-input"]
        var clients: [Int: NodeProcess] = [:]
        for index in 1...n {
            let path = try GridInputs.write(index: index, count: m, in: sandbox.directory)
            var arguments = [
                "join", "--server", "127.0.0.1:\(port)", "--index", "\(index)", "--input", path, "--plaintext",
            ]
            if let round = pauses[index] { arguments += ["--test-pause-after", round] }
            clients[index] = try sandbox.start("client-\(index)", arguments)
        }
        for index in [3, 7, 12] {
            let client = try #require(clients[index])
            try await client.waitForLog("paused after \(pauses[index] ?? "")", timeout: .seconds(120))
            client.kill(SIGKILL)
        }
        let status = try await server.wait(timeout: .seconds(120))
        #expect(status == 0, "\(sandbox.logs)")
        let summary = try ServeSummaryJSON(server.stdout)
        #expect(summary.completed)
        let included = (1...n).filter { $0 != 3 && $0 != 7 }
        #expect(summary.included == included.map { UInt32($0) })
        #expect(summary.excluded == [3, 7])
        // Every round closed early: the dead connections were removed at once, not at the 60 s deadline.
        let allEarly = summary.rounds.allSatisfy(\.closed_early)
        #expect(allEarly, "\(server.stderr)")
        #expect(summary.rounds.first { $0.round == "masked-input" }?.dropped == [3, 7])
        #expect(summary.rounds.first { $0.round == "unmasking" }?.dropped == [12])

        let written = try NpyFile.read(contentsOf: output).values
        #expect(written == GridInputs.sum(of: included, count: m))
        #expect(written != GridInputs.sum(of: Array(1...n), count: m))

        for (index, client) in clients where pauses[index] == nil {
            #expect(try await client.wait(timeout: .seconds(60)) == 0, "client \(index):\n\(client.stderr)")
        }
    }

    /// Six honest client processes, and on the same server: a TCP connection that sends nothing, one that sends
    /// bytes that are not HTTP/2, a gRPC stream that never sends a frame (index 7 stays unclaimed), client 8 sending
    /// garbage instead of its shares, client 9 sending a frame larger than the configuration allows, and client 10
    /// stalling halfway through its masked input (through a proxy that stops forwarding). The session completes for
    /// the six within two round deadlines (round 0 waits for 7, masked-input for 10; the others are removed at once).
    @Test(.timeLimit(.minutes(3)))
    func hostilePeersDoNotStopTheSession() async throws {
        let sandbox = try ProcessSandbox()
        defer { sandbox.stopAll() }
        let n = 10
        let m = 20_000
        let timeout = 6.0
        let modulus = GridInputs.modulus(clientCount: n)
        let output = sandbox.file("sum.npy")
        let (server, port) = try await startServer(
            sandbox,
            [
                "--clients", "\(n)", "--length", "\(m)", "--modulus", "\(modulus)", "--threshold", "5",
                "--round-timeout", "\(timeout)", "--output", output.path, "--plaintext", "--json",
            ])

        var honest: [Int: NodeProcess] = [:]
        for index in 1...6 {
            let path = try GridInputs.write(index: index, count: m, in: sandbox.directory)
            honest[index] = try sandbox.start(
                "client-\(index)",
                ["join", "--server", "127.0.0.1:\(port)", "--index", "\(index)", "--input", path, "--plaintext"])
        }
        // The round-0 clock starts with the first stream: let the honest processes (slow to start on a loaded
        // machine) open theirs first, so that only index 7 is missing when advertise-keys reaches its deadline.
        for client in honest.values { try await client.waitForLog("joining a session", timeout: .seconds(60)) }

        // Raw TCP: silence, and bytes that are not an HTTP/2 preface.
        let silentSocket = try Loopback.connect(port: port)
        let garbageSocket = try Loopback.connect(port: port)
        Loopback.write(garbageSocket, (0..<4_096).map { _ in UInt8.random(in: 0...255) })
        defer {
            close(silentSocket)
            close(garbageSocket)
        }

        // A gRPC stream that opens and never sends a frame.
        let silentStream = Task {
            try await withGRPCClient(
                transport: .http2NIOPosix(
                    target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            ) { grpc in
                let service = Secagg_V1_Aggregation.Client(wrapping: grpc)
                try await service.join(requestProducer: { _ in try await Task.sleep(for: .seconds(600)) }) { response in
                    for try await _ in response.messages {}
                }
            }
        }
        defer { silentStream.cancel() }

        // Library clients that misbehave in a chosen round.
        let configurationLimit = Self.maximumClientMessage(n: n, m: m, modulus: modulus)
        let logger = Logger(label: "hostile")
        func hostile(_ index: UInt32, port: Int, reply: @escaping @Sendable (ProtocolRound, [UInt8]) -> ReplyAction)
            -> Task<String, Never>
        {
            Task {
                var options = JoinOptions(host: "127.0.0.1", port: port, security: .plaintext, index: ClientID(index))
                options.policy.minimumThresholdFraction = 0.5
                do {
                    _ = try await AggregationClient.join(
                        options, valueCount: m, logger: logger, hooks: ClientHooks(reply: reply)
                    ) { (offer) throws(NodeError) -> [UInt64] in
                        SyntheticInput.vector(
                            client: index, seed: 9, length: m, modulus: offer.configuration.inputs[0].modulus)
                    }
                    return "completed"
                } catch {
                    return "\(error)"
                }
            }
        }
        let garbage = hostile(8, port: port) { round, bytes in
            round == .shareKeys ? .send((0..<300).map { _ in UInt8.random(in: 0...255) }) : .send(bytes)
        }
        let oversize = hostile(9, port: port) { round, bytes in
            round == .maskedInputCollection
                ? .send([UInt8](repeating: 0xAB, count: configurationLimit + 4_096)) : .send(bytes)
        }
        let proxy = try StallingProxy(upstreamPort: port, limit: 30_000)
        defer { proxy.close() }
        let stalled = hostile(10, port: proxy.port) { _, bytes in .send(bytes) }

        let status = try await server.wait(timeout: .seconds(90))
        #expect(status == 0, "\(sandbox.logs)")
        let summary = try ServeSummaryJSON(server.stdout)
        #expect(summary.completed)
        #expect(summary.included == [1, 2, 3, 4, 5, 6])
        // Two rounds waited for their deadline (7 never joined; 10 never finished its masked input); the rest closed
        // early. Everything within the deadlines.
        #expect(summary.rounds.filter { !$0.closed_early }.map(\.round) == ["advertise-keys", "masked-input"])
        #expect(summary.session_s < 2 * timeout + 15)
        #expect(summary.rounds.first { $0.round == "advertise-keys" }?.dropped == [7])
        #expect(summary.rounds.first { $0.round == "share-keys" }?.dropped == [8])
        #expect(summary.rounds.first { $0.round == "masked-input" }?.dropped == [9, 10])
        #expect(proxy.forwarded == 30_000)
        let log = server.stderr
        #expect(log.contains("client 8 removed in share-keys: its share-keys message was rejected"))
        // The transport refuses the frame from its length prefix, before reading it, and reports any such refusal
        // as "Failed to decode message" (grpc-swift-nio-transport 2.9 drops the cause).
        #expect(
            log.contains(
                "client 9 removed in masked-input: its connection ended (internalError: Failed to decode message)"))

        let written = try NpyFile.read(contentsOf: output).values
        #expect(written == GridInputs.sum(of: Array(1...6), count: m))
        for (index, client) in honest {
            #expect(try await client.wait(timeout: .seconds(30)) == 0, "client \(index):\n\(client.stderr)")
        }
        let (garbageOutcome, oversizeOutcome) = (await garbage.value, await oversize.value)
        #expect(garbageOutcome.contains("the server removed this client"), "\(garbageOutcome)")
        #expect(oversizeOutcome.contains("transport"), "\(oversizeOutcome)")
        proxy.close()
        let stalledOutcome = await stalled.value
        #expect(stalledOutcome != "completed", "\(stalledOutcome)")
    }

    /// A server offering t = 2 of 9 neighbours: the engine allows it (t ≥ 2), the client's default policy (half of
    /// its neighbours) does not. The client exits with code 2 before sending any protocol message and says why.
    @Test(.timeLimit(.minutes(2)))
    func clientRefusesAnOfferBelowItsPolicy() async throws {
        let sandbox = try ProcessSandbox()
        defer { sandbox.stopAll() }
        let (server, port) = try await startServer(
            sandbox, ["--clients", "10", "--length", "16", "--threshold", "2", "--round-timeout", "30", "--plaintext"])
        let path = try GridInputs.write(index: 1, count: 16, in: sandbox.directory)
        let client = try sandbox.start(
            "client-1", ["join", "--server", "127.0.0.1:\(port)", "--index", "1", "--input", path, "--plaintext"])
        #expect(try await client.wait(timeout: .seconds(60)) == 2)
        #expect(
            client.stderr.contains(
                "Error: refusing the session: the threshold t = 2 is below this client's minimum of 50% of its 9 "
                    + "neighbours (t ≥ 5, --min-threshold-fraction)"), "\(client.stderr)")
        // Nothing was sent: the server never saw a stream.
        #expect(!server.stderr.contains("round advertise-keys"))
        #expect(server.isRunning)
    }

    /// TLS with a test certificate authority made here by `openssl`: the server authenticates itself and requires
    /// client certificates whose common name is `secagg-client-<index>`. Clients 1–3 complete; a client presenting
    /// client 1's certificate while claiming index 4 is refused.
    @Test(.timeLimit(.minutes(3)))
    func tlsWithClientCertificates() async throws {
        let sandbox = try ProcessSandbox()
        defer { sandbox.stopAll() }
        let pki = try TestPKI(directory: sandbox.directory, clients: 3)
        let n = 4
        let m = 64
        let output = sandbox.file("sum.safetensors")
        let (server, port) = try await startServer(
            sandbox,
            [
                "--clients", "\(n)", "--length", "\(m)", "--modulus", "\(GridInputs.modulus(clientCount: n))",
                "--threshold", "2", "--round-timeout", "8", "--output", output.path, "--json",
                "--tls-cert", pki.serverCertificate, "--tls-key", pki.serverKey, "--tls-client-ca", pki.authority,
            ])
        func join(_ index: Int, certificateOf owner: Int) throws -> NodeProcess {
            let path = try GridInputs.write(index: index, count: m, in: sandbox.directory)
            return try sandbox.start(
                "client-\(index)",
                [
                    "join", "--server", "localhost:\(port)", "--index", "\(index)", "--input", path,
                    "--tls-ca", pki.authority, "--tls-cert", pki.clientCertificate(owner), "--tls-key",
                    pki.clientKey(owner),
                ])
        }
        let impostor = try join(4, certificateOf: 1)
        #expect(try await impostor.wait(timeout: .seconds(60)) == 1)
        #expect(impostor.stderr.contains("the client certificate is for client 1, not 4"), "\(impostor.stderr)")
        let clients = try (1...3).map { try join($0, certificateOf: $0) }

        #expect(try await server.wait(timeout: .seconds(90)) == 0, "\(sandbox.logs)")
        let summary = try ServeSummaryJSON(server.stdout)
        #expect(summary.included == [1, 2, 3])
        #expect(server.stderr.contains("TLS with client certificates"))
        let written = try SafeTensorsFile.read(contentsOf: output).tensors
        #expect(written.map(\.name) == ["sum"])
        #expect(written.first?.values == GridInputs.sum(of: [1, 2, 3], count: m))
        for client in clients { #expect(try await client.wait(timeout: .seconds(30)) == 0, "\(client.stderr)") }
    }

    /// The active model across processes: `keygen` makes the cohort's keys; the server publishes them in the
    /// configuration, every client signs with its own and checks the published keys against the expected file. A
    /// client given another cohort's key file refuses the offer.
    @Test(.timeLimit(.minutes(2)))
    func activeModelWithSignedKeys() async throws {
        let sandbox = try ProcessSandbox()
        defer { sandbox.stopAll() }
        let n = 4
        let m = 32
        let keys = sandbox.file("keys").path
        let otherKeys = sandbox.file("other").path
        #expect(
            try await sandbox.start("keygen", ["keygen", "--clients", "\(n)", "--output", keys]).wait(
                timeout: .seconds(30)) == 0)
        #expect(
            try await sandbox.start("keygen-other", ["keygen", "--clients", "\(n)", "--output", otherKeys]).wait(
                timeout: .seconds(30)) == 0)
        let output = sandbox.file("sum.npy")
        let (server, port) = try await startServer(
            sandbox,
            [
                "--clients", "\(n)", "--length", "\(m)", "--modulus", "\(GridInputs.modulus(clientCount: n))",
                "--model", "active", "--verification-keys", "\(keys)/verification-keys.txt", "--round-timeout", "30",
                "--output", output.path, "--plaintext", "--json",
            ])
        func join(_ index: Int, expecting keyFile: String) throws -> NodeProcess {
            let path = try GridInputs.write(index: index, count: m, in: sandbox.directory)
            return try sandbox.start(
                "client-\(index)-\(keyFile.hasSuffix("other/verification-keys.txt") ? "other" : "own")",
                [
                    "join", "--server", "127.0.0.1:\(port)", "--index", "\(index)", "--input", path, "--plaintext",
                    "--signing-key", "\(keys)/client-\(index).key", "--verification-keys", keyFile,
                ])
        }
        let misled = try join(1, expecting: "\(otherKeys)/verification-keys.txt")
        #expect(try await misled.wait(timeout: .seconds(60)) == 2)
        #expect(misled.stderr.contains("the offered verification keys are not the expected ones"), "\(misled.stderr)")
        let clients = try (1...n).map { try join($0, expecting: "\(keys)/verification-keys.txt") }
        #expect(try await server.wait(timeout: .seconds(60)) == 0, "\(sandbox.logs)")
        #expect(try ServeSummaryJSON(server.stdout).included == [1, 2, 3, 4])
        #expect(server.stderr.contains("active"))
        #expect(try NpyFile.read(contentsOf: output).values == GridInputs.sum(of: Array(1...n), count: m))
        for client in clients { #expect(try await client.wait(timeout: .seconds(30)) == 0, "\(client.stderr)") }
    }

    /// The largest client message of the hostile test's configuration (the masked input).
    static func maximumClientMessage(n: Int, m: Int, modulus: UInt64) -> Int {
        let configuration = SessionConfiguration(
            clientCount: n, threshold: 5,
            inputs: [InputSpecification(name: "update", length: m, modulus: .integer(modulus))],
            nonce: [UInt8](repeating: 0, count: 32))
        return configuration.maximumClientMessageByteCount(in: .maskedInputCollection)
    }
}

/// A certificate authority, a server certificate for localhost and 127.0.0.1, and client certificates with
/// common names `secagg-client-<i>`, made with the `openssl` command (P-256 keys, valid for one day).
struct TestPKI {
    let directory: URL
    var authority: String { directory.appendingPathComponent("ca.pem").path }
    var serverCertificate: String { directory.appendingPathComponent("server.pem").path }
    var serverKey: String { directory.appendingPathComponent("server.key").path }
    func clientCertificate(_ i: Int) -> String { directory.appendingPathComponent("client-\(i).pem").path }
    func clientKey(_ i: Int) -> String { directory.appendingPathComponent("client-\(i).key").path }

    init(directory: URL, clients: Int) throws {
        self.directory = directory
        let path = directory.path
        try Self.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            "\(path)/ca.key", "-out", "\(path)/ca.pem", "-days", "1", "-subj", "/CN=secagg test CA",
        ])
        try Self.issue(
            name: "server", subject: "/CN=localhost", directory: path,
            extensions: "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        for i in 1...clients {
            try Self.issue(
                name: "client-\(i)", subject: "/CN=secagg-client-\(i)", directory: path,
                extensions: "extendedKeyUsage=clientAuth\n")
        }
    }

    private static func issue(name: String, subject: String, directory: String, extensions: String) throws {
        try extensions.write(toFile: "\(directory)/\(name).ext", atomically: true, encoding: .utf8)
        try openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            "\(directory)/\(name).key", "-out", "\(directory)/\(name).csr", "-subj", subject,
        ])
        try openssl([
            "x509", "-req", "-in", "\(directory)/\(name).csr", "-CA", "\(directory)/ca.pem", "-CAkey",
            "\(directory)/ca.key", "-CAcreateserial", "-out", "\(directory)/\(name).pem", "-days", "1", "-extfile",
            "\(directory)/\(name).ext",
        ])
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw HarnessError("openssl \(arguments.prefix(2).joined(separator: " ")) failed")
        }
    }
}
