import PluginABI
import Synchronization

/// Tokens a plugin sampled for a request.
public struct TokenOutput: Sendable, Equatable {
    public var tokens: [Int32]
    public var logprobs: [Float]?
    /// [n_tokens][n_top] alternatives, when asked for.
    public var topTokens: [[Int32]]?
    public var topLogprobs: [[Float]]?
}

/// A tensor a plugin emitted (logits, embedding, image, frame), copied into host memory.
public struct TensorOutput: Sendable, Equatable {
    public var role: UInt32
    public var index: UInt32
    public var dtype: UInt32
    public var shape: [Int64]
    public var data: [UInt8]
}

/// How a request ended.
public struct FinalOutput: Sendable, Equatable {
    public var reason: UInt32
    public var status: Int32
    public var message: String?
    /// Whether the host wrote this FINAL itself (after a failed step) rather than the plugin.
    public var byHost: Bool
}

/// One output of a request, in order.
public enum SinkEvent: Sendable, Equatable {
    case tokens(TokenOutput)
    case tensor(TensorOutput)
    case final(FinalOutput)
}

/// The lifecycle of one request's outputs as a value: open until exactly one FINAL, then closed. Anything after the
/// FINAL is refused and recorded as a contract violation.
struct SinkState {
    private(set) var final: FinalOutput?
    private(set) var violations: [String] = []
    private(set) var pending: [SinkEvent] = []
    var progress: (done: UInt32, total: UInt32) = (0, 0)

    /// What the owner does with an emitted event.
    enum Action: Equatable { case deliver(SinkEvent), reject(String) }

    mutating func emit(_ event: SinkEvent) -> Action {
        if let final {
            let what = if case .final = event { "a second FINAL" } else { "an output" }
            let reason = "\(what) after FINAL (reason \(final.reason))"
            violations.append(reason)
            return .reject(reason)
        }
        if case .final(let output) = event { final = output }
        pending.append(event)
        return .deliver(event)
    }

    mutating func recordViolation(_ text: String) { violations.append(text) }

    mutating func drain() -> [SinkEvent] {
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }
}

/// Where one request's outputs go (px_sink), and its cancel flag. Shared by the plugin's step thread (emits), the
/// front-end (drains) and whoever cancels (any thread).
public final class RequestSink: Sendable {
    /// The host's id of the request.
    public let requestID: UInt64
    /// Tokens must be below this (0 = unknown: not checked).
    public let vocabSize: UInt32
    private let cancelled = Atomic<Bool>(false)
    private let state = Mutex(SinkState())
    private let observer: (@Sendable (SinkEvent) -> Void)?

    /// Creates a sink; `observer`, if given, sees every accepted event on the emitting thread.
    public init(requestID: UInt64, vocabSize: UInt32 = 0, observer: (@Sendable (SinkEvent) -> Void)? = nil) {
        self.requestID = requestID
        self.vocabSize = vocabSize
        self.observer = observer
    }

    /// Asks the plugin to stop this request at its next step.
    public func cancel() { cancelled.store(true, ordering: .releasing) }

    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    /// The FINAL, once emitted.
    public var finalOutput: FinalOutput? { state.withLock { $0.final } }

    /// Contract violations seen on this sink (output after FINAL, invalid outputs).
    public var violations: [String] { state.withLock { $0.violations } }

    /// The latest progress report.
    public var progress: (done: UInt32, total: UInt32) { state.withLock { $0.progress } }

    /// Takes the events emitted since the last drain.
    public func drain() -> [SinkEvent] { state.withLock { $0.drain() } }

    /// Accepts an event unless the request already ended; returns the reason for a refusal.
    @discardableResult
    func emit(_ event: SinkEvent) -> String? {
        let action = state.withLock { $0.emit(event) }
        switch action {
        case .deliver(let event):
            observer?(event)
            return nil
        case .reject(let reason):
            return reason
        }
    }

    func setProgress(done: UInt32, total: UInt32) { state.withLock { $0.progress = (done, total) } }

    func recordViolation(_ text: String) { state.withLock { $0.recordViolation(text) } }

    /// Ends the request from the host's side (a failed step) if the plugin has not ended it.
    func endByHost(status: Int32, message: String) {
        guard finalOutput == nil else { return }
        emit(.final(FinalOutput(reason: UInt32(PX_FINISH_ERROR), status: status, message: message, byHost: true)))
    }
}
