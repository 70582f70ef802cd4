import Foundation
import SecAggVectors
import Testing

@Suite struct ProtocolVectorsTests {
    /// The committed file at `relativePath`, parsed.
    private func load(_ relativePath: String) throws -> [String: Any] {
        let url = try repositoryVectorsDirectory().appendingPathComponent(relativePath)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        return try #require(object as? [String: Any])
    }

    /// The tests of the first group.
    private func tests(_ file: [String: Any]) throws -> [[String: Any]] {
        let groups = try #require(file["testGroups"] as? [[String: Any]])
        return try #require(groups.first?["tests"] as? [[String: Any]])
    }

    /// Replaces the first group's tests (or a group field) and verifies the edited file.
    private func verify(_ relativePath: String, edit: (inout [String: Any]) throws -> Void) throws -> VectorFileReport {
        var file = try load(relativePath)
        var groups = try #require(file["testGroups"] as? [[String: Any]])
        try edit(&groups[0])
        file["testGroups"] = groups
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("edited.json")
        try JSONSerialization.data(withJSONObject: file, options: [.sortedKeys]).write(to: url)
        return VectorVerifier(suites: ProtocolVectors.suites).verify(file: relativePath, at: url)
    }

    /// Flips one bit of the hex byte at `offset`.
    private func flip(_ hex: String, at offset: Int) -> String {
        var digits = Array(hex)
        let index = 2 * offset + 1
        let value = Int(String(digits[index]), radix: 16) ?? 0
        digits[index] = Character(String(value ^ 1, radix: 16))
        return String(digits)
    }

    @Test("the protocol generators reproduce the committed files byte for byte")
    func generatorsAreDeterministic() throws {
        let vectors = try repositoryVectorsDirectory()
        #expect(ProtocolVectors.generators.count == 12)
        for generator in ProtocolVectors.generators {
            let committed = try Data(contentsOf: vectors.appendingPathComponent(generator.relativePath))
            #expect(try generator.generate() == committed, "\(generator.relativePath)")
        }
    }

