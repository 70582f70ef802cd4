import ArgumentParser
import Foundation
import Logging
import SecAggGRPC
import SecureAggregation

/// `secagg-node`: one secure-aggregation session across processes, over gRPC. (`@main`: an asynchronous root command;
/// a top-level `await NodeCommand.main()` would pick the synchronous entry point.)
@main
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secagg-node",
        abstract: "Run a secure-aggregation server or client over gRPC (HTTP/2).",
        discussion: """
            `serve` runs one session and writes the aggregate; `join` runs one client. Both need TLS certificates \
            or --plaintext. Exit code 0 only when the session completed (for `join`: with this client's input in \
            the aggregate); 2 when a client refuses the server's offer under its policy; 1 otherwise.
            """,
        subcommands: [ServeCommand.self, JoinCommand.self, KeygenCommand.self, BenchCommand.self, SwarmCommand.self])
}

/// Exit codes.
enum ExitStatus {
    static let failure: Int32 = 1
    static let refused: Int32 = 2
}

/// `HOST:PORT` (IPv4 address or host name).
struct Endpoint: Sendable {
    var host: String
    var port: Int

    init(parsing text: String, option: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port), colon != text.startIndex
        else {
            throw ValidationError("\(option) must be HOST:PORT, got '\(text)'")
        }
        host = String(text[..<colon])
        self.port = port
    }
}

/// Sets up swift-log: one line per record on standard error.
func bootstrapLogging(level: String, label: String) throws -> Logger {
    guard let parsed = Logger.Level(rawValue: level) else {
        throw ValidationError(
            "--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = parsed
        return handler
    }
    return Logger(label: label)
}

/// Ends the process with `status` after printing `Error: …` on standard error.
func fail(_ message: String, status: Int32 = ExitStatus.failure) -> ExitCode {
    FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
    return ExitCode(status)
}

/// Parses a round name as the tool prints it (`share-keys`, `masked-input`, …).
func parseRound(_ text: String) throws -> ProtocolRound {
    guard let round = ProtocolRound.allCases.first(where: { $0.description == text }) else {
        throw ValidationError(
            "unknown round '\(text)' (one of \(ProtocolRound.allCases.map(\.description).joined(separator: ", ")))")
    }
    return round
}
