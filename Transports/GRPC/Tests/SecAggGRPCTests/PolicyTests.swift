import Foundation
import SecAggCrypto
import SecureAggregation
import Testing

@testable import SecAggGRPC

/// The client's local policy and the offer checks, without a network.
struct PolicyTests {
    static func configuration(
        n: Int = 10, t: Int? = nil, model: SecurityModel = .semiHonest,
        modulus: RingModulus = .powerOfTwo(bitWidth: 32),
        length: Int = 8, keys: [Ed25519.PublicKey] = []
    ) -> SessionConfiguration {
        SessionConfiguration(
            clientCount: n, threshold: t ?? SessionConfiguration.defaultThreshold(clientCount: n), securityModel: model,
            inputs: [InputSpecification(name: "update", length: length, modulus: modulus)],
            nonce: SessionConfiguration.randomNonce(), verificationKeys: keys)
    }

    static func refusal(_ body: () throws(NodeError) -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            if case let .policyRefused(reason) = error { return reason }
            return "unexpected \(error)"
        }
    }

    @Test func acceptsTheDefaultThreshold() throws {
        try ClientPolicy().check(Self.configuration(), valueCount: 8)
    }

    @Test func refusesALowThresholdWithTheRuleAndTheFlag() throws {
        // t = 2 of 9 neighbours passes the engine's own rule (t ≥ 2) but not a 50% policy (t ≥ 5).
        let configuration = Self.configuration(t: 2)
        try configuration.validate()
        let reason = try #require(
            Self.refusal { () throws(NodeError) in try ClientPolicy().check(configuration, valueCount: 8) })
        #expect(reason.contains("t = 2"))
        #expect(reason.contains("t ≥ 5"))
        #expect(reason.contains("--min-threshold-fraction"))
    }

    @Test func thresholdOneIsRefusedEvenWithAZeroFraction() throws {
        var policy = ClientPolicy()
        policy.minimumThresholdFraction = 0
        let reason = try #require(
            Self.refusal { () throws(NodeError) in try policy.check(Self.configuration(t: 1), valueCount: 8) })
        #expect(reason.contains("t = 1"))
    }

    @Test func anOfferWithThresholdOneDoesNotDecode() throws {
        var message = Secagg_V1_SessionOffer()
        message.configuration = Data(Self.configuration(t: 1).encoded)
        message.clip = 1
        #expect(throws: NodeError.self) { try SessionOffer(message: message) }
    }

    @Test func anOfferWithAnotherScaleIsRefused() throws {
        var message = SessionOffer(configuration: Self.configuration(), clip: 1, roundTimeout: .seconds(1)).message
        _ = try SessionOffer(message: message)
        message.scale *= 2
        #expect(throws: NodeError.self) { try SessionOffer(message: message) }
    }

    @Test func refusesSmallCohortsRingsModelsAndLengths() throws {
        var policy = ClientPolicy()
        policy.minimumClientCount = 20
        #expect(
            Self.refusal { () throws(NodeError) in try policy.check(Self.configuration(), valueCount: 8) }?.contains(
                "--min-clients") == true)

        policy = ClientPolicy()
        policy.allowedModuli = [.powerOfTwo(bitWidth: 32)]
        #expect(
            Self.refusal { () throws(NodeError) in
                try policy.check(Self.configuration(modulus: .powerOfTwo(bitWidth: 16)), valueCount: 8)
            }?.contains("ring") == true)

        policy = ClientPolicy()
        policy.allowedModels = [.active]
        #expect(
            Self.refusal { () throws(NodeError) in try policy.check(Self.configuration(), valueCount: 8) }?.contains(
                "semi-honest") == true)

        #expect(
            Self.refusal { () throws(NodeError) in try ClientPolicy().check(Self.configuration(), valueCount: 9) }?
                .contains("9") == true)
    }

    @Test func activeModelNeedsTheExpectedKeys() throws {
        let keys = (0..<5).map { _ in Ed25519.PrivateKey().publicKey }
        let configuration = Self.configuration(n: 5, model: .active, keys: keys)
        var policy = ClientPolicy()
        #expect(
            Self.refusal { () throws(NodeError) in try policy.check(configuration, valueCount: 8) }?.contains(
                "--verification-keys") == true)

        var other = keys
        other[2] = Ed25519.PrivateKey().publicKey
        policy.expectedVerificationKeys = other
        #expect(
            Self.refusal { () throws(NodeError) in try policy.check(configuration, valueCount: 8) }?.contains(
                "client 3") == true)

        policy.expectedVerificationKeys = keys
        try policy.check(configuration, valueCount: 8)
    }
}
