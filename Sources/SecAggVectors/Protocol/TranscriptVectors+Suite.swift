import Foundation
import SecAggCrypto
import SecAggGraph
import SecureAggregation

extension TranscriptVectors {
    /// A parsed transcript group.
    struct Parsed {
        var setup: SessionSetup
        var messages: [RecordedMessage]
        /// tcId of each recorded message, same order.
        var messageIds: [Int]
        var aggregate: [[UInt64]]
    }

    /// What a replay found.
    struct Replay {
        /// Failure descriptions by message position.
        var failures: [Int: [String]] = [:]
        var result: AggregationResult?
        var error: String?

        mutating func fail(_ position: Int, _ message: String) {
            failures[position, default: []].append(message)
        }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { TranscriptVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for group in file.testGroups {
                try verify(group, fileName: fileName, recorder: &recorder)
            }
            return recorder.results
        }

        private func verify(_ group: Group, fileName: String, recorder: inout CaseRecorder) throws {
            let reader = FieldReader(fileName: fileName)
            let parsed = try parse(group, reader: reader)
            let rerun: Result<RecordedSession, any Error> = Result { try TranscriptSession.run(parsed.setup) }
            let replay = Self.replay(parsed)
            var position = 0
            for test in group.tests {
                try reader.result(test.result, caseId: test.tcId, allowed: ["valid"])
                switch test.kind {
                case "setup":
                    let problems = setupProblems(group, parsed: parsed, reader: reader)
                    recorder.record(test.tcId, problems.isEmpty, problems.joined(separator: "; "))
                case "message":
                    var problems: [String] = []
                    switch rerun {
                    case let .failure(error): problems.append("the engine re-run failed: \(error)")
                    case let .success(session):
                        if position >= session.messages.count {
                            problems.append("the engine re-run sent fewer messages")
                        } else if session.messages[position] != parsed.messages[position] {
                            let got = session.messages[position]
                            let recorded = parsed.messages[position]
                            problems.append(
                                "the engine re-run sent \(got.fromClient ? "client" : "server") message for client "
                                    + "\(got.client) in \(got.round) here: "
                                    + TranscriptSession.difference(recorded.bytes, got.bytes))
                        }
                    }
                    problems += replay.failures[position] ?? []
                    recorder.record(test.tcId, problems.isEmpty, problems.joined(separator: "; "))
                    position += 1
                case "outcome":
                    var problems: [String] = []
                    switch rerun {
                    case let .failure(error): problems.append("the engine re-run failed: \(error)")
                    case let .success(session):
                        if session.messages.count != parsed.messages.count {
                            problems.append(
                                "the engine re-run sent \(session.messages.count) messages, "
                                    + "recorded \(parsed.messages.count)")
                        }
                        problems += outcomeProblems(session.result, group: group, parsed: parsed, who: "re-run")
                    }
                    if let result = replay.result {
                        problems += outcomeProblems(result, group: group, parsed: parsed, who: "replay")
                    } else {
                        problems.append("the replayed server did not finish: \(replay.error ?? "no result")")
                    }
                    recorder.record(test.tcId, problems.isEmpty, problems.joined(separator: "; "))
                default:
                    throw VectorError.malformedFile(
                        file: fileName, reason: "case \(test.tcId): unknown kind \(test.kind)")
                }
            }
        }

        private func outcomeProblems(_ result: AggregationResult, group: Group, parsed: Parsed, who: String)
            -> [String]
        {
            var problems: [String] = []
            if result.vectors != parsed.aggregate { problems.append("\(who): the aggregate differs") }
            if result.includedClients.map(\.rawValue) != group.includedClients {
                problems.append("\(who): included clients \(result.includedClients), recorded \(group.includedClients)")
            }
            return problems
        }

