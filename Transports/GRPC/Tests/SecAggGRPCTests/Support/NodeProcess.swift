import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A `secagg-node` process whose standard output and error go to files, so that a test can wait for a log line,
/// kill it with a signal and read what it printed.
final class NodeProcess: @unchecked Sendable {
    let name: String
    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL

    init(name: String, arguments: [String], directory: URL) throws {
        self.name = name
        stdoutURL = directory.appendingPathComponent("\(name).out")
        stderrURL = directory.appendingPathComponent("\(name).err")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = try Self.executable()
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// The built `secagg-node`: `SECAGG_NODE`, or next to the test bundle (the test target depends on the executable,
    /// so `swift test` builds it into the same folder).
    static func executable() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["SECAGG_NODE"] { return URL(fileURLWithPath: path) }
        var candidates: [URL] = []
        let argument0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(argument0.deletingLastPathComponent().appendingPathComponent("secagg-node"))
        candidates.append(
            argument0.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("secagg-node"))
        if let bundle = Bundle.main.executableURL {
            candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("secagg-node"))
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        throw HarnessError("secagg-node not found near \(argument0.path); set SECAGG_NODE")
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }
    var pid: Int32 { process.processIdentifier }

    /// Waits until standard error contains `text`; returns the first line containing it.
    @discardableResult
    func waitForLog(_ text: String, timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = stderr.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            if !process.isRunning {
                if let line = stderr.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
                throw HarnessError("\(name) exited (\(process.terminationStatus)) before logging '\(text)':\n\(stderr)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("\(name) did not log '\(text)' within \(timeout):\n\(stderr)")
    }

    /// Waits for the process to exit and returns its status.
    func wait(timeout: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                throw HarnessError("\(name) still running after \(timeout):\n\(stderr)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    /// Sends `signal` (SIGKILL by default) if the process still runs.
    func kill(_ signal: Int32 = SIGKILL) {
        if process.isRunning { _ = Glibc.kill(process.processIdentifier, signal) }
    }
}

/// Processes and files of one test: every process is killed and reaped when the test ends, passed or failed.
final class ProcessSandbox: @unchecked Sendable {
    let directory: URL
    private var processes: [NodeProcess] = []

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("secagg-grpc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func start(_ name: String, _ arguments: [String]) throws -> NodeProcess {
        let process = try NodeProcess(name: name, arguments: arguments, directory: directory)
        processes.append(process)
        return process
    }

    func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Kills every process still running, reaps them, and removes the files (kept when KEEP_SECAGG_TEST_FILES is set).
    func stopAll() {
        for process in processes { process.kill() }
        for process in processes { process.process.waitUntilExit() }
        if ProcessInfo.processInfo.environment["KEEP_SECAGG_TEST_FILES"] == nil {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// Everything the processes printed on standard error (for failure messages).
    var logs: String {
        processes.map { "--- \($0.name) ---\n\($0.stderr)" }.joined(separator: "\n")
    }
}

/// A harness failure (a process did not behave as the test expected).
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Starts `secagg-node serve` on a free loopback port and returns it with the port from its log.
func startServer(_ sandbox: ProcessSandbox, _ arguments: [String]) async throws -> (NodeProcess, Int) {
    let server = try sandbox.start("server", ["serve", "--listen", "127.0.0.1:0"] + arguments)
    let line = try await server.waitForLog("listening on 127.0.0.1:", timeout: .seconds(60))
    guard let range = line.range(of: "listening on 127.0.0.1:"),
        let port = Int(line[range.upperBound...].prefix(while: \.isNumber))
    else { throw HarnessError("no port in '\(line)'") }
    return (server, port)
}
