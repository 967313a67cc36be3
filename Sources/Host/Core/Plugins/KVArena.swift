import PluginABI

/// The host-owned KV memory of one token model: `pages` pages of `info.kvPageBytes`, handed to every step as
/// px_step.kv. The scheduler owns the page tables; the plugin owns the layout inside a page.
struct KVArena {
    let buffer: HostBuffer
    let handle: OpaquePointer
    let pages: UInt32

    /// Allocates the arena on `device` (device memory) or, for nil, in host memory.
    static func make(for info: ModelInfo, pages: UInt32, modelID: String, device: CUDADevice?,
                     services: HostServices) throws(PluginError) -> KVArena? {
        guard info.kvPageTokens > 0, pages > 0 else { return nil }
        let (bytes, overflow) = info.kvPageBytes.multipliedReportingOverflow(by: UInt64(pages))
        guard !overflow else {
            throw PluginError(status: Int32(PX_ERR_OUT_OF_MEMORY), message: "KV arena of \(pages) pages overflows", call: "kv (host)")
        }
        let scope = HostScope(name: "kv of model \(modelID)", device: device)
        let memory = device == nil ? PX_MEMORY_HOST : PX_MEMORY_DEVICE
        do {
            let buffer = try services.memory.allocate(scope: scope, label: "kv \(modelID)", memory: UInt32(memory),
                                                      residency: UInt32(PX_RESIDENCY_KV), bytes: bytes, alignment: 4096)
            return KVArena(buffer: buffer, handle: services.buffers.insert(buffer), pages: pages)
        } catch {
            throw PluginError(status: Int32(error.status), message: error.message, call: "kv (host)")
        }
    }

    func release(services: HostServices) {
        _ = services.buffers.remove(handle)
        services.memory.account(released: buffer)
    }
}