        private func parse(_ group: Group, reader: FieldReader) throws -> Parsed {
            let configuration: SessionConfiguration
            do {
                configuration = try SessionConfiguration(
                    encoded: reader.bytes(group.configuration, "configuration", caseId: 0))
            } catch let error as VectorError {
                throw error
            } catch {
                throw VectorError.malformedFile(file: reader.fileName, reason: "configuration: \(error)")
            }
            let n = configuration.clientCount
            guard group.clients.map(\.index) == (1...n).map(UInt32.init) else {
                throw VectorError.malformedFile(file: reader.fileName, reason: "clients must be listed 1...\(n)")
            }
            var inputs: [[[UInt64]]] = []
            var seeds: [[UInt8]] = []
            var behaviours: [ClientBehaviour] = []
            var keys: [Ed25519.PrivateKey] = []
            for client in group.clients {
                inputs.append(
                    try client.input.map { vector in
                        try vector.map { try reader.uint64($0, "input", caseId: Int(client.index)) }
                    })
                seeds.append(try reader.bytes(client.rngSeed, "rngSeed", caseId: Int(client.index)))
                guard let behaviour = ClientBehaviour(rawValue: client.behaviour) else {
                    throw VectorError.malformedFile(
                        file: reader.fileName, reason: "client \(client.index): unknown behaviour")
                }
                behaviours.append(behaviour)
                if let seedHex = client.testOnlySecrets.signingKeySeed {
                    let seed = try reader.bytes(seedHex, "signingKeySeed", caseId: Int(client.index))
                    guard let key = try? Ed25519.PrivateKey(seed: SecretBytes(copying: seed)) else {
                        throw VectorError.malformedFile(
                            file: reader.fileName, reason: "client \(client.index): bad signingKeySeed")
                    }
                    keys.append(key)
                }
            }
            guard keys.isEmpty || keys.count == n else {
                throw VectorError.malformedFile(
                    file: reader.fileName, reason: "signingKeySeed needed for every client or for none")
            }
            var messages: [RecordedMessage] = []
            var ids: [Int] = []
            for test in group.tests where test.kind == "message" {
                guard let roundLabel = test.round, let round = ProtocolRound(label: roundLabel),
                    let direction = test.direction, ["clientToServer", "serverToClient"].contains(direction),
                    let client = test.client, let hex = test.message
                else {
                    throw VectorError.malformedFile(
                        file: reader.fileName, reason: "case \(test.tcId): message fields missing or invalid")
                }
                messages.append(
                    RecordedMessage(
                        round: round, fromClient: direction == "clientToServer", client: client,
                        bytes: try reader.bytes(hex, "message", caseId: test.tcId)))
                ids.append(test.tcId)
            }
            let aggregate = try group.aggregate.map { try $0.map { try reader.uint64($0, "aggregate", caseId: 0) } }
            return Parsed(
                setup: SessionSetup(
                    configuration: configuration, inputs: inputs, clientSeeds: seeds, signingKeys: keys,
                    behaviours: behaviours),
                messages: messages, messageIds: ids, aggregate: aggregate)
        }

