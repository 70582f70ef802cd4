// The fuzz driver. Compiled with `-D SECAGG_LIBFUZZER` (and `-sanitize=fuzzer`) it is a libFuzzer harness:
// libFuzzer supplies `main`, and `LLVMFuzzerTestOneInput` runs the target named by the environment
// variable SECAGG_FUZZ_TARGET (`--list` prints the names). Compiled without it, it replays files through a
// target, e.g. to reproduce a crash in a debug build:
//
//     swift run SecAggFuzzer <target> <file or directory>...   # runs every file through the target
//     swift run SecAggFuzzer --list                            # the targets
//
// A property violation stops the process with the target's fatalError message in both forms.
import Foundation
import SecAggFuzzing

private func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

private func targetList() -> String {
    FuzzRegistry.all.map { "  \($0.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \($0.summary)" }
        .joined(separator: "\n")
}

/// The target, after its requirement check; exits otherwise with status 2 (unknown target), 3 (this
/// machine cannot run what the target tests) or 4 (the implementation failed its self-test: a bug).
private func selectTarget(_ name: String?) -> FuzzTarget {
    guard let name, let target = FuzzRegistry.target(named: name) else {
        printError(
            (name.map { "unknown fuzz target \"\($0)\"" } ?? "no fuzz target selected")
                + "; set SECAGG_FUZZ_TARGET (libFuzzer build) or pass it as the first argument. Targets:\n"
                + targetList())
        exit(2)
    }
    let requirement = target.requirement()
    if let reason = requirement.reason {
        let bar = String(repeating: "!", count: 100)
        printError("\(bar)\nFUZZ TARGET \(name) CANNOT RUN: \(reason)\n\(bar)")
        exit(requirement == .failedSelfTest(reason) ? 4 : 3)
    }
    return target
}

#if SECAGG_LIBFUZZER
    nonisolated(unsafe) private var selected: FuzzTarget?

    /// libFuzzer's start-up hook: selects the target (and checks it can run) once, before any input.
    @_cdecl("LLVMFuzzerInitialize")
    public func fuzzerInitialize(
        _ argc: UnsafeMutablePointer<CInt>?,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
    ) -> CInt {
        let name = ProcessInfo.processInfo.environment["SECAGG_FUZZ_TARGET"]
        if name == "--list" {
            print(FuzzRegistry.names.joined(separator: "\n"))
            exit(0)
        }
        selected = selectTarget(name)
        return 0
    }

    /// libFuzzer's entry point: one input through the selected target.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        (selected ?? selectTarget(ProcessInfo.processInfo.environment["SECAGG_FUZZ_TARGET"])).run(bytes)
        return 0
    }
#else
    @main
    struct Replayer {
        static func main() {
            let arguments = Array(CommandLine.arguments.dropFirst())
            if arguments.first == "--list" || arguments.first == "-h" || arguments.first == "--help" {
                print(
                    "usage: SecAggFuzzer <target> <file or directory>...\n"
                        + "       SecAggFuzzer --write-seeds <target> <directory>\ntargets:\n\(targetList())")
                return
            }
            if arguments.first == "--write-seeds", arguments.count == 3 {
                let target = selectTarget(arguments[1])
                let directory = URL(fileURLWithPath: arguments[2])
                try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                let seeds = target.seeds()
                for (i, seed) in seeds.enumerated() {
                    let file = directory.appendingPathComponent(String(format: "seed-%04d", i))
                    guard FileManager.default.createFile(atPath: file.path, contents: Data(seed)) else {
                        printError("cannot write \(file.path)")
                        exit(2)
                    }
                }
                print("\(target.name): wrote \(seeds.count) seeds to \(directory.path)")
                return
            }
            let target = selectTarget(arguments.first)
            var files: [URL] = []
            for path in arguments.dropFirst() {
                let url = URL(fileURLWithPath: path)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                    printError("no such file: \(path)")
                    exit(2)
                }
                if isDirectory.boolValue {
                    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                    files += names.sorted().filter { !$0.hasPrefix(".") }.map { url.appendingPathComponent($0) }
                } else {
                    files.append(url)
                }
            }
            for file in files {
                guard let data = FileManager.default.contents(atPath: file.path) else {
                    printError("cannot read \(file.path)")
                    exit(2)
                }
                print("\(target.name): \(file.path) (\(data.count) bytes)")
                target.run([UInt8](data))
            }
            print("\(target.name): \(files.count) inputs, no property violated")
        }
    }
#endif
