public import Foundation

/// Our vector-file envelope (SPEC.md §13): the header fields and the test groups.
public struct VectorEnvelope<Group: Codable & Sendable>: Codable, Sendable {
    /// The schema tag of every file we write.
    public static var currentSchemaVersion: String { "secagg-vectors-v1" }
    /// The SPEC.md version the files follow.
    public static var currentSpecVersion: String { "3" }

    /// The suite name, e.g. `"secagg-mask-prg"`.
    public var algorithm: String
    /// Always ``currentSchemaVersion``.
    public var schemaVersion: String
    /// The SPEC.md version.
    public var specVersion: String
    /// How the file was produced.
    public var generator: String
    /// What the file covers.
    public var header: String
    /// The number of test cases over all groups.
    public var numberOfTests: Int
    /// The groups.
    public var testGroups: [Group]

    /// An envelope for the current schema and spec version; counts the tests with `testCount`.
    public init(algorithm: String, generator: String, header: String, testGroups: [Group], testCount: Int) {
        self.algorithm = algorithm
        schemaVersion = Self.currentSchemaVersion
        specVersion = Self.currentSpecVersion
        self.generator = generator
        self.header = header
        numberOfTests = testCount
        self.testGroups = testGroups
    }
}

/// JSON reading and writing shared by the suites and generators.
public enum VectorJson {
    /// Pretty-printed, key-sorted JSON with a trailing newline: byte-identical for identical values.
    public static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Decodes `T`, turning any decoding error into ``VectorError/malformedFile(file:reason:)``.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, fileName: String) throws(VectorError)
        -> T
    {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw .malformedFile(file: fileName, reason: Self.reason(error))
        }
    }

    /// A short reason for a decoding error (the field path, not the whole dump).
    static func reason(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "invalid JSON" }
        switch decoding {
        case let .keyNotFound(key, context):
            return "missing field \(path(context.codingPath + [key]))"
        case let .typeMismatch(_, context), let .valueNotFound(_, context):
            return "wrong type at \(path(context.codingPath))"
        case let .dataCorrupted(context):
            return context.codingPath.isEmpty ? "invalid JSON" : "invalid value at \(path(context.codingPath))"
        @unknown default:
            return "invalid JSON"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}

/// Field access that turns bad values into ``VectorError/malformedFile(file:reason:)``.
struct FieldReader {
    let fileName: String

    /// Decodes a hex field.
    func bytes(_ hex: String, _ field: String, caseId: Int) throws(VectorError) -> [UInt8] {
        guard let bytes = Hex.decode(hex) else {
            throw .malformedFile(file: fileName, reason: "case \(caseId): field \(field) is not hex")
        }
        return bytes
    }

    /// Parses a decimal UInt64 string field.
    func uint64(_ decimal: String, _ field: String, caseId: Int) throws(VectorError) -> UInt64 {
        guard let value = UInt64(decimal) else {
            throw .malformedFile(file: fileName, reason: "case \(caseId): field \(field) is not a decimal UInt64")
        }
        return value
    }

    /// Fails unless the expected result is one of the allowed values.
    func result(_ result: String, caseId: Int, allowed: Set<String> = ["valid", "invalid"]) throws(VectorError) {
        guard allowed.contains(result) else {
            throw .malformedFile(file: fileName, reason: "case \(caseId): unknown result \"\(result)\"")
        }
    }
}

/// Helpers shared by the suites of our own files.
protocol OwnFormatSuite: VectorSuite {
    /// The `algorithm` value of the files this suite checks.
    var algorithm: String { get }
}

extension OwnFormatSuite {
    /// The algorithm name doubles as the suite name.
    var name: String { algorithm }

    /// Accepts files of our schema with this algorithm.
    func accepts(_ header: VectorFileHeader, fileName: String) -> Bool {
        header.schemaVersion == VectorEnvelope<Int>.currentSchemaVersion && header.algorithm == algorithm
    }
}

/// Builds case results for one file.
struct CaseRecorder {
    let fileName: String
    private(set) var results: [VectorCaseResult] = []

    init(fileName: String) {
        self.fileName = fileName
    }

    /// Records a pass when `passed`, else a failure with `message`.
    mutating func record(_ caseId: Int, _ passed: Bool, _ message: @autoclosure () -> String, note: String = "") {
        results.append(
            VectorCaseResult(file: fileName, caseId: caseId, passed: passed, message: passed ? note : message()))
    }
}