        private func setupProblems(_ group: Group, parsed: Parsed, reader: FieldReader) -> [String] {
            let configuration = parsed.setup.configuration
            var problems: [String] = []
            if Hex.encode(configuration.encoded) != group.configuration {
                problems.append("the configuration does not re-encode to the recorded bytes")
            }
            if Hex.encode(configuration.digest) != group.configurationDigest {
                problems.append("configurationDigest differs")
            }
            let described = TranscriptVectors.inputSpecificationFields(configuration)
            if group.clientCount != configuration.clientCount || group.threshold != configuration.threshold
                || group.securityModel != configuration.securityModel.description
                || group.graph != configuration.graph.description || group.inputs != described
            {
                problems.append("the descriptive fields do not match the configuration")
            }
            guard let sessionId = TranscriptVectors.sessionId(configuration, messages: parsed.messages) else {
                return problems + ["no KeysBroadcast or KeyCommitment recorded"]
            }
            if Hex.encode(sessionId) != group.sessionId { problems.append("sessionId differs") }
            let wire = WireFormat(configuration: configuration)
            if !configuration.isSparse,
                let broadcast = parsed.messages.first(where: {
                    !$0.fromClient && $0.bytes.count > 1 && $0.bytes[1] == 0x81
                }),
                case let .keysBroadcast(_, keys)? = try? wire.decodeServerMessage(broadcast.bytes),
                (try? keys.sessionId(configurationDigest: configuration.digest, clientCount: configuration.clientCount))
                    != sessionId
            {
                problems.append("KeyBroadcast.sessionId disagrees with the SPEC derivation")
            }
            guard let (_, graph) = TranscriptVectors.sessionGraph(configuration, messages: parsed.messages) else {
                return problems + ["no graph for the session id and seed reveals"]
            }
            for (position, client) in group.clients.enumerated() {
                let u = client.index
                if graph.neighbours(of: u) != client.neighbours { problems.append("client \(u): neighbours differ") }
                if ProtocolVectors.seed(label: client.rngLabel) != parsed.setup.clientSeeds[position] {
                    problems.append("client \(u): rngSeed is not SHA-256(rngLabel)")
                }
                let secrets = client.testOnlySecrets
                let sparse = configuration.isSparse
                let drawn = try? TranscriptVectors.clientSecrets(
                    seed: parsed.setup.clientSeeds[position], index: u, sparse: sparse)
                let recorded =
                    [secrets.encryptionPrivateKey, secrets.maskingPrivateKey]
                    + (sparse ? [secrets.seedContribution ?? ""] : []) + [secrets.selfMaskSeed]
                if drawn?.map({ Hex.encode($0) }) != recorded || (secrets.seedContribution != nil) != sparse {
                    problems.append("client \(u): testOnlySecrets are not the generator's first draws")
                }
                if parsed.setup.behaviours[position] == .neverAdvertises {
                    if parsed.messages.contains(where: { $0.fromClient && $0.client == u }) {
                        problems.append("client \(u) never advertises but sends a message")
                    }
                    continue
                }
                let advert = parsed.messages.first { $0.fromClient && $0.client == u && $0.round == .advertiseKeys }
                guard let advert, case let .advertiseKeys(_, keys)? = try? wire.decodeClientMessage(advert.bytes),
                    let c = Hex.decode(secrets.encryptionPrivateKey), let s = Hex.decode(secrets.maskingPrivateKey),
                    let cKey = try? X25519.PrivateKey(rawRepresentation: SecretBytes(copying: c)),
                    let sKey = try? X25519.PrivateKey(rawRepresentation: SecretBytes(copying: s)),
                    cKey.publicKey == keys.encryptionKey, sKey.publicKey == keys.maskingKey
                else {
                    problems.append("client \(u): private keys do not match the advertised public keys")
                    continue
                }
                if configuration.securityModel == .active,
                    parsed.setup.signingKeys.count != configuration.clientCount
                        || parsed.setup.signingKeys[position].publicKey != configuration.verificationKeys[position]
                {
                    problems.append("client \(u): signingKeySeed does not match the configured verification key")
                }
            }
            return problems
        }

