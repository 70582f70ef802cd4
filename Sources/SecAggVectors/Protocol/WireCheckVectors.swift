import Foundation
import SecAggCrypto
import SecureAggregation

/// `protocol/wire_v3_checks.json` (algorithm `secagg-wire-format`, checked by ``WireVectors/Suite``): the checks of
/// SPEC.md §12 that the recorded sessions cannot show — Z_q range and padding errors inside a MaskedInput, SHARE
/// values outside the field, every Abort code, the separate limits of the unmasking lists, the semi-honest signature
/// list, bitmap padding — and messages with two defects, where the first defect in byte order decides the error.
enum WireCheckVectors {
    static let relativePath = "protocol/wire_v3_checks.json"

    struct Generator: VectorGenerator {
        var relativePath: String { WireCheckVectors.relativePath }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/wire-checks"
            var rng = ProtocolVectors.generator(label: label)
            let q: UInt64 = 1_000_003
            let configuration = SessionConfiguration(
                clientCount: 9, threshold: 3,
                inputs: [
                    InputSpecification(name: "zq", length: 5, modulus: .integer(q)),
                    InputSpecification(name: "b13", length: 3, modulus: .powerOfTwo(bitWidth: 13)),
                ], nonce: rng.bytes(count: 32))
            try configuration.validate()
            let wire = WireFormat(configuration: configuration)
            let sid = rng.bytes(count: 32)
            let p: UInt64 = (1 << 61) - 1

            func le32(_ v: UInt32) -> [UInt8] {
                var out: [UInt8] = []
                appendLittleEndian(v, to: &out)
                return out
            }
            func le64(_ v: UInt64) -> [UInt8] {
                var out: [UInt8] = []
                appendLittleEndian(v, to: &out)
                return out
            }
            func edited(_ bytes: [UInt8], at offset: Int, _ new: [UInt8]) -> [UInt8] {
                var out = bytes
                out.replaceSubrange(offset..<(offset + new.count), with: new)
                return out
            }
            func share(x: UInt32) throws -> ShamirShare {
                let values = (0..<5).flatMap { _ in le64(rng.next(below: p)) }
                return try ShamirShare(x: x, values: SecretBytes(copying: values))
            }
            // MaskedInput: header (2), session id (32), sender at 34, complaint count at 38, zq (13 bytes) at 42,
            // b13 (5 bytes) at 55; 60 bytes in all.
            let zq: [UInt64] = [0, q - 1, 1, 2, 3]
            let b13: [UInt64] = [0, 8191, 4096]
            let masked = try wire.encode(.maskedInput(sessionId: sid, sender: 4, complaints: [], vectors: [zq, b13]))
            let zqAt = 42
            let b13At = 55
            func zqPacked(_ raw: [UInt64]) -> [UInt8] { MessageLayout.pack(raw, modulus: .powerOfTwo(bitWidth: 20)) }
            // UnmaskingResponse from client 2: one masking-key share (owner 1), two self-mask shares (owners 3, 4).
            // Header (2), session id, sender at 34, a at 38, entries of 4 + 44 bytes from 42, then b and its entries.
            let response = try wire.encode(
                .unmaskingResponse(
                    sessionId: sid, sender: 2, maskingKeyShares: [RevealedShare(owner: 1, share: try share(x: 2))],
                    selfMaskShares: [
                        RevealedShare(owner: 3, share: try share(x: 2)),
                        RevealedShare(owner: 4, share: try share(x: 2)),
                    ]))
            let firstShare = 42 + 4
            let secondOwner = 42 + 48 + 4
            let thirdEntry = secondOwner + 48
            var full: [RevealedShare] = []
            for owner in UInt32(1)...8 { full.append(RevealedShare(owner: owner, share: try share(x: 9))) }
            let wide = try wire.encode(
                .unmaskingResponse(sessionId: sid, sender: 9, maskingKeyShares: full, selfMaskShares: full))
            let request = wire.encode(
                .unmaskingRequest(sessionId: sid, recipient: 4, dropped: [5, 6], survivors: [1, 2, 3], signatures: []))
            let complete = wire.encode(
                .sessionComplete(sessionId: sid, recipient: 9, included: true))

