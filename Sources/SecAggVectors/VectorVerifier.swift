public import Foundation

/// The outcome of checking one file.
public struct VectorFileReport: Sendable {
    /// Path relative to the vectors directory.
    public var file: String
    /// The suite that checked it (nil when none accepted it or it could not be read).
    public var suite: String?
    /// Cases that matched.
    public var passedCount: Int
    /// Cases that did not match, plus one for a file that is malformed or has no suite.
    public var failedCount: Int
    /// The failing cases (and documented decisions are in ``notes``).
    public var failures: [VectorCaseResult]
    /// Passing cases that carry a note: the documented decision for a Wycheproof `acceptable` case.
    public var notes: [VectorCaseResult]
    /// Why the whole file failed, when it did.
    public var fileError: String?
}

/// The outcome of checking a directory.
public struct VectorReport: Sendable {
    /// One entry per JSON file, sorted by path.
    public var files: [VectorFileReport]

    /// Cases that matched, over all files.
    public var passedCount: Int { files.reduce(0) { $0 + $1.passedCount } }
    /// Failures, over all files.
    public var failedCount: Int { files.reduce(0) { $0 + $1.failedCount } }
    /// Passed cases per suite name.
    public var passedCountBySuite: [String: Int] {
        files.reduce(into: [:]) { counts, file in
            if let suite = file.suite { counts[suite, default: 0] += file.passedCount }
        }
    }
    /// The closing line: `"N passed, N failed"`.
    public var summaryLine: String { "\(passedCount) passed, \(failedCount) failed" }
}

/// Walks a vectors directory and checks every JSON file with the suite that accepts it.
///
/// README/LICENSE and other non-JSON files are skipped, as is everything under `files/` (fixtures that
/// other tests load, not known-answer files). A JSON file that no suite accepts is a failure.
public struct VectorVerifier: Sendable {
    /// The suites tried, in order; the first that accepts a file checks it.
    public var suites: [any VectorSuite]

    /// A verifier over ``VectorCatalog/suites`` by default.
    public init(suites: [any VectorSuite] = VectorCatalog.suites) {
        self.suites = suites
    }

    /// The JSON files under `directory` (relative paths, sorted), skipping `files/`.
    public static func vectorFiles(in directory: URL) throws(VectorError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw .missingDirectory(path: directory.path) }
        guard let enumerator = FileManager.default.enumerator(atPath: directory.path) else {
            throw .missingDirectory(path: directory.path)
        }
        var found: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if relative == "files" || relative.hasPrefix("files/") { continue }
            guard relative.hasSuffix(".json") else { continue }
            found.append(relative)
        }
        return found.sorted()
    }

    /// Checks every vector file under `directory`.
    public func verify(directory: URL) throws(VectorError) -> VectorReport {
        let files = try Self.vectorFiles(in: directory)
        return VectorReport(files: files.map { verify(file: $0, at: directory.appendingPathComponent($0)) })
    }

    /// Checks one file; never throws: unreadable, malformed and unclaimed files are reported as failures.
    public func verify(file relative: String, at url: URL) -> VectorFileReport {
        var report = VectorFileReport(
            file: relative, suite: nil, passedCount: 0, failedCount: 0, failures: [], notes: [], fileError: nil)
        func fail(_ message: String) -> VectorFileReport {
            report.failedCount += 1
            report.fileError = message
            return report
        }
        guard let data = FileManager.default.contents(atPath: url.path) else { return fail("cannot read file") }
        let header: VectorFileHeader
        do {
            header = try VectorJson.decode(VectorFileHeader.self, from: data, fileName: relative)
        } catch {
            return fail(error.description)
        }
        guard let suite = suites.first(where: { $0.accepts(header, fileName: relative) }) else {
            return fail(VectorError.noSuite(file: relative, algorithm: header.algorithm).description)
        }
        report.suite = suite.name
        let results: [VectorCaseResult]
        do {
            results = try suite.verify(data, fileName: relative)
        } catch let error as VectorError {
            return fail(error.description)
        } catch {
            return fail("\(relative): \(error)")
        }
        for result in results {
            if result.passed {
                report.passedCount += 1
                if !result.message.isEmpty { report.notes.append(result) }
            } else {
                report.failedCount += 1
                report.failures.append(result)
            }
        }
        // Every declared case must have been checked: a silently skipped case is a failure.
        if let declared = header.numberOfTests, declared != results.count {
            report.failedCount += 1
            report.failures.append(
                VectorCaseResult(
                    file: relative, caseId: 0, passed: false,
                    message: "declares \(declared) tests but \(results.count) were checked"))
        }
        return report
    }

    /// Writes every generator's file under `directory` (creating folders); returns the paths written.
    public static func generate(
        into directory: URL, generators: [any VectorGenerator] = VectorCatalog.generators
    ) throws -> [String] {
        var written: [String] = []
        for generator in generators {
            let url = directory.appendingPathComponent(generator.relativePath)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try generator.generate().write(to: url, options: .atomic)
            written.append(generator.relativePath)
        }
        return written
    }
}
