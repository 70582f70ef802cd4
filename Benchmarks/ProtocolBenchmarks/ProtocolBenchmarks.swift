import Benchmark
import SecAggBenchmarks
import SecAggCrypto
import SecAggSimulation
import SecureAggregation

/// package-benchmark cases for the costs `secagg bench` reports (build with SECAGG_ENABLE_BENCHMARKING=1).
/// Each case is small enough for a few iterations; `secagg bench protocol` runs the full-size sessions and
/// prints them next to the keystream floor.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .peakMemoryResident, .mallocCountTotal], maxDuration: .seconds(10),
        maxIterations: 20)

    // The engine's mask application: 100 masks onto 100,000 elements of Z_2^32 (40 MB of keystream).
    for threads in [1, SystemInfo.activeProcessorCount] {
        Benchmark("mask application 100 × 100K, \(threads) thread(s)") { benchmark in
            var rng = DeterministicRandomGenerator(testLabel: "package-benchmark apply")
            let jobs = (0..<100).map { j in
                MaskJob(seed: SecretBytes(randomByteCount: 32, using: &rng), negate: j % 2 == 0)
            }
            let inputs = [InputSpecification(name: "x", length: 100_000, modulus: .powerOfTwo(bitWidth: 32))]
            var vectors = [[UInt64](repeating: 0, count: 100_000)]
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                try MaskApplication.apply(jobs, to: &vectors, inputs: inputs, concurrency: threads)
            }
            benchmark.stopMeasurement()
            blackHole(vectors)
        }
    }

    // Key agreement as a client at n = 500 does it: one private key with 499 peers, per backend.
    for backend in X25519.BatchBackend.allCases where backend.isAvailable {
        Benchmark("x25519 one key × 499 peers, \(backend)") { benchmark in
            var rng = DeterministicRandomGenerator(testLabel: "package-benchmark x25519")
            let key = X25519.PrivateKey(using: &rng)
            let peers = (0..<499).map { _ in X25519.PrivateKey(using: &rng).publicKey }
            for _ in benchmark.scaledIterations {
                blackHole(try key.sharedSecrets(with: peers, backend: backend))
            }
        }
    }

    // A whole session: 100 clients × 100,000 elements, 30% dropping after sharing keys.
    Benchmark("protocol n=100 m=100K 30% dropout", configuration: .init(maxIterations: 3)) { benchmark in
        var options = ProtocolBenchmarkOptions()
        options.clientCount = 100
        options.vectorLength = 100_000
        options.drops = [DropSpecification(fraction: 0.3, round: .maskedInputCollection)]
        for _ in benchmark.scaledIterations {
            blackHole(try ProtocolBenchmark.run(options))
        }
    }

    // Shamir at n = 1,000 (t = 666): split one secret, reconstruct one with fresh coefficients.
    Benchmark("shamir split n=1000") { benchmark in
        var rng = DeterministicRandomGenerator(testLabel: "package-benchmark shamir")
        let secret = SecretBytes(randomByteCount: 32, using: &rng)
        for _ in benchmark.scaledIterations {
            blackHole(try ShamirSecretSharing.split(secret: secret, threshold: 666, shareCount: 1000, using: &rng))
        }
    }
    Benchmark("shamir reconstruct n=1000") { benchmark in
        var rng = DeterministicRandomGenerator(testLabel: "package-benchmark shamir")
        let secret = SecretBytes(randomByteCount: 32, using: &rng)
        let shares = try ShamirSecretSharing.split(secret: secret, threshold: 666, shareCount: 1000, using: &rng)
        let chosen = Array(shares.prefix(667))
        for _ in benchmark.scaledIterations {
            blackHole(try ShamirSecretSharing.reconstruct(chosen, threshold: 666, secretByteCount: 32))
        }
    }

    // Wire: encode and decode one masked input of 100,000 elements.
    Benchmark("wire masked input 100K encode+decode") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try WireBenchmark.run(length: 100_000, modulus: .powerOfTwo(bitWidth: 32), repetitions: 1))
        }
    }
}
