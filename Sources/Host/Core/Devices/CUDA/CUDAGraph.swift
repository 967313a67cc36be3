import CUDAShim
import PluginABI

/// Recorded stream work, instantiated once and replayed as one launch (px_graph): the only Swift owner of its
/// CUgraphExec, destroyed in deinit (graph_free, or the scope's close).
final class CUDAGraph: @unchecked Sendable {
    let device: CUDADevice
    /// The scope that owns the graph (leak reports; freed with it).
    let scope: HostScope
    // SAFETY: instantiated by `CUDAStream.endRecording`, used only by `launch(on:)`, destroyed once in deinit.
    let exec: CUgraphExec

    init(device: CUDADevice, scope: HostScope, exec: CUgraphExec) {
        self.device = device
        self.scope = scope
        self.exec = exec
    }

    deinit {
        _ = try? device.makeCurrent()
        _ = device.driver.api.pointee.cuGraphExecDestroy(exec)
    }
}

extension CUDADriver {
    /// Whether the driver has every entry point stream capture and graphs need.
    var hasGraphs: Bool {
        let api = self.api.pointee
        return api.cuStreamBeginCapture != nil && api.cuStreamEndCapture != nil && api.cuStreamIsCapturing != nil
            && api.cuGraphInstantiateWithFlags != nil && api.cuGraphDestroy != nil && api.cuGraphLaunch != nil
            && api.cuGraphExecDestroy != nil
    }
}