        /// Feeds the recorded client messages into a fresh server and the recorded server messages into fresh
        /// clients; every output is compared with the recording at its position.
        static func replay(_ parsed: Parsed) -> Replay {
            var replay = Replay()
            let configuration = parsed.setup.configuration
            let n = configuration.clientCount
            let wire = WireFormat(configuration: configuration)
            var server: SecAggServer
            var clients: [SecAggClient] = []
            var generators: [DeterministicRandomGenerator] = []
            do {
                server = try SecAggServer(configuration: configuration)
                server.unmaskingConcurrency = 1
                for u in 1...n {
                    let key = parsed.setup.signingKeys.isEmpty ? nil : parsed.setup.signingKeys[u - 1]
                    clients.append(
                        try SecAggClient(
                            configuration: configuration, index: ClientID(UInt32(u)), input: parsed.setup.inputs[u - 1],
                            signingKey: key))
                    generators.append(
                        try TranscriptSession.clientGenerator(seed: parsed.setup.clientSeeds[u - 1], index: UInt32(u)))
                }
            } catch {
                replay.error = "cannot set up the replay: \(error)"
                return replay
            }
            // The server's outputs of the round being delivered, and how many were matched so far.
            var batch: [(recipient: UInt32, bytes: [UInt8])]?
            var batchPosition = 0
            var lastServerPosition = -1
            var pendingReplies: [UInt32: [UInt8]] = [:]
            func closeBatch() {
                if let open = batch, batchPosition < open.count, lastServerPosition >= 0 {
                    replay.fail(
                        lastServerPosition, "the replayed server sent \(open.count - batchPosition) more messages")
                }
                batch = nil
            }
            for (position, message) in parsed.messages.enumerated() {
                let u = message.client
                guard u >= 1, Int(u) <= n else {
                    replay.fail(position, "client index \(u) outside 1...\(n)")
                    continue
                }
                if message.fromClient {
                    closeBatch()
                    let produced: [UInt8]?
                    if message.round == .advertiseKeys {
                        produced = try? clients[Int(u) - 1].startEncoded(using: &generators[Int(u) - 1])
                    } else {
                        produced = pendingReplies.removeValue(forKey: u)
                    }
                    if let produced, produced != message.bytes {
                        replay.fail(
                            position,
                            "a fresh client \(u) fed the recorded server messages replies differently: "
                                + TranscriptSession.difference(message.bytes, produced))
                    } else if produced == nil {
                        replay.fail(position, "a fresh client \(u) fed the recorded server messages sends nothing")
                    }
                    do {
                        let decoded = try wire.decodeClientMessage(message.bytes)
                        if decoded.sender != u || decoded.round != message.round {
                            replay.fail(position, "decodes as \(decoded.round) from client \(decoded.sender)")
                        }
                        if (try? wire.encode(decoded)) != message.bytes {
                            replay.fail(position, "does not re-encode to the same bytes")
                        }
                        try server.receive(encoded: message.bytes, from: ClientID(u))
                    } catch {
                        replay.fail(position, "the replayed server rejects it: \(error)")
                    }
                } else {
                    if batch == nil {
                        do {
                            batch = try server.advanceEncoded().outbox.allMessages
                                .map { ($0.recipient.rawValue, $0.bytes) }.sorted { $0.0 < $1.0 }
                        } catch {
                            batch = []
                            replay.fail(position, "the replayed server cannot close the round: \(error)")
                        }
                        batchPosition = 0
                    }
                    let produced = batch.flatMap { batchPosition < $0.count ? $0[batchPosition] : nil }
                    batchPosition += 1
                    lastServerPosition = position
                    if let produced {
                        if produced.recipient != u || produced.bytes != message.bytes {
                            replay.fail(
                                position,
                                "the replayed server sends client \(produced.recipient) here: "
                                    + TranscriptSession.difference(message.bytes, produced.bytes))
                        }
                    } else {
                        replay.fail(position, "the replayed server sends no message here")
                    }
                    if let decoded = try? wire.decodeServerMessage(message.bytes) {
                        if decoded.round(in: configuration) != message.round {
                            replay.fail(position, "decodes as a message of another round")
                        }
                        if wire.encode(decoded) != message.bytes {
                            replay.fail(position, "does not re-encode to the same bytes")
                        }
                    } else {
                        replay.fail(position, "does not decode as a server message")
                    }
                    // The client replay; clients that dropped in the recording answer too, unused.
                    pendingReplies[u] = try? clients[Int(u) - 1].handle(
                        encoded: message.bytes, using: &generators[Int(u) - 1])
                }
            }
            closeBatch()
            do {
                _ = try server.advance()
                replay.result = server.result
            } catch {
                replay.error = "the replayed server cannot finish: \(error)"
            }
            return replay
        }
    }

    /// The descriptive input fields of a configuration.
    static func inputSpecificationFields(_ configuration: SessionConfiguration) -> [InputField] {
        configuration.inputs.map { InputField(name: $0.name, length: $0.length, modulus: modulusText($0.modulus)) }
    }
}
