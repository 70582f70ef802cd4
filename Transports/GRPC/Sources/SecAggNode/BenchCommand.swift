import ArgumentParser
import Foundation
import Logging
import SecAggCrypto
import SecAggGRPC
import SecureAggregation
import Synchronization

/// `secagg-node bench`: a whole session across two processes on loopback, next to `secagg bench protocol`.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time one session over gRPC: the server here, n clients in a second process on loopback.",
        discussion: """
            The server runs in this process; a second process (`secagg-node swarm`) runs the n clients, each on a \
            connection of its own, with synthetic inputs; --drop F of them close their connection instead of \
            sending their masked input (they shared keys: the dropouts that cost the server pair masks), as \
            `secagg bench protocol --drop F` does. Prints the session's wall time (first stream to the \
            end-of-session messages) and checks the aggregate against the plaintext sum of the included \
            clients. With --secagg PATH it also runs `PATH bench protocol` on the same configuration (alternating \
            with the network sessions, --repeat times each) and prints the medians and minimums of both session \
            times and their ratios. Use release builds of both (Scripts/bench.sh builds and runs them).
            """)

    @Option(help: "Number of clients n.")
    var clients = 100

    @Option(help: "Vector length m.")
    var length = 100_000

    @Option(help: "Element bit width b.")
    var bits = 32

    @Option(help: "Fraction of the clients that drop after sharing keys.")
    var drop = 0.1

    @Option(name: .customLong("round-timeout"), help: "Deadline of each round, in seconds.")
    var roundTimeout = 120.0

    @Option(help: "Seed of the synthetic inputs.")
    var seed: UInt64 = 1

    @Option(help: "A `secagg` executable (release build) to run `bench protocol` with for the comparison.")
    var secagg: String?

    @Option(name: .customLong("repeat"), help: "Sessions of each kind, alternated (medians and minimums are reported).")
    var repeats = 5

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(name: .customLong("log-level"), help: "Log level of the server.")
    var logLevel = "notice"

    func run() async throws {
        let logger = try bootstrapLogging(level: logLevel, label: "secagg-node.bench")
        guard clients >= 3, length >= 1, (0..<1).contains(drop) else {
            throw ValidationError("need --clients ≥ 3, --length ≥ 1 and --drop in [0, 1)")
        }
        let ring = RingModulus.powerOfTwo(bitWidth: bits)
        let configuration = SessionConfiguration(
            clientCount: clients, threshold: SessionConfiguration.defaultThreshold(clientCount: clients),
            inputs: [InputSpecification(name: "update", length: length, modulus: ring)],
            nonce: SessionConfiguration.randomNonce())
        let offer = SessionOffer(
            configuration: configuration, clip: 1, roundTimeout: .milliseconds(Int64(roundTimeout * 1000)))
        guard repeats >= 1 else { throw ValidationError("--repeat must be at least 1") }

        // Alternate the two so that the machine's load (shared) falls on both alike; report medians and minimums.
        var runs: [NetworkRun] = []
        var references: [Double] = []
        for _ in 0..<repeats {
            runs.append(try await runNetworkSession(offer: offer, ring: ring, logger: logger))
            if let secagg { references.append(try runReference(secagg)) }
        }
        let network = runs.map(\.report.sessionSeconds)
        let last = runs[runs.count - 1]
        let verified = runs.allSatisfy(\.verified)
        let swarmsSucceeded = runs.allSatisfy { $0.swarmStatus == 0 }
        let included = last.report.result?.includedClients.count ?? 0
        let ratio = references.isEmpty ? nil : median(network) / median(references)
        if json {
            var object: [String: Any] = [
                "clients": clients, "length": length, "modulus": ring.description, "threshold": configuration.threshold,
                "included": included, "dropped": clients - included, "network_session_s": network,
                "network_session_median_s": median(network), "verified": verified, "swarms_succeeded": swarmsSucceeded,
                "rounds": last.report.rounds.map {
                    ["round": $0.round, "seconds": $0.seconds, "bytes_in": $0.bytesIn]
                },
            ]
            if !references.isEmpty {
                object["in_process_session_s"] = references
                object["in_process_session_median_s"] = median(references)
            }
            if let ratio { object["ratio_of_medians"] = ratio }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(
                "network session: n=\(clients) m=\(length) \(ring) t=\(configuration.threshold), "
                    + "\(included) included, \(clients - included) dropped after sharing keys; verified \(verified)")
            for round in last.report.rounds { print("  \(round.round): \(format(round.seconds)) s (last run)") }
            print(
                "  session wall time (first stream to end-of-session): median \(format(median(network))) s, min "
                    + "\(format(network.min() ?? 0)) s over \(network.count) runs")
            if let ratio {
                print(
                    "  secagg bench protocol, same configuration, session_s: median \(format(median(references))) s, "
                        + "min \(format(references.min() ?? 0)) s")
                print(
                    "  ratio network / in-process: \(String(format: "%.2f", ratio)) (medians), "
                        + "\(String(format: "%.2f", (network.min() ?? 0) / (references.min() ?? 1))) (minimums)")
            }
        }
        if !verified || !swarmsSucceeded { throw ExitCode(ExitStatus.failure) }
    }

    private struct NetworkRun {
        var report: SessionReport
        var verified: Bool
        var swarmStatus: Int32
    }

    /// One session: the server here, the clients in a `swarm` process; the aggregate checked against the plaintext
    /// sum of the included clients' synthetic inputs.
    private func runNetworkSession(offer: SessionOffer, ring: RingModulus, logger: Logger) async throws -> NetworkRun {
        var options = AggregationServerOptions(offer: offer, host: "127.0.0.1", port: 0, security: .plaintext)
        options.maximumStreams = 2 * clients + 16
        let child = Mutex<Process?>(nil)
        let spawnError = Mutex<String?>(nil)
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let arguments = [
            "swarm", "--clients", "\(clients)", "--length", "\(length)", "--drop", "\(drop)", "--seed", "\(seed)",
        ]
        let report: SessionReport
        do {
            report = try await AggregationServer.run(options, logger: logger) { port in
                let process = Process()
                process.executableURL = executable
                process.arguments = arguments + ["--server", "127.0.0.1:\(port)"]
                do {
                    try process.run()
                    child.withLock { $0 = process }
                } catch {
                    spawnError.withLock { $0 = "cannot start the client process: \(error)" }
                }
            }
        } catch {
            child.withLock { $0?.terminate() }
            throw fail("\(error)")
        }
        if let message = spawnError.withLock({ $0 }) { throw fail(message) }
        let process = child.withLock { $0 }
        process?.waitUntilExit()
        guard let result = report.result else {
            throw fail("the session aborted: \(report.abortReason ?? "unknown")")
        }
        var expected = [UInt64](repeating: 0, count: length)
        for client in result.includedClients {
            let vector = SyntheticInput.vector(client: client.rawValue, seed: seed, length: length, modulus: ring)
            for i in 0..<length { expected[i] = ring.add(expected[i], vector[i]) }
        }
        return NetworkRun(
            report: report, verified: expected == result.vectors[0], swarmStatus: process?.terminationStatus ?? -1)
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    private func format(_ seconds: Double) -> String { String(format: "%.3f", seconds) }

    /// Runs `secagg bench protocol` on the same configuration and returns its in-process session time.
    private func runReference(_ path: String) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = [
            "bench", "protocol", "--clients", "\(clients)", "--length", "\(length)", "--bits", "\(bits)", "--drop",
            "\(drop)", "--seed", "\(seed)", "--json",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let session = object["session_s"] as? Double
        else {
            throw fail("\(path) bench protocol failed or printed no session_s")
        }
        return session
    }
}