            let valid: [(String, String, [UInt8])] =
                [
                    (
                        "MaskedInput with a Z_q vector (q = 1000003, 20 bits, 4 padding bits) holding q − 1, and a Z_2^13 "
                            + "vector (1 padding bit)", "client", masked
                    ),
                    ("UnmaskingResponse: one masking-key share and two self-mask shares", "client", response),
                    ("UnmaskingResponse with a = b = k = 8: the two lists are limited separately", "client", wide),
                    (
                        "UnmaskingRequest, semi-honest: a = 2, b = 3 and the signature count c = 0 (70 bytes)",
                        "server", request
                    ),
                    ("SessionComplete to client 9, whose input is in the sum", "server", complete),
                ]
                + [0, 1, 2, 3, 4, 7, 255].map { code in
                    (
                        "Abort with code \(code)"
                            + ([1, 2, 3, 4, 255].contains(code)
                                ? "" : " (not listed: decodes and re-encodes as itself)"),
                        "server", wire.encode(.abort(binding: sid, code: AbortCode(rawValue: UInt8(code))))
                    )
                }

            var zqWithQ = zq
            zqWithQ[2] = q
            var zqWithMax = zq
            zqWithMax[4] = (1 << 20) - 1
            let invalid: [(String, String, [UInt8], String)] = [
                (
                    "MaskedInput: Z_q element 2 equal to q", "client", edited(masked, at: zqAt, zqPacked(zqWithQ)),
                    "invalidField"
                ),
                (
                    "MaskedInput: Z_q element 4 = 2^20 − 1", "client", edited(masked, at: zqAt, zqPacked(zqWithMax)),
                    "invalidField"
                ),
                (
                    "MaskedInput: a padding bit set in the Z_q vector", "client",
                    edited(masked, at: zqAt + 12, [masked[zqAt + 12] | 0x80]), "invalidField"
                ),
                (
                    "MaskedInput: the padding bit set in the Z_2^13 vector", "client",
                    edited(masked, at: b13At + 4, [masked[b13At + 4] | 0x80]), "invalidField"
                ),
                (
                    "MaskedInput one byte short (inside the last vector)", "client", Array(masked.dropLast()),
                    "truncated"
                ),
                (
                    "UnmaskingResponse: a SHARE with x = 0", "client", edited(response, at: firstShare, le32(0)),
                    "invalidField"
                ),
                (
                    "UnmaskingResponse: a SHARE value equal to p = 2^61 − 1", "client",
                    edited(response, at: firstShare + 4 + 16, le64(p)), "invalidField"
                ),
                (
                    "UnmaskingResponse: a SHARE value 2^64 − 1", "client",
                    edited(response, at: firstShare + 4, le64(.max)), "invalidField"
                ),
                (
                    "UnmaskingResponse: a = k + 1 = 9 masking-key shares", "client", edited(response, at: 38, le32(9)),
                    "countOutOfRange"
                ),
                (
                    "UnmaskingRequest, semi-honest: a signature count of 1 (its limit is 0)", "server",
                    edited(request, at: request.count - 4, le32(1)) + [UInt8](repeating: 0, count: 68),
                    "countOutOfRange"
                ),
                (
                    "SessionComplete: an inclusion flag of 2", "server", edited(complete, at: 38, [2]), "invalidField"
                ),
                (
                    "SessionComplete to client 10 of 9", "server", edited(complete, at: 34, le32(10)), "indexOutOfRange"
                ),
                ("a server tag (0x84) given to the client-message decoder", "client", request, "invalidField"),
                ("a client tag (0x03) given to the server-message decoder", "server", masked, "invalidField"),
                // Two defects: the first in byte order decides.
                (
                    "version 1 and unknown tag 0x07: the version is read first", "client", [1, 0x07] + sid,
                    "unsupportedVersion"
                ),
                ("unknown tag 0x07 and no body: the tag is read before the body", "client", [SessionConfiguration.protocolVersion, 0x07], "unknownTag"),
                ("empty message", "server", [], "truncated"),
                (
                    "MaskedInput from client 0 with a trailing byte: the sender comes first", "client",
                    edited(masked, at: 34, le32(0)) + [0], "indexOutOfRange"
                ),
                (
                    "MaskedInput with 9 complaints (k = 8) and nothing after the count", "client",
                    Array(edited(masked, at: 38, le32(9)).prefix(42)), "countOutOfRange"
                ),
                (
                    "MaskedInput: Z_q element equal to q and a trailing byte: the vector comes first", "client",
                    edited(masked, at: zqAt, zqPacked(zqWithQ)) + [0], "invalidField"
                ),
                (
                    "MaskedInput: Z_2^13 padding bit set and the message one byte short: a vector's bytes are read "
                        + "whole before they are unpacked", "client",
                    Array(edited(masked, at: b13At + 3, [masked[b13At + 3] | 0x80]).dropLast()), "truncated"
                ),
                (
                    "UnmaskingResponse: self-mask owners 4 then 3, and the second SHARE has x = 0: the order is "
                        + "checked when the index is read", "client",
                    edited(
                        edited(edited(response, at: secondOwner, le32(4)), at: thirdEntry, le32(3)), at: thirdEntry + 4,
                        le32(0)),
                    "duplicateOrUnorderedIndex"
                ),
                (
                    "UnmaskingResponse: the first SHARE value is p and a later owner is 10 (out of range)", "client",
                    edited(edited(response, at: firstShare + 4, le64(p)), at: thirdEntry, le32(10)), "invalidField"
                ),
                (
                    "Abort with code 7 and a trailing byte", "server",
                    wire.encode(.abort(binding: sid, code: AbortCode(rawValue: 7))) + [0], "trailingBytes"
                ),
                (
                    "SessionComplete: an inclusion flag of 2 and a trailing byte: the flag comes first", "server",
                    edited(complete, at: 38, [2]) + [0], "invalidField"
                ),
                (
                    "UnmaskingRequest for client 0 with 2^32 − 1 dropped clients: the recipient comes first", "server",
                    edited(edited(request, at: 34, le32(0)), at: 38, le32(.max)), "indexOutOfRange"
                ),
            ]
            var tests: [WireVectors.Test] = []
            for (comment, decoder, bytes) in valid {
                let fields = try WireVectors.decode(bytes, decoder: decoder, wire: wire).get()
                tests.append(
                    WireVectors.Test(
                        tcId: tests.count + 1, comment: comment, decoder: decoder, message: Hex.encode(bytes),
                        fields: fields, error: nil, result: "valid"))
            }
            for (comment, decoder, bytes, error) in invalid {
                guard case let .failure(.wire(actual)) = WireVectors.decode(bytes, decoder: decoder, wire: wire),
                    actual == error
                else { throw VectorError.malformedFile(file: relativePath, reason: "\(comment): not \(error)") }
                tests.append(
                    WireVectors.Test(
                        tcId: tests.count + 1, comment: comment, decoder: decoder, message: Hex.encode(bytes),
                        fields: nil, error: error, result: "invalid"))
            }
            let group = WireVectors.Group(
                configuration: Hex.encode(configuration.encoded), clientCount: 9,
                securityModel: configuration.securityModel.description, degree: configuration.degree, tests: tests)
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: WireVectors.algorithm,
                    generator: "secagg vectors generate (Sources/SecAggVectors/Protocol); nonce, session id and share "
                        + "values drawn from DeterministicRandomGenerator with seed SHA-256(\"\(label)\") (SPEC.md "
                        + "§2.6), messages encoded by SecureAggregation.WireFormat, invalid ones edited from them",
                    header: "Wire format v3 checks (SPEC.md §12) on a semi-honest complete-graph session of 9 clients "
                        + "with a Z_q vector (q = 1000003) and a Z_2^13 vector: element and padding errors inside a "
                        + "MaskedInput, SHARE values outside the field, every Abort code, the separate limits of the "
                        + "unmasking lists, bitmap padding, tags sent the wrong way, and messages with two defects "
                        + "(decoding reads left to right; the first defect met is the error). Fields and errors as in "
                        + "wire_v3.json.",
                    testGroups: [group], testCount: tests.count))
        }
    }
}
