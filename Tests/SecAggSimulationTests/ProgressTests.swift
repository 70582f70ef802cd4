import Foundation
import SecAggSimulation
import SecureAggregation
import Synchronization
import Testing

/// What a reporter wrote, and a clock the test moves by hand.
private final class Terminal: Sendable {
    let output = Mutex("")
    let now = Mutex(0.0)

    func reporter(isTerminal: Bool = true) -> ProgressReporter {
        ProgressReporter(isTerminal: isTerminal, clock: { self.now.withLock { $0 } }) { text in
            self.output.withLock { $0 += text }
        }
    }

    func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
    var text: String { output.withLock { $0 } }
}

@Test func progressLineShowsClientsElapsedAndEta() {
    #expect(
        ProgressReporter.renderLine(round: "masked-input", done: 250, total: 1000, elapsed: 30, serverWorking: false)
            == "  masked-input      [======>                 ]  250/1000  30.0s elapsed, ETA 1:30")
    #expect(
        ProgressReporter.renderLine(round: "share-keys", done: 0, total: 8, elapsed: 0, serverWorking: false)
            == "  share-keys        [>                       ] 0/8  0.0s elapsed, ETA --")
    #expect(
        ProgressReporter.renderLine(round: "unmasking", done: 8, total: 8, elapsed: 4000, serverWorking: true)
            == "  unmasking         [========================] 8/8  1:06:40 elapsed, server closing the round…")
    #expect(
        ProgressReporter.renderFinishedLine(
            round: "masked-input", clientCount: 100, answered: 90, elapsed: 1.25, serverSeconds: 0.0214)
            == "  masked-input      100 clients in 1.2s, 90 answered, server 0.021 s")
    #expect(ProgressReporter.formatDuration(59.94) == "59.9s")
    #expect(ProgressReporter.formatDuration(59.96) == "1:00")
    #expect(ProgressReporter.formatDuration(.infinity) == "--")
}

@Test func progressRedrawsInPlaceAtMostTenTimesASecond() {
    let terminal = Terminal()
    let reporter = terminal.reporter()
    reporter.handle(.roundStarted(.maskedInputCollection, clientCount: 100))
    // 100 clients finish within 0.05 s: no redraw until the interval has passed.
    for _ in 0..<50 {
        terminal.advance(0.001)
        reporter.handle(.clientFinished)
    }
    #expect(terminal.text.components(separatedBy: "\r").count - 1 == 1)
    terminal.advance(0.1)
    reporter.handle(.clientFinished)
    let lines = terminal.text.components(separatedBy: "\r")
    #expect(lines.count - 1 == 2)
    #expect(lines.last?.contains(" 51/100 ") == true)
    #expect(!terminal.text.contains("\n"))  // redrawn in place
    reporter.handle(.serverStarted)
    #expect(terminal.text.hasSuffix("server closing the round…\u{1B}[K"))
    reporter.handle(.roundFinished(.maskedInputCollection, answered: 51, serverSeconds: 0.5))
    #expect(terminal.text.hasSuffix("100 clients in 0.2s, 51 answered, server 0.500 s\u{1B}[K\n"))
    reporter.finish()
    #expect(terminal.text.hasSuffix("\n") && !terminal.text.hasSuffix("\n\n"))

    // A live line that no roundFinished closed is ended by finish().
    reporter.handle(.roundStarted(.unmasking, clientCount: 3))
    reporter.finish()
    #expect(terminal.text.hasSuffix("\u{1B}[K\n"))
}

@Test func progressWritesNothingOffATerminal() throws {
    let terminal = Terminal()
    let reporter = terminal.reporter(isTerminal: false)
    #expect(!reporter.isActive)
    reporter.handle(.roundStarted(.shareKeys, clientCount: 10))
    reporter.handle(.clientFinished)
    reporter.handle(.roundFinished(.shareKeys, answered: 10, serverSeconds: 0))
    reporter.finish()
    #expect(terminal.text.isEmpty)
}

@Test func simulatorReportsEveryClientOfEveryRound() throws {
    let events = Mutex<[SimulationProgress]>([])
    var options = SimulationOptions()
    options.clientCount = 12
    options.vectorLength = 16
    options.seed = 3
    options.drops = [DropSpecification(fraction: 0.25, round: .shareKeys)]
    let report = try Simulator.run(options) { event in events.withLock { $0.append(event) } }
    #expect(report.verified)
    let all = events.withLock { $0 }
    var started: [ProtocolRound: Int] = [:]
    var finished: [ProtocolRound: Int] = [:]
    var current: ProtocolRound?
    for event in all {
        switch event {
        case let .roundStarted(round, count):
            started[round] = count
            current = round
        case .clientFinished:
            if let current { finished[current, default: 0] += 1 }
        case .serverStarted, .roundFinished:
            break
        }
    }
    // Every client of every round is reported once, scheduled dropouts included.
    #expect(started == finished)
    #expect(started[.advertiseKeys] == 12)
    #expect(started[.shareKeys] == 12)
    #expect(started[.maskedInputCollection] == 9)
    #expect(all.last == .roundFinished(.unmasking, answered: 9, serverSeconds: lastServerSeconds(all)))
}

private func lastServerSeconds(_ events: [SimulationProgress]) -> Double {
    guard case let .roundFinished(_, _, seconds) = events.last else { return -1 }
    return seconds
}
