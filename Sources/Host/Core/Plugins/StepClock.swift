/// Times a plugin step on its stream with two host events: one recorded before `step`, one after it returns. On a
/// GPU that is device time (cuEventElapsedTime: what the stream spent from the first to the last of the step's
/// work, which is what the step occupied of the shared stream); on the CPU the plugin's work completes inside `step`,
/// so it is the host clock around it. The events are the host's own, reused every step.
struct StepClock {
    private let start: HostEvent
    private let end: HostEvent

    init(scope: HostScope) {
        start = HostEvent(scope: scope)
        end = HostEvent(scope: scope)
    }

    /// Marks the step's start on `stream`; false when the mark could not be recorded (the step is then untimed).
    func begin(on stream: DeviceStream) -> Bool { (try? stream.record(start)) != nil }

    /// Marks the step's end on `stream`, after the plugin enqueued its work.
    func finish(on stream: DeviceStream) -> Bool { (try? stream.record(end)) != nil }

    /// Seconds between the two marks, once the stream's work has completed; nil if they cannot be compared.
    func seconds() -> Double? {
        guard let milliseconds = try? HostEvent.elapsed(from: start, to: end), milliseconds >= 0 else { return nil }
        return milliseconds / 1000
    }
}
