public import Foundation

/// The fields every vector file has at its top level: our own files and Project Wycheproof's alike.
public struct VectorFileHeader: Decodable, Sendable {
    /// The algorithm or suite name (`"XDH"`, `"secagg-mask-prg"`, …).
    public var algorithm: String
    /// Wycheproof's schema file name, when present (`"xdh_comp_schema.json"`).
    public var schema: String?
    /// Our schema tag, `"secagg-vectors-v1"`, when present.
    public var schemaVersion: String?
    /// The number of cases the file declares.
    public var numberOfTests: Int?
}

/// The outcome of one known-answer case.
public struct VectorCaseResult: Sendable, Hashable {
    /// File name relative to the vectors directory.
    public var file: String
    /// The case id inside the file (`tcId`), or a running number.
    public var caseId: Int
    /// True when the implementation matched the expectation.
    public var passed: Bool
    /// Why it failed (or a note for a documented decision); never contains secrets beyond the vector itself.
    public var message: String

    /// Creates a result.
    public init(file: String, caseId: Int, passed: Bool, message: String = "") {
        self.file = file
        self.caseId = caseId
        self.passed = passed
        self.message = message
    }
}

/// A checker for one kind of vector file.
public protocol VectorSuite: Sendable {
    /// A short name for reports.
    var name: String { get }
    /// True when this suite checks files with this header.
    func accepts(_ header: VectorFileHeader, fileName: String) -> Bool
    /// Checks every case in the file. Throws only when the file itself is unreadable or malformed.
    func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult]
}

/// A producer of one of our own (self-generated) vector files, deterministic from fixed seeds.
public protocol VectorGenerator: Sendable {
    /// Path relative to the vectors directory, e.g. `"primitives/mask_prg.json"`.
    var relativePath: String { get }
    /// The file contents (pretty-printed JSON with sorted keys, trailing newline).
    func generate() throws -> Data
}

/// Errors of the vectors module.
public enum VectorError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file is not valid JSON or lacks required fields.
    case malformedFile(file: String, reason: String)
    /// No suite accepts this file.
    case noSuite(file: String, algorithm: String)
    /// The vectors directory does not exist.
    case missingDirectory(path: String)

    /// One line.
    public var description: String {
        switch self {
        case let .malformedFile(file, reason): "\(file): malformed vector file: \(reason)"
        case let .noSuite(file, algorithm): "\(file): no checker for algorithm \(algorithm)"
        case let .missingDirectory(path): "vectors directory not found: \(path)"
        }
    }
}
