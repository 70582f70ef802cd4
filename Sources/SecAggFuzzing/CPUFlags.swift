import Foundation

/// The CPU feature flags the kernel reports (Linux `/proc/cpuinfo`), to tell "this CPU cannot run the
/// SIMD kernel" from "the kernel failed its self-test on a CPU that can".
enum CPUFlags {
    static let current: Set<String> = {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return [] }
        return Set(line.split(separator: " ").map(String.init))
    }()
}
