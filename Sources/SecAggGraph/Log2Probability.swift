/// A probability stored as its base-2 logarithm (≤ 0; −∞ for probability 0).
///
/// JSON form: a number, or `null` for probability 0 (JSON has no −∞).
public struct Log2Probability: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    /// log2 of the probability.
    public var value: Double

    /// Wraps `value`, clamped to at most 0 (union bounds may exceed 1).
    public init(_ value: Double) {
        self.value = min(0, value)
    }

    /// Probability 0.
    public static let zero = Log2Probability(-.infinity)

    /// True for probability 0.
    public var isZero: Bool { value == -.infinity }

    /// Orders by probability.
    public static func < (lhs: Log2Probability, rhs: Log2Probability) -> Bool {
        lhs.value < rhs.value
    }

    /// Decodes a number or `null` (probability 0).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self.init(container.decodeNil() ? -.infinity : try container.decode(Double.self))
    }

    /// Encodes a number, or `null` for probability 0.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if value.isFinite {
            try container.encode(value)
        } else {
            try container.encodeNil()
        }
    }

    /// "2^-41.3", or "0" for probability 0.
    public var description: String {
        isZero ? "0" : "2^\(Format.fixed(value, digits: 1))"
    }
}

/// Number formatting without Foundation.
enum Format {
    /// `value` with `digits` decimals, rounded half away from zero.
    static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return value > 0 ? "inf" : (value < 0 ? "-inf" : "nan") }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9.0e18 else { return "\(value)" }
        let integer = Int(scaled)
        let sign = value < 0 && integer != 0 ? "-" : ""
        guard digits > 0 else { return sign + String(integer) }
        let divisor = Int(scale)
        var fraction = String(integer % divisor)
        while fraction.count < digits { fraction = "0" + fraction }
        return "\(sign)\(integer / divisor).\(fraction)"
    }

    /// An integer with thousands separators: 1,234,567.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return (value < 0 ? "-" : "") + result
    }

    /// A count that may be fractional (an expectation), grouped, rounded to an integer.
    static func count(_ value: Double) -> String {
        guard value.isFinite, abs(value) < 9.0e18 else { return "\(value)" }
        return grouped(Int(value.rounded()))
    }

    /// Bytes in binary units: "512 B", "1.5 KiB", "3.2 GiB".
    static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var scaled = value
        var unit = 0
        while scaled >= 1024 && unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count(scaled)) B" : "\(fixed(scaled, digits: 1)) \(units[unit])"
    }
}