/// `secagg-node swarm` (for `bench`): n clients in one process, each on its own connection.
struct SwarmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swarm",
        abstract: "Run n benchmark clients with synthetic inputs, each on its own gRPC connection (used by bench).",
        shouldDisplay: false)

    @Option(help: "The server, HOST:PORT (plaintext).")
    var server: String

    @Option(help: "Number of clients n.")
    var clients: Int

    @Option(help: "Vector length m.")
    var length: Int

    @Option(help: "Fraction of the clients that close their connection instead of sending their masked input.")
    var drop: Double

    @Option(help: "Seed of the synthetic inputs.")
    var seed: UInt64

    @Option(name: .customLong("log-level"), help: "Log level of the clients.")
    var logLevel = "warning"

    func run() async throws {
        let logger = try bootstrapLogging(level: logLevel, label: "secagg-node.swarm")
        let endpoint = try Endpoint(parsing: server, option: "--server")
        let droppedCount = Int((drop * Double(clients)).rounded())
        // The last ⌊…⌉ indices drop: which ones does not change the cost.
        let dropped = Set((clients - droppedCount + 1...clients).map { UInt32($0) }.filter { $0 >= 1 })
        let (seed, length) = (self.seed, self.length)
        let failures = await withTaskGroup(of: String?.self, returning: [String].self) { group in
            for index in 1...UInt32(clients) {
                group.addTask {
                    var options = JoinOptions(
                        host: endpoint.host, port: endpoint.port, security: .plaintext, index: ClientID(index))
                    options.connectTimeout = .seconds(60)
                    let drops = dropped.contains(index)
                    let hooks = ClientHooks { round, bytes in
                        drops && round == .maskedInputCollection ? .disconnect : .send(bytes)
                    }
                    do {
                        let report = try await AggregationClient.join(
                            options, valueCount: length, logger: logger, hooks: hooks
                        ) { (offer) throws(NodeError) -> [UInt64] in
                            SyntheticInput.vector(
                                client: index, seed: seed, length: length,
                                modulus: offer.configuration.inputs[0].modulus)
                        }
                        if drops { return "client \(index) was to drop but completed" }
                        return report.inputIncluded ? nil : "client \(index): input not included"
                    } catch {
                        return drops ? nil : "client \(index): \(error)"
                    }
                }
            }
            var failures: [String] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        for failure in failures { logger.error("\(failure)") }
        if !failures.isEmpty { throw ExitCode(ExitStatus.failure) }
    }
}
