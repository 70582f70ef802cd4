import Foundation
import SecAggCrypto
import SecureAggregation

/// `protocol/wire_v3.json`: one golden encoding of every message type (SPEC.md §12) with its fields laid
/// out, and malformed messages that must be rejected with the named ``WireFormatError``.
public enum WireVectors {
    /// The `algorithm` value.
    public static let algorithm = "secagg-wire-format"
    /// The file path.
    public static let relativePath = "protocol/wire_v3.json"

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

        /// The first message of every tag in the recorded session of `scenario`.
        private static func golden(_ scenario: TranscriptVectors.Scenario) throws -> (
            SessionConfiguration, [MessageTag: (message: [UInt8], client: Bool, note: String)]
        ) {
            let (setup, _) = try TranscriptVectors.setup(for: scenario)
            let session = try TranscriptSession.run(setup)
            var golden: [MessageTag: (message: [UInt8], client: Bool, note: String)] = [:]
            for message in session.messages {
                guard message.bytes.count >= 2, let tag = MessageTag(rawValue: message.bytes[1]), golden[tag] == nil
                else { continue }
                let note = message.fromClient ? "from client \(message.client)" : "to client \(message.client)"
                golden[tag] = (message.bytes, message.fromClient, "\(message.round), \(note)")
            }
            return (setup.configuration, golden)
        }

        private static func le32(_ value: UInt32) -> [UInt8] {
            var out: [UInt8] = []
            appendLittleEndian(value, to: &out)
            return out
        }

        /// One group: the valid messages of `tags` (plus `extra` ones), then the invalid cases.
        private static func group(
            configuration: SessionConfiguration, tags: [MessageTag],
            golden: [MessageTag: (message: [UInt8], client: Bool, note: String)],
            extra: [(comment: String, decoder: String, bytes: [UInt8])],
            invalid: [(String, String, [UInt8], String)], relativePath: String
        ) throws -> Group {
            let wire = WireFormat(configuration: configuration)
            var tests: [Test] = []
            var valid: [(comment: String, decoder: String, bytes: [UInt8])] = []
            for tag in tags {
                guard let entry = golden[tag] else {
                    throw VectorError.malformedFile(file: relativePath, reason: "no \(tag.typeName) message")
                }
                valid.append(
                    (
                        "\(tag.typeName) (tag 0x\(Hex.encode([tag.rawValue]))): \(entry.note)",
                        entry.client ? "client" : "server", entry.message
                    ))
            }
            for (comment, decoder, bytes) in valid + extra {
                let fields = try WireVectors.decode(bytes, decoder: decoder, wire: wire).get()
                tests.append(
                    Test(
                        tcId: tests.count + 1, comment: comment, decoder: decoder, message: Hex.encode(bytes),
                        fields: fields, error: nil, result: "valid"))
            }
            for (comment, decoder, bytes, error) in invalid {
                guard case let .failure(.wire(actual)) = WireVectors.decode(bytes, decoder: decoder, wire: wire),
                    actual == error
                else { throw VectorError.malformedFile(file: relativePath, reason: "\(comment): not \(error)") }
                tests.append(
                    Test(
                        tcId: tests.count + 1, comment: comment, decoder: decoder, message: Hex.encode(bytes),
                        fields: nil, error: error, result: "invalid"))
            }
            return Group(
                configuration: Hex.encode(configuration.encoded), clientCount: configuration.clientCount,
                securityModel: configuration.securityModel.description, degree: configuration.degree, tests: tests)
        }

