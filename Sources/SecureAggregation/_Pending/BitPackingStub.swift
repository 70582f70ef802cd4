// TEMPORARY: replaced by SecAggQuantization.BitPacking at merge time.
import SecAggCrypto

enum QuantizationError: Error { case invalid }
enum BitPacking {
    static func packedByteCount(count: Int, modulus: RingModulus) -> Int {
        (count * modulus.elementBitWidth + 7) / 8
    }
    static func pack(_ values: [UInt64], modulus: RingModulus, into out: inout [UInt8]) throws(QuantizationError) {
        let bits = modulus.elementBitWidth
        var acc: UInt64 = 0
        var n = 0
        for v in values {
            guard modulus.contains(v) else { throw .invalid }
            for b in 0..<bits {
                acc |= ((v >> UInt64(b)) & 1) << UInt64(n)
                n += 1
                if n == 8 { out.append(UInt8(acc)); acc = 0; n = 0 }
            }
        }
        if n > 0 { out.append(UInt8(acc)) }
    }
    static func unpack(_ bytes: some Collection<UInt8>, count: Int, modulus: RingModulus) throws(QuantizationError)
        -> [UInt64]
    {
        let a = Array(bytes)
        guard a.count == packedByteCount(count: count, modulus: modulus) else { throw .invalid }
        let bits = modulus.elementBitWidth
        var out = [UInt64](repeating: 0, count: count)
        var pos = 0
        for i in 0..<count {
            var v: UInt64 = 0
            for b in 0..<bits {
                v |= UInt64((a[pos >> 3] >> UInt8(pos & 7)) & 1) << UInt64(b)
                pos += 1
            }
            guard modulus.contains(v) else { throw .invalid }
            out[i] = v
        }
        return out
    }
}