    @Test("every protocol and graph file passes with the expected shape")
    func committedFilesPass() throws {
        let report = try VectorVerifier(suites: ProtocolVectors.suites).verify(directory: repositoryVectorsDirectory())
        let ours = report.files.filter { $0.file.hasPrefix("protocol/") || $0.file.hasPrefix("graph/") }
        #expect(ours.count == 12)
        for file in ours {
            #expect(file.failedCount == 0, "\(file.file): \(file.failures.map(\.message))")
            #expect(file.passedCount > 0)
        }
        // Each transcript has both dropouts and includes exactly the clients that sent a masked input.
        for name in ["semi_honest_complete", "active_complete", "semi_honest_harary", "semi_honest_harary_absent"] {
            let file = try load("protocol/transcript_\(name).json")
            let group = try #require((file["testGroups"] as? [[String: Any]])?.first)
            let clients = try #require(group["clients"] as? [[String: Any]])
            let behaviours = clients.compactMap { $0["behaviour"] as? String }
            #expect(behaviours.filter { $0 == "dropsAfterShareKeys" }.count == 1)
            #expect(behaviours.filter { $0 == "dropsAfterMaskedInput" }.count == 1)
            let senders = try tests(file).filter { $0["messageType"] as? String == "MaskedInput" }
                .compactMap { $0["client"] as? Int }
            #expect(group["includedClients"] as? [Int] == senders.sorted())
            let absent = behaviours.filter { $0 == "neverAdvertises" }.count
            #expect(absent == (name.hasSuffix("absent") ? 1 : 0))
            #expect(senders.count == clients.count - 1 - absent)
        }
        // The absent client is an absent record in each of its advertising neighbours' Neighbourhoods (present byte 0
        // after its index), and the session id counts the advertisers only.
        let absentFile = try load("protocol/transcript_semi_honest_harary_absent.json")
        let absentGroup = try #require((absentFile["testGroups"] as? [[String: Any]])?.first)
        let absentClient = try #require(
            (absentGroup["clients"] as? [[String: Any]])?.first { $0["behaviour"] as? String == "neverAdvertises" })
        let absentIndex = try #require(absentClient["index"] as? Int)
        let absentNeighbours = try #require(absentClient["neighbours"] as? [Int])
        let record = String(format: "%02x000000", absentIndex) + "00"
        let neighbourhoods = try tests(absentFile).filter { $0["messageType"] as? String == "Neighbourhood" }
        let withAbsentRecord = neighbourhoods.filter { ($0["message"] as? String)?.contains(record) == true }
            .compactMap { $0["client"] as? Int }
        #expect(withAbsentRecord == absentNeighbours.filter { $0 != absentIndex })
        #expect(!neighbourhoods.contains { $0["client"] as? Int == absentIndex })
        // The wire file covers every tag once.
        let wire = try tests(load("protocol/wire_v3.json"))
        let tags = wire.filter { $0["result"] as? String == "valid" }.compactMap {
            ($0["message"] as? String)?.dropFirst(2).prefix(2)
        }
        #expect(Set(tags) == ["01", "02", "03", "04", "05", "81", "82", "83", "84", "87", "8f"])
    }

    @Test("a corrupted client message fails the transcript at that message", arguments: ["MaskedInput", "ShareKeys"])
    func corruptedClientMessage(type: String) throws {
        let path = "protocol/transcript_semi_honest_complete.json"
        var target = 0
        let report = try verify(path) { group in
            var list = try #require(group["tests"] as? [[String: Any]])
            let index = try #require(
                list.firstIndex { $0["messageType"] as? String == type && $0["client"] as? Int == 3 })
            let hex = try #require(list[index]["message"] as? String)
            list[index]["message"] = flip(hex, at: hex.count / 2 - 20)
            target = try #require(list[index]["tcId"] as? Int)
            group["tests"] = list
        }
        let failed = report.failures.map(\.caseId)
        #expect(failed.min() == target, "\(report.failures.map { "\($0.caseId): \($0.message)" })")
        let first = try #require(report.failures.first { $0.caseId == target })
        #expect(first.message.contains("re-run"))
        #expect(first.message.contains("bytes differ from offset"))
    }

    @Test("a corrupted server message fails the transcript at that message")
    func corruptedServerMessage() throws {
        let path = "protocol/transcript_active_complete.json"
        var target = 0
        let report = try verify(path) { group in
            var list = try #require(group["tests"] as? [[String: Any]])
            let index = try #require(list.firstIndex { $0["messageType"] as? String == "SharesForward" })
            let hex = try #require(list[index]["message"] as? String)
            list[index]["message"] = flip(hex, at: hex.count / 2 - 1)
            target = try #require(list[index]["tcId"] as? Int)
            group["tests"] = list
        }
        let failed = report.failures.map(\.caseId)
        #expect(failed.min() == target)
        let first = try #require(report.failures.first { $0.caseId == target })
        #expect(first.message.contains("replayed server sends client"))
    }

    @Test("a wrong aggregate, digest or secret fails the outcome or setup case")
    func corruptedGroupFields() throws {
        let path = "protocol/transcript_semi_honest_harary.json"
        let aggregate = try verify(path) { group in
            var vectors = try #require(group["aggregate"] as? [[String]])
            vectors[1][0] = vectors[1][0] == "0" ? "1" : "0"
            group["aggregate"] = vectors
        }
        #expect(aggregate.failedCount == 1)
        #expect(aggregate.failures.first?.message.contains("aggregate differs") == true)
        let digest = try verify(path) { group in
            group["configurationDigest"] = String(repeating: "0", count: 64)
        }
        #expect(digest.failures.map(\.caseId) == [1])
        let secret = try verify(path) { group in
            var clients = try #require(group["clients"] as? [[String: Any]])
            var secrets = try #require(clients[0]["testOnlySecrets"] as? [String: Any])
            secrets["selfMaskSeed"] = String(repeating: "ab", count: 32)
            clients[0]["testOnlySecrets"] = secrets
            group["clients"] = clients
        }
        #expect(secret.failures.map(\.caseId) == [1])
        let dropout = try verify(path) { group in
            var clients = try #require(group["clients"] as? [[String: Any]])
            let index = try #require(clients.firstIndex { $0["behaviour"] as? String == "dropsAfterShareKeys" })
            clients[index]["behaviour"] = "completes"
            group["clients"] = clients
        }
        #expect(dropout.failedCount > 0, "a re-run without the dropout must not reproduce the transcript")
    }

    @Test("the absent client: a transcript where it advertises, or a recorded message from it, fails")
    func absentClientIsChecked() throws {
        let path = "protocol/transcript_semi_honest_harary_absent.json"
        let present = try verify(path) { group in
            var clients = try #require(group["clients"] as? [[String: Any]])
            let index = try #require(clients.firstIndex { $0["behaviour"] as? String == "neverAdvertises" })
            clients[index]["behaviour"] = "completes"
            group["clients"] = clients
        }
        #expect(present.failedCount > 0, "a re-run in which the absent client advertises must not reproduce it")
        // Another client's AdvertiseKeys relabelled as the absent client's: the setup case names the absent client.
        let sending = try verify(path) { group in
            var list = try #require(group["tests"] as? [[String: Any]])
            let index = try #require(list.firstIndex { $0["messageType"] as? String == "AdvertiseKeys" })
            list[index]["client"] = 5
            group["tests"] = list
        }
        let setup = try #require(sending.failures.first { $0.caseId == 1 })
        #expect(setup.message.contains("client 5 never advertises but sends a message"))
    }

    @Test("wire vectors: a changed golden byte or expected error fails that case")
    func corruptedWireCases() throws {
        let path = "protocol/wire_v3.json"
        let golden = try verify(path) { group in
            var list = try #require(group["tests"] as? [[String: Any]])
            let hex = try #require(list[2]["message"] as? String)
            list[2]["message"] = flip(hex, at: 40)
            group["tests"] = list
        }
        #expect(golden.failures.map(\.caseId) == [3])
        let error = try verify(path) { group in
            var list = try #require(group["tests"] as? [[String: Any]])
            let index = try #require(list.firstIndex { $0["error"] as? String == "countOutOfRange" })
            list[index]["error"] = "truncated"
            group["tests"] = list
        }
        #expect(error.failedCount == 1)
        #expect(error.failures.first?.message.contains("rejected with countOutOfRange") == true)
    }

    @Test("Harary vectors: a changed ring order or neighbour list fails that case")
    func corruptedHararyCases() throws {
        let report = try verify("graph/harary_permutation.json") { group in
            var list = try #require(group["tests"] as? [[String: Any]])
            var order = try #require(list[0]["order"] as? [Int])
            order.swapAt(0, 1)
            list[0]["order"] = order
            var neighbourhoods = try #require(list[3]["neighbourhoods"] as? [[String: Any]])
            neighbourhoods[0]["position"] = ((neighbourhoods[0]["position"] as? Int) ?? 0) + 1
            list[3]["neighbourhoods"] = neighbourhoods
            group["tests"] = list
        }
        #expect(report.failures.map(\.caseId) == [1, 4])
    }

    @Test("ring PRP vectors: a changed point, round key or neighbour list fails that case")
    func corruptedRingPrpCases() throws {
        let report = try verify("graph/ring_prp.json") { group in
            var list = try #require(group["tests"] as? [[String: Any]])
            var keys = try #require(list[0]["firstRoundKeys"] as? [Int])
            keys[7] = (keys[7] + 1) % 48
            list[0]["firstRoundKeys"] = keys
            var points = try #require(list[4]["clientsAtPositions"] as? [[String: Any]])
            points[3]["client"] = ((points[3]["client"] as? Int) ?? 0) % 1_000_000 + 1
            list[4]["clientsAtPositions"] = points
            var neighbourhoods = try #require(list[5]["neighbourhoods"] as? [[String: Any]])
            var neighbours = try #require(neighbourhoods[2]["neighbours"] as? [Int])
            neighbours.swapAt(0, 1)
            neighbourhoods[2]["neighbours"] = neighbours
            list[5]["neighbourhoods"] = neighbourhoods
            list[6]["result"] = "valid"
            group["tests"] = list
        }
        #expect(report.failures.map(\.caseId) == [1, 5, 6, 7])
    }
}