        func generate() throws -> Data {
            let le32 = Self.le32
            // Group 1: the messages of the recorded active session on the complete graph (every type but the
            // seed reveals of sparse graphs), an Abort, and a MaskedInput carrying a complaint.
            guard let activeScenario = TranscriptVectors.scenarios.first(where: { $0.model == .active }),
                let sparseScenario = TranscriptVectors.scenarios.first(where: {
                    if case .harary = $0.graph { return true } else { return false }
                })
            else { throw VectorError.malformedFile(file: relativePath, reason: "scenarios missing") }
            var (configuration, golden) = try Self.golden(activeScenario)
            let wire = WireFormat(configuration: configuration)
            guard let broadcast = golden[.keysBroadcast],
                case let .keysBroadcast(_, keys)? = try? wire.decodeServerMessage(broadcast.message),
                let sessionId = try? keys.sessionId(
                    configurationDigest: configuration.digest, clientCount: configuration.clientCount)
            else { throw VectorError.malformedFile(file: relativePath, reason: "no key broadcast") }
            golden[.abort] = (
                wire.encode(.abort(binding: sessionId, code: AbortCode.insufficientClients)), false,
                "abort bound to the session id, code 1 (insufficient clients)"
            )
            // The end-of-session message to client 1, whose input is in the sum.
            golden[.sessionComplete] = (
                wire.encode(.sessionComplete(sessionId: sessionId, recipient: 1, included: true)), false,
                "session complete: the session id, the recipient (client 1) and 1 (its input is in the sum)"
            )
            func message(_ tag: MessageTag) -> [UInt8] { golden[tag]?.message ?? [] }
            func edited(_ tag: MessageTag, at offset: Int, _ bytes: [UInt8]) -> [UInt8] {
                var out = message(tag)
                for (i, byte) in bytes.enumerated() where offset + i < out.count { out[offset + i] = byte }
                return out
            }
            // The recorded MaskedInput with complaints about two senders (seeds are placeholders here: the wire
            // format does not check them).
            guard case let .maskedInput(sid, sender, _, vectors) = try wire.decodeClientMessage(message(.maskedInput))
            else { throw VectorError.malformedFile(file: relativePath, reason: "no masked input") }
            let complainedAbout = (1...UInt32(configuration.clientCount)).filter { $0 != sender }.prefix(2)
            let complaints = complainedAbout.map { v in
                ShareComplaint(
                    sender: v, pairwiseMaskSeed: SecretBytes(copying: [UInt8](repeating: UInt8(v) &* 17, count: 32)))
            }
            let withComplaints = try wire.encode(
                .maskedInput(sessionId: sid, sender: sender, complaints: complaints, vectors: vectors))
            func maskedEdited(at offset: Int, _ bytes: [UInt8]) -> [UInt8] {
                var out = withComplaints
                for (i, byte) in bytes.enumerated() where offset + i < out.count { out[offset + i] = byte }
                return out
            }
            let n = configuration.clientCount
            let degree = configuration.degree
            // Offsets: version (1) and tag (1), then a 32-byte digest or session id; ShareKeys continues with
            // the sender (4), the self-mask commitment (32), the count (4) at 70 and entries from 74.
            let shareEntry = 4 + shareCiphertextByteCount
            let firstComplaint = 2 + 32 + 4 + 4
            let invalid: [(String, String, [UInt8], String)] = [
                (
                    "truncated: AdvertiseKeys without its last byte", "client",
                    Array(message(.advertiseKeys).dropLast()), "truncated"
                ),
                ("truncated: empty message", "client", [], "truncated"),
                ("truncated: MaskedInput header only", "client", [SessionConfiguration.protocolVersion, MessageTag.maskedInput.rawValue], "truncated"),
                (
                    "trailing byte after a ConsistencySignature", "client", message(.consistencySignature) + [0],
                    "trailingBytes"
                ),
                ("trailing byte after an Abort", "server", message(.abort) + [0], "trailingBytes"),
                (
                    "trailing byte after a SessionComplete", "server", message(.sessionComplete) + [0],
                    "trailingBytes"
                ),
                (
                    "duplicate index: ShareKeys addressed twice to the same recipient", "client",
                    edited(.shareKeys, at: 74 + shareEntry, Array(message(.shareKeys)[74..<78])),
                    "duplicateOrUnorderedIndex"
                ),
                (
                    "duplicate index: KeysBroadcast lists the first client twice", "server",
                    edited(
                        .keysBroadcast, at: 38 + KeyBroadcast.entryByteCount(signed: true, committed: false),
                        Array(message(.keysBroadcast)[38..<42])),
                    "duplicateOrUnorderedIndex"
                ),
                (
                    "duplicate index: MaskedInput complains twice about the same sender", "client",
                    maskedEdited(at: firstComplaint + 36, Array(withComplaints[firstComplaint..<(firstComplaint + 4)])),
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
                    "index out of range: MaskedInput complaint about client n + 1", "client",
                    maskedEdited(at: firstComplaint, le32(UInt32(n + 1))), "indexOutOfRange"
                ),
                (
                    "index out of range: UnmaskingRequest for client 2^32 − 1", "server",
                    edited(.unmaskingRequest, at: 34, le32(.max)), "indexOutOfRange"
                ),
                ("unknown tag 0x07", "client", edited(.advertiseKeys, at: 1, [0x07]), "unknownTag"),
                ("unknown tag 0x85", "server", edited(.keysBroadcast, at: 1, [0x85]), "unknownTag"),
                (
                    "wrong version 2 (the previous protocol)", "client", edited(.shareKeys, at: 0, [2]),
                    "unsupportedVersion"
                ),
                ("wrong version 0", "server", edited(.sharesForward, at: 0, [0]), "unsupportedVersion"),
                (
                    "count above the limit: ShareKeys with degree + 1 entries", "client",
                    edited(.shareKeys, at: 70, le32(UInt32(degree + 1))), "countOutOfRange"
                ),
                (
                    "count above the limit: MaskedInput with degree + 1 complaints", "client",
                    edited(.maskedInput, at: 38, le32(UInt32(degree + 1))), "countOutOfRange"
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
                (
                    "invalid field: a SeedReveal (tag 0x06) in a session without a sparse graph", "client",
                    edited(.consistencySignature, at: 1, [MessageTag.seedReveal.rawValue]), "invalidField"
                ),
            ]
            let completeTags = MessageTag.allCases.filter {
                $0 != .seedReveal && $0 != .neighbourhood && $0 != .keyCommitment && $0 != .seedReveals
            }
            let first = try Self.group(
                configuration: configuration, tags: completeTags, golden: golden,
                extra: [
                    (
                        "MaskedInput (tag 0x03) with complaints about clients "
                            + complainedAbout.map(String.init).joined(separator: " and ")
                            + " (their share ciphertexts did not open; the seeds here are placeholders)", "client",
                        withComplaints
                    )
                ],
                invalid: invalid, relativePath: relativePath)

            // Group 2: a sparse graph (semi-honest, H(10, 4)): seed commitments in AdvertiseKeys and the
            // KeysBroadcast, the SeedReveal and SeedReveals messages of round 0′.
            let (sparseConfiguration, sparseGolden) = try Self.golden(sparseScenario)
            func sparse(_ tag: MessageTag) -> [UInt8] { sparseGolden[tag]?.message ?? [] }
            func sparseEdited(_ tag: MessageTag, at offset: Int, _ bytes: [UInt8]) -> [UInt8] {
                var out = sparse(tag)
                for (i, byte) in bytes.enumerated() where offset + i < out.count { out[offset + i] = byte }
                return out
            }
            let sparseN = sparseConfiguration.clientCount
            // Neighbourhood: version, tag, sessionId, recipient, revealRoot, own proof (L·32), ringRoot, then the
            // count and the records (each: index, present, keys, commitment), then the multiproof's count and values.
            let depth = MerkleTree.depth(slotCount: sparseN)
            let proofBytes = depth * 32
            let countOffset = 2 + 32 + 4 + 32 + proofBytes + 32
            let firstRecord = countOffset + 4
            let recordBytes = 4 + 1 + 32 + 32 + 32
            let neighbourhood = sparse(.neighbourhood)
            // Walk the records (present ones carry 96 bytes of keys) to the multiproof's count.
            var multiproofCountOffset = firstRecord
            for _ in 0..<sparseConfiguration.degree where multiproofCountOffset + 5 <= neighbourhood.count {
                multiproofCountOffset += neighbourhood[multiproofCountOffset + 4] == 1 ? recordBytes : 5
            }
            let sparseInvalid: [(String, String, [UInt8], String)] = [
                (
                    "truncated: SeedReveal without its last byte", "client", Array(sparse(.seedReveal).dropLast()),
                    "truncated"
                ),
                ("trailing byte after a Neighbourhood", "server", sparse(.neighbourhood) + [0], "trailingBytes"),
                (
                    "duplicate index: a Neighbourhood lists its first neighbour twice", "server",
                    sparseEdited(
                        .neighbourhood, at: firstRecord + recordBytes,
                        Array(sparse(.neighbourhood)[firstRecord..<(firstRecord + 4)])),
                    "duplicateOrUnorderedIndex"
                ),
                (
                    "invalid field: a Neighbourhood record whose presence byte is 2", "server",
                    sparseEdited(.neighbourhood, at: firstRecord + 4, [2]), "invalidField"
                ),
                (
                    "count above the limit: a Neighbourhood with k + 1 records", "server",
                    sparseEdited(.neighbourhood, at: countOffset, le32(UInt32(sparseConfiguration.degree + 1))),
                    "countOutOfRange"
                ),
                (
                    "count above the limit: a Neighbourhood multiproof of 4L + 1 values", "server",
                    sparseEdited(.neighbourhood, at: multiproofCountOffset, le32(UInt32(4 * depth + 1))),
                    "countOutOfRange"
                ),
                (
                    "truncated: a Neighbourhood without its multiproof's last byte", "server",
                    Array(neighbourhood.dropLast()), "truncated"
                ),
                (
                    "index out of range: SeedReveal from client n + 1", "client",
                    sparseEdited(.seedReveal, at: 34, le32(UInt32(sparseN + 1))), "indexOutOfRange"
                ),
                (
                    "count above the limit: KeyCommitment with n + 1 advertisements", "server",
                    sparseEdited(.keyCommitment, at: 34, le32(UInt32(sparseN + 1))), "countOutOfRange"
                ),
                (
                    "truncated: KeyCommitment without the last byte of its proof", "server",
                    Array(sparse(.keyCommitment).dropLast()), "truncated"
                ),
                (
                    "truncated: AdvertiseKeys without its seed commitment", "client",
                    Array(sparse(.advertiseKeys).dropLast(32)), "truncated"
                ),
            ]
            let second = try Self.group(
                configuration: sparseConfiguration,
                tags: [.advertiseKeys, .keyCommitment, .seedReveal, .neighbourhood, .shareKeys], golden: sparseGolden,
                extra: [], invalid: sparseInvalid, relativePath: relativePath)
            // Group 3: a sparse graph in the active model: the full key broadcast (commitments and signatures) starts
            // round 0′ and every reveal (SeedReveals, 0x89) starts round 1.
            guard let activeSparse = TranscriptVectors.scenarios.first(where: { $0.name == "transcript_active_harary" })
            else { throw VectorError.malformedFile(file: relativePath, reason: "scenarios missing") }
            let (activeSparseConfiguration, activeSparseGolden) = try Self.golden(activeSparse)
            func activeSparseMessage(_ tag: MessageTag) -> [UInt8] { activeSparseGolden[tag]?.message ?? [] }
            let reveals = activeSparseMessage(.seedReveals)
            let activeN = activeSparseConfiguration.clientCount
            var revealsDuplicate = reveals
            if reveals.count >= 38 + 72 { for i in 0..<4 { revealsDuplicate[38 + 36 + i] = reveals[38 + i] } }
            var revealsTooMany = reveals
            if reveals.count >= 38 { for (i, byte) in le32(UInt32(activeN + 1)).enumerated() { revealsTooMany[34 + i] = byte } }
            let activeSparseInvalid: [(String, String, [UInt8], String)] = [
                ("trailing byte after a SeedReveals", "server", reveals + [0], "trailingBytes"),
                ("duplicate index: SeedReveals lists the first client twice", "server", revealsDuplicate,
                    "duplicateOrUnorderedIndex"),
                ("count above the limit: SeedReveals with n + 1 contributions", "server", revealsTooMany,
                    "countOutOfRange"),
                (
                    "invalid field: a Neighbourhood (tag 0x86) in an active-model session", "server",
                    [reveals[0], MessageTag.neighbourhood.rawValue] + reveals.dropFirst(2), "invalidField"
                ),
            ]
            let third = try Self.group(
                configuration: activeSparseConfiguration, tags: [.keysBroadcast, .seedReveals],
                golden: activeSparseGolden, extra: [], invalid: activeSparseInvalid, relativePath: relativePath)
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: WireVectors.algorithm,
                    generator: "secagg vectors generate (Sources/SecAggVectors/Protocol); messages taken from the "
                        + "sessions of protocol/transcript_active_complete.json (group 1), "
                        + "protocol/transcript_semi_honest_harary.json (group 2) and "
                        + "protocol/transcript_active_harary.json (group 3), invalid ones edited from them",
                    header: "Wire format v3 (SPEC.md §12). Group 1: active model on the complete graph (AdvertiseKeys "
                        + "and KeysBroadcast entries carry signatures, no seed commitments); one message of every tag "
                        + "but 0x06, 0x86, 0x88 and 0x89, and a MaskedInput with complaints. Group 2: semi-honest "
                        + "model on a sparse Harary graph (entries carry seed commitments, no signatures); round 0 and "
                        + "0′ messages (0x01, 0x88, 0x06, 0x86) and a ShareKeys. Group 3: active model on a sparse "
                        + "Harary graph: the key broadcast with commitments and signatures (0x81) and every reveal "
                        + "(0x89). `fields` lists each field's name, "
                        + "bytes (concatenated they give the message) and integer value or member list; decoding "
                        + "and re-encoding must give the same bytes. Invalid: decoding with the named decoder "
                        + "must fail with WireFormatError.<error>.",
                    testGroups: [first, second, third],
                    testCount: first.tests.count + second.tests.count + third.tests.count))
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
