import Foundation
import SecAggSessionRunner
public import SecureAggregation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the simulator reports while a session runs (``Simulator/run(_:progress:)``).
public enum SimulationProgress: Sendable, Hashable {
    /// Clients start handling the server's messages of `round`: `clientCount` of them, scheduled dropouts
    /// included.
    case roundStarted(ProtocolRound, clientCount: Int)
    /// One client of the current round is done (it answered, dropped or failed). Sent from the worker
    /// threads that run the clients, concurrently.
    case clientFinished
    /// Every client of the round is done; the server is closing the round (for unmasking: reconstructing
    /// secrets and removing masks).
    case serverStarted
    /// The server closed `round` (or aborted in it): `answered` clients replied, and the server worked
    /// `serverSeconds` (receiving the replies and closing the round).
    case roundFinished(ProtocolRound, answered: Int, serverSeconds: Double)
}

/// A one-line progress bar for a terminal, fed by ``SimulationProgress`` events: within the current round,
/// clients done out of the total, elapsed time and an estimate of the time left, redrawn in place (`\r`) at
/// most once per ``redrawInterval``; each finished round leaves one line. A reporter that is not on a
/// terminal writes nothing at all, so pipes, logs and CI see no control characters.
///
/// Thread-safe: ``handle(_:)`` may be called from the simulator's worker threads at once.
public final class ProgressReporter: Sendable {
    /// The shortest time between two redraws of the live line, in seconds (at most ~10 redraws a second).
    public static let redrawInterval = 0.1
    /// Characters of the bar between its brackets.
    public static let barWidth = 24
    /// The width round names are padded to ("consistency-check" is the longest).
    static let roundNameWidth = 17

    private struct State: Sendable {
        var round = ""
        var total = 0
        var done = 0
        var roundStart = 0.0
        var lastDraw = -Double.infinity
        var serverWorking = false
        /// A live line is on screen (the cursor is at its end, with no newline yet).
        var lineVisible = false
    }

    private let isTerminal: Bool
    private let clock: @Sendable () -> Double
    private let write: @Sendable (String) -> Void
    private let state = Mutex(State())

    /// A reporter that writes through `write` when `isTerminal` is true, and does nothing otherwise;
    /// `clock` gives seconds since an arbitrary origin (nil: a monotonic wall clock).
    public init(
        isTerminal: Bool, clock: (@Sendable () -> Double)? = nil, write: @escaping @Sendable (String) -> Void
    ) {
        self.isTerminal = isTerminal
        self.clock = clock ?? { wallSeconds() }
        self.write = write
    }

    /// A reporter on standard error, active only when `enabled` and standard error is a terminal.
    public static func standardError(enabled: Bool) -> ProgressReporter {
        ProgressReporter(isTerminal: enabled && isatty(STDERR_FILENO) == 1) { text in
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    /// True when the reporter draws anything.
    public var isActive: Bool { isTerminal }

    /// Updates the display for one event.
    public func handle(_ event: SimulationProgress) {
        guard isTerminal else { return }
        let now = clock()
        state.withLock { state in
            switch event {
            case let .roundStarted(round, clientCount):
                if state.lineVisible { write("\n") }
                state = State()
                state.round = round.description
                state.total = clientCount
                state.roundStart = now
                draw(&state, now: now)
            case .clientFinished:
                state.done += 1
                if now - state.lastDraw >= Self.redrawInterval { draw(&state, now: now) }
            case .serverStarted:
                state.serverWorking = true
                draw(&state, now: now)
            case let .roundFinished(round, answered, serverSeconds):
                let line = Self.renderFinishedLine(
                    round: round.description, clientCount: state.total, answered: answered,
                    elapsed: now - state.roundStart, serverSeconds: serverSeconds)
                write("\r" + line + Self.clearToEndOfLine + "\n")
                state.lineVisible = false
                state.lastDraw = now
            }
        }
    }

    /// Ends a live line that no ``SimulationProgress/roundFinished(_:answered:serverSeconds:)`` closed (an
    /// error midway), so that what follows starts on a fresh line.
    public func finish() {
        guard isTerminal else { return }
        state.withLock { state in
            if state.lineVisible { write("\n") }
            state.lineVisible = false
        }
    }

    private func draw(_ state: inout State, now: Double) {
        let line = Self.renderLine(
            round: state.round, done: state.done, total: state.total, elapsed: now - state.roundStart,
            serverWorking: state.serverWorking)
        write("\r" + line + Self.clearToEndOfLine)
        state.lastDraw = now
        state.lineVisible = true
    }

    /// ANSI "erase to end of line": removes what a longer previous line left behind.
    static let clearToEndOfLine = "\u{1B}[K"

    /// The live line, e.g. `  masked-input      [=========>              ]   456/1000  12.3s elapsed, ETA 14.7s`;
    /// the estimate assumes the remaining clients take as long as the finished ones did on average.
    public static func renderLine(round: String, done: Int, total: Int, elapsed: Double, serverWorking: Bool)
        -> String
    {
        let clamped = min(max(done, 0), max(total, 0))
        let filled = total > 0 ? clamped * barWidth / total : barWidth
        var bar = String(repeating: "=", count: filled)
        if filled < barWidth { bar += ">" + String(repeating: " ", count: barWidth - filled - 1) }
        let digits = String(max(total, 0)).count
        let counter = "\(String(clamped).leftPadded(to: digits))/\(total)"
        let tail: String
        if serverWorking {
            tail = "server closing the round…"
        } else if clamped > 0 && clamped < total && elapsed > 0 {
            let remaining = elapsed / Double(clamped) * Double(total - clamped)
            tail = "ETA \(formatDuration(remaining))"
        } else {
            tail = "ETA --"
        }
        return
            "  \(round.rightPadded(to: roundNameWidth)) [\(bar)] \(counter)  \(formatDuration(elapsed)) elapsed, \(tail)"
    }

    /// The line a finished round leaves, e.g. `  masked-input      100 clients in 1.2s, 90 answered, server 0.021 s`.
    public static func renderFinishedLine(
        round: String, clientCount: Int, answered: Int, elapsed: Double, serverSeconds: Double
    ) -> String {
        "  \(round.rightPadded(to: roundNameWidth)) \(clientCount) clients in \(formatDuration(elapsed)), "
            + "\(answered) answered, server \(format(serverSeconds, 3)) s"
    }

    /// "4.2s" below a minute, "3:07" below an hour, "1:02:03" above.
    public static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--" }
        if seconds < 59.95 { return format(seconds, 1) + "s" }
        let whole = Int(seconds.rounded())
        let (hours, minutes, secs) = (whole / 3600, whole / 60 % 60, whole % 60)
        let twoDigits = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        return hours > 0 ? "\(hours):\(twoDigits(minutes)):\(twoDigits(secs))" : "\(minutes):\(twoDigits(secs))"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    fileprivate func rightPadded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
