import PluginABI
import Testing
@testable import HostCore

/// The sink's lifecycle: outputs until exactly one FINAL, nothing after.
@Suite struct RequestSinkTests {
    private let stop = FinalOutput(reason: UInt32(PX_FINISH_STOP), status: 0, message: nil, byHost: false)
    private let tokens = SinkEvent.tokens(TokenOutput(tokens: [5]))

    @Test func acceptsOutputsThenOneFinal() {
        var state = SinkState()
        #expect(state.emit(tokens) == .deliver(tokens))
        #expect(state.emit(.final(stop)) == .deliver(.final(stop)))
        #expect(state.final == stop)
        #expect(state.drain() == [tokens, .final(stop)])
        #expect(state.drain().isEmpty)
        #expect(state.violations.isEmpty)
    }

    @Test func refusesAndRecordsAnythingAfterFinal() {
        var state = SinkState()
        _ = state.emit(.final(stop))
        #expect(state.emit(tokens) == .reject("an output after FINAL (reason 0)"))
        #expect(state.emit(.final(stop)) == .reject("a second FINAL after FINAL (reason 0)"))
        #expect(state.violations.count == 2)
        #expect(state.final == stop)
    }

    @Test func hostEndsARequestOnlyIfThePluginDidNot() {
        let sink = RequestSink(requestID: 1)
        sink.endByHost(status: Int32(PX_ERR_DEVICE), message: "launch failed")
        sink.endByHost(status: Int32(PX_ERR_INTERNAL), message: "again")
        #expect(sink.finalOutput?.status == Int32(PX_ERR_DEVICE))
        #expect(sink.finalOutput?.byHost == true)
        #expect(sink.violations.isEmpty)
    }

    @Test func cancelIsVisibleToPolls() {
        let sink = RequestSink(requestID: 2)
        #expect(!sink.isCancelled)
        sink.cancel()
        #expect(sink.isCancelled)
    }
}
