import Foundation
import SecAggCrypto
import SecureAggregation

/// `protocol/wire_v1.json`: one golden encoding of every message type (SPEC.md §12) with its fields laid
/// out, and malformed messages that must be rejected with the named ``WireFormatError``.
public enum WireVectors {
    /// The `algorithm` value.
    public static let algorithm = "secagg-wire-format"
    /// The file path.
    public static let relativePath = "protocol/wire_v1.json"

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        /// "client" (decodeClientMessage) or "server" (decodeServerMessage).
        var decoder: String
        var message: String
        /// Valid cases: the message's fields in order; their bytes concatenate to `message`.
        var fields: [LayoutSegment]?
        /// Invalid cases: the ``WireFormatError`` case name.
        var error: String?
        var result: String
    }

    struct Group: Codable, Sendable {
        var configuration: String
        var clientCount: Int
        var securityModel: String
        var degree: Int
        var tests: [Test]
    }

    /// The case name of a wire error, as written in the file.
    static func name(of error: WireFormatError) -> String {
        switch error {
        case .countOutOfRange: "countOutOfRange"
        case .duplicateOrUnorderedIndex: "duplicateOrUnorderedIndex"
        case .indexOutOfRange: "indexOutOfRange"
        case .invalidField: "invalidField"
        case .trailingBytes: "trailingBytes"
        case .truncated: "truncated"
        case .unknownTag: "unknownTag"
        case .unsupportedVersion: "unsupportedVersion"
        }
    }

    /// Decodes with the named decoder; returns the layout or the wire error's case name.
    static func decode(_ bytes: [UInt8], decoder: String, wire: WireFormat) -> Result<[LayoutSegment], DecodeFailure> {
        do {
            if decoder == "client" {
                let message = try wire.decodeClientMessage(bytes)
                guard (try? wire.encode(message)) == bytes else { return .failure(.reencoding) }
                return .success(MessageLayout.segments(of: message, configuration: wire.configuration))
            }
            let message = try wire.decodeServerMessage(bytes)
            guard wire.encode(message) == bytes else { return .failure(.reencoding) }
            return .success(MessageLayout.segments(of: message, configuration: wire.configuration))
        } catch {
            if case let .wire(wireError) = error { return .failure(.wire(name(of: wireError))) }
            return .failure(.other("\(error)"))
        }
    }

    enum DecodeFailure: Error {
        case wire(String)
        case reencoding
        case other(String)

        var text: String {
            switch self {
            case let .wire(name): "rejected with \(name)"
            case .reencoding: "decoded but does not re-encode to the same bytes"
            case let .other(text): "failed with \(text)"
            }
        }
    }

    struct Generator: VectorGenerator {
        var relativePath: String { WireVectors.relativePath }

        func generate() throws -> Data {
            // The messages of the recorded active session (every type but Abort).
            guard let scenario = TranscriptVectors.scenarios.first(where: { $0.model == .active }) else {
                throw VectorError.malformedFile(file: relativePath, reason: "no active scenario")
            }
            let (setup, _) = try TranscriptVectors.setup(for: scenario)
            let session = try TranscriptSession.run(setup)
            let configuration = setup.configuration
            let wire = WireFormat(configuration: configuration)
            var golden: [MessageTag: (message: [UInt8], client: Bool, note: String)] = [:]
            for message in session.messages {
                guard message.bytes.count >= 2, let tag = MessageTag(rawValue: message.bytes[1]), golden[tag] == nil
                else { continue }
                let note =
                    message.fromClient
                    ? "from client \(message.client)" : "to client \(message.client)"
                golden[tag] = (message.bytes, message.fromClient, "\(message.round), \(note)")
            }
            guard let broadcast = golden[.keysBroadcast],
                let sessionId = TranscriptVectors.sessionId(fromKeysBroadcast: broadcast.message)
            else { throw VectorError.malformedFile(file: relativePath, reason: "no key broadcast") }
            golden[.abort] = (
                wire.encode(.abort(binding: sessionId, code: AbortCode.insufficientClients.rawValue)), false,
                "abort bound to the session id, code 1 (insufficient clients)"
            )
            var tests: [Test] = []
            for tag in MessageTag.allCases {
                guard let entry = golden[tag] else {
                    throw VectorError.malformedFile(file: relativePath, reason: "no \(tag.typeName) message")
                }
                let decoder = entry.client ? "client" : "server"
                let fields = try WireVectors.decode(entry.message, decoder: decoder, wire: wire).get()
                tests.append(
                    Test(
                        tcId: tests.count + 1,
                        comment: "\(tag.typeName) (tag 0x\(Hex.encode([tag.rawValue]))): \(entry.note)",
                        decoder: decoder, message: Hex.encode(entry.message), fields: fields, error: nil,
                        result: "valid"))
            }
            func message(_ tag: MessageTag) -> [UInt8] { golden[tag]?.message ?? [] }
            func edited(_ tag: MessageTag, at offset: Int, _ bytes: [UInt8]) -> [UInt8] {
                var out = message(tag)
                for (i, byte) in bytes.enumerated() where offset + i < out.count { out[offset + i] = byte }
                return out
            }
            func le32(_ value: UInt32) -> [UInt8] {
                var out: [UInt8] = []
                appendLittleEndian(value, to: &out)
                return out
            }
            let n = configuration.clientCount
            let degree = configuration.degree
            // Offsets: version (1) and tag (1), then a 32-byte digest or session id.
            let shareEntry = 4 + shareCiphertextByteCount
            let invalid: [(String, String, [UInt8], String)] = [
                (
                    "truncated: AdvertiseKeys without its last byte", "client",
                    Array(message(.advertiseKeys).dropLast()), "truncated"
                ),
                ("truncated: empty message", "client", [], "truncated"),
                ("truncated: MaskedInput header only", "client", [1, MessageTag.maskedInput.rawValue], "truncated"),
                (
                    "trailing byte after a ConsistencySignature", "client", message(.consistencySignature) + [0],
                    "trailingBytes"
                ),
                ("trailing byte after an Abort", "server", message(.abort) + [0], "trailingBytes"),
                (
                    "duplicate index: ShareKeys addressed twice to the same recipient", "client",
                    edited(.shareKeys, at: 42 + shareEntry, Array(message(.shareKeys)[42..<46])),
                    "duplicateOrUnorderedIndex"
                ),
                (
                    "duplicate index: KeysBroadcast lists the first client twice", "server",
                    edited(
                        .keysBroadcast, at: 38 + KeyBroadcast.entryByteCount(signed: true),
                        Array(message(.keysBroadcast)[38..<42])),
                    "duplicateOrUnorderedIndex"
                ),
                (
                    "index out of range: AdvertiseKeys from client n + 1", "client",
                    edited(.advertiseKeys, at: 34, le32(UInt32(n + 1))), "indexOutOfRange"
                ),
                (
                    "index out of range: MaskedInput from client 0", "client", edited(.maskedInput, at: 34, le32(0)),
                    "indexOutOfRange"
                ),
                (
                    "index out of range: UnmaskingRequest for client 2^32 − 1", "server",
                    edited(.unmaskingRequest, at: 34, le32(.max)), "indexOutOfRange"
                ),
                ("unknown tag 0x06", "client", edited(.advertiseKeys, at: 1, [0x06]), "unknownTag"),
                ("unknown tag 0x85", "server", edited(.keysBroadcast, at: 1, [0x85]), "unknownTag"),
                ("wrong version 2", "client", edited(.shareKeys, at: 0, [2]), "unsupportedVersion"),
                ("wrong version 0", "server", edited(.sharesForward, at: 0, [0]), "unsupportedVersion"),
                (
                    "count above the limit: ShareKeys with degree + 1 entries", "client",
                    edited(.shareKeys, at: 38, le32(UInt32(degree + 1))), "countOutOfRange"
                ),
                (
                    "count above the limit: KeysBroadcast with n + 1 keys", "server",
                    edited(.keysBroadcast, at: 34, le32(UInt32(n + 1))), "countOutOfRange"
                ),
                (
                    "count above the limit: UnmaskingRequest with 2^32 − 1 dropped clients", "server",
                    edited(.unmaskingRequest, at: 38, le32(.max)), "countOutOfRange"
                ),
                (
                    "invalid field: a client message given to the server-message decoder", "server",
                    message(.advertiseKeys), "invalidField"
                ),
                (
                    "invalid field: ConsistencyRequest bitmap with a padding bit set", "server",
                    edited(.consistencyRequest, at: 34, [message(.consistencyRequest).last.map { $0 | 0x80 } ?? 0]),
                    "invalidField"
                ),
            ]
            for (comment, decoder, bytes, error) in invalid {
                guard case let .failure(.wire(actual)) = WireVectors.decode(bytes, decoder: decoder, wire: wire),
                    actual == error
                else { throw VectorError.malformedFile(file: relativePath, reason: "\(comment): not \(error)") }
                tests.append(
                    Test(
                        tcId: tests.count + 1, comment: comment, decoder: decoder, message: Hex.encode(bytes),
                        fields: nil, error: error, result: "invalid"))
            }
            let group = Group(
                configuration: Hex.encode(configuration.encoded), clientCount: n,
                securityModel: configuration.securityModel.description, degree: degree, tests: tests)
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: WireVectors.algorithm,
                    generator: "secagg vectors generate (Sources/SecAggVectors/Protocol); messages taken from the "
                        + "session of protocol/transcript_active_complete.json, invalid ones edited from them",
                    header: "Wire format v1 (SPEC.md §12) for the configuration below (active model, so "
                        + "AdvertiseKeys and KeysBroadcast entries carry signatures). Valid: one message of every "
                        + "tag (0x01–0x05 client, 0x81–0x84 and 0x8F server); `fields` lists each field's name, "
                        + "bytes (concatenated they give the message) and integer value or member list; decoding "
                        + "and re-encoding must give the same bytes. Invalid: decoding with the named decoder "
                        + "must fail with WireFormatError.<error>.",
                    testGroups: [group], testCount: tests.count))
        }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { WireVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for group in file.testGroups {
                let configuration: SessionConfiguration
                do {
                    configuration = try SessionConfiguration(
                        encoded: reader.bytes(group.configuration, "configuration", caseId: 0))
                } catch {
                    throw VectorError.malformedFile(file: fileName, reason: "configuration: \(error)")
                }
                let wire = WireFormat(configuration: configuration)
                for test in group.tests {
                    let id = test.tcId
                    try reader.result(test.result, caseId: id)
                    guard ["client", "server"].contains(test.decoder) else {
                        throw VectorError.malformedFile(file: fileName, reason: "case \(id): unknown decoder")
                    }
                    let bytes = try reader.bytes(test.message, "message", caseId: id)
                    let outcome = WireVectors.decode(bytes, decoder: test.decoder, wire: wire)
                    if test.result == "valid" {
                        switch outcome {
                        case let .failure(failure): recorder.record(id, false, failure.text)
                        case let .success(fields):
                            let joined = (test.fields ?? []).map(\.bytes).joined()
                            recorder.record(
                                id, joined == test.message && fields == test.fields,
                                joined == test.message
                                    ? "decoded fields differ from the recorded layout"
                                    : "the recorded fields do not concatenate to the message")
                        }
                    } else {
                        switch outcome {
                        case .success: recorder.record(id, false, "accepted, expected \(test.error ?? "?")")
                        case let .failure(failure):
                            if case let .wire(name) = failure, name == test.error {
                                recorder.record(id, true, "")
                            } else {
                                recorder.record(id, false, "\(failure.text), expected \(test.error ?? "?")")
                            }
                        }
                    }
                }
            }
            return recorder.results
        }
    }
}
