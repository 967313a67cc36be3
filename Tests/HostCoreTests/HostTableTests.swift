import PluginABI
import Testing
@testable import HostCore

/// A stream that says it is recording a graph, so the host table's refusals can be checked without a GPU.
private final class RecordingStream: DeviceStream, @unchecked Sendable {
    override var isRecording: Bool { true }
    override func requireGraphs(_ call: String) throws(ServiceFailure) {}
}

/// The px_host graph services (ABI 1.1) on machines without a GPU: CPU streams answer PX_ERR_UNSUPPORTED with a
/// message, and a stream that records refuses everything but launch. The GPU half is in CUDADeviceTests.
@Suite struct HostTableTests {
    let cpu = CPUDevice(threads: 1)

    func services() -> HostServices {
        HostServices(pluginID: "table-test", memory: HostMemory(), cpu: cpu) { _ in }
    }

    /// ABI 1.2 (KV page moves are a host behaviour: no new slot) with 1.1's graph functions.
    @Test func theTableIsABI12WithEveryGraphFunction() {
        let host = services().host.pointee
        #expect(host.abi_minor == 2)
        #expect(host.header.size == UInt32(MemoryLayout<px_host>.size))
        #expect(host.graph_begin != nil && host.graph_end != nil && host.graph_launch != nil && host.graph_free != nil)
    }

    @Test func cpuStreamsAnswerUnsupportedWithAMessage() {
        let services = services()
        let h = services.host
        let (_, scope) = services.openScope(name: "model graph-test")
        let stream = services.handle(for: cpu.makeStream(label: "cpu test"))
        #expect(h.pointee.graph_begin!(h, stream) == px_status(PX_ERR_UNSUPPORTED))
        #expect(HostServices.takeError()?.contains("graph_begin: stream 'cpu test' is a CPU stream") == true)
        var graph: OpaquePointer?
        #expect(h.pointee.graph_end!(h, scope, stream, &graph) == px_status(PX_ERR_UNSUPPORTED))
        #expect(HostServices.takeError()?.contains("graph_end") == true)
        #expect(graph == nil)
        #expect(h.pointee.graph_launch!(h, nil, stream) == px_status(PX_ERR_UNSUPPORTED))
        #expect(HostServices.takeError()?.contains("graph_launch") == true)
        h.pointee.graph_free!(h, nil)  // ignored
        #expect(services.violations.isEmpty)
    }

    @Test func unknownGraphHandlesAreViolations() {
        let services = services()
        let h = services.host
        h.pointee.graph_free!(h, OpaquePointer(bitPattern: 0x1000))
        #expect(services.violations.count == 1)
    }

    @Test func aRecordingStreamRefusesEverythingButLaunch() {
        let services = services()
        let h = services.host
        let (_, scope) = services.openScope(name: "model recording-test")
        let stream = services.handle(for: RecordingStream(label: "recording", priority: 0, pool: cpu.pool))
        var desc = px_alloc_desc()
        desc.header = px_header(size: UInt32(MemoryLayout<px_alloc_desc>.size), version: 1)
        desc.bytes = 64
        desc.memory = UInt32(PX_MEMORY_HOST)
        desc.residency = UInt32(PX_RESIDENCY_ACTIVATIONS)
        var buffer: OpaquePointer?, other: OpaquePointer?
        #expect(h.pointee.mem_alloc!(h, scope, &desc, &buffer) == 0)
        #expect(h.pointee.mem_alloc!(h, scope, &desc, &other) == 0)
        var event: OpaquePointer?
        #expect(h.pointee.event_create!(h, scope, &event) == 0)
        var bytes = [UInt8](repeating: 7, count: 64)
        let refused = px_status(PX_ERR_INVALID_ARGUMENT)
        func expectRefused(_ status: px_status, _ call: String) {
            #expect(status == refused, "\(call)")
            #expect(HostServices.takeError()?.contains("\(call): stream 'recording' is recording a graph") == true, "\(call)")
        }
        expectRefused(bytes.withUnsafeBytes { h.pointee.mem_write!(h, stream, buffer, 0, $0.baseAddress, 64) }, "mem_write")
        expectRefused(bytes.withUnsafeMutableBytes { h.pointee.mem_read!(h, stream, $0.baseAddress, buffer, 0, 64) }, "mem_read")
        expectRefused(h.pointee.mem_copy!(h, stream, other, 0, buffer, 0, 64), "mem_copy")
        expectRefused(h.pointee.event_record!(h, event, stream), "event_record")
        expectRefused(h.pointee.event_wait!(h, stream, event), "event_wait")
        expectRefused(h.pointee.stream_synchronize!(h, stream), "stream_synchronize")
        expectRefused(h.pointee.graph_begin!(h, stream), "graph_begin")
        // stream_info (and launch, which needs a GPU to show) are not refused while recording
        var info = px_stream_info()
        info.header = px_header(size: UInt32(MemoryLayout<px_stream_info>.size), version: 1)
        #expect(h.pointee.stream_info!(h, stream, &info) == 0)
        h.pointee.mem_free!(h, buffer)
        h.pointee.mem_free!(h, other)
        h.pointee.event_destroy!(h, event)
        #expect(services.violations.isEmpty)
    }
}
