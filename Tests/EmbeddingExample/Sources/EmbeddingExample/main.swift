import Foundation
import SecureAggregation

// Runs the README's example and checks what it promises; exits non-zero otherwise.
let (sum, clients) = try embeddingExample()
var failures: [String] = []
if sum != [1 + 2 + 3 + 4, 0, 4, 8] { failures.append("sum \(sum), expected [10, 0, 4, 8]") }
for id in (1...4).map({ ClientID($0) }) where clients[id] != .completed(inputIncluded: true) {
    failures.append("\(id) ended in \(clients[id].map { "\($0)" } ?? "nothing"), expected completed(included)")
}
if clients[5] != .shareKeys { failures.append("client 5 (offline) ended in \(String(describing: clients[5]))") }
if failures.isEmpty {
    print("embedding example: VERIFIED (sum \(sum); clients 1–4 completed with their input included)")
} else {
    for failure in failures { print("embedding example: \(failure)") }
    exit(1)
}
