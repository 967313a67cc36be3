import HostShim
import PluginABI

/// The plugin's PX_EXT_MODELS table, validated once.
public struct ModelAPI: @unchecked Sendable {
    // SAFETY: the table lives until deinit (contract); the host only uses it while the plugin is initialized.
    let table: UnsafePointer<px_model_api>
    /// Bitmask of (1 << PX_KIND_*) the plugin serves.
    public let kinds: UInt32
    /// Weight formats the plugin reads, e.g. ["gguf"].
    public let formats: [String]

    /// Most formats read from the NULL-terminated list.
    static let maxFormats = 32

    init(_ table: UnsafePointer<px_model_api>) throws(PluginError) {
        func broken(_ message: String) -> PluginError {
            PluginError(status: Int32(PX_ERR_VERSION), message: message, call: "get_extension(\(PX_EXT_MODELS))")
        }
        let api = table.pointee
        let required = px_shim_model_api_v1_size()
        guard api.header.size >= required else {
            throw broken("px_model_api is \(api.header.size) bytes, smaller than ABI 1.0's \(required)")
        }
        guard api.model_create != nil, api.model_destroy != nil, api.model_info != nil, api.request_create != nil,
              api.request_destroy != nil, api.step != nil else {
            throw broken("px_model_api leaves a required function NULL (model_create, model_destroy, model_info, request_create, request_destroy, step)")
        }
        let known: UInt32 = (1 << PX_KIND_LLM) | (1 << PX_KIND_IMAGE) | (1 << PX_KIND_VIDEO) | (1 << PX_KIND_VLM) | (1 << PX_KIND_EMBEDDING)
        guard api.kinds != 0, api.kinds & ~known == 0 else { throw broken("px_model_api.kinds 0x\(String(api.kinds, radix: 16)) names no known kind or unknown ones") }
        var formats: [String] = []
        if let list = api.formats {
            var index = 0
            while index < Self.maxFormats, let format = list[index] {
                if let text = PluginLibrary.string(format) { formats.append(text) }
                index += 1
            }
        }
        self.table = table
        self.kinds = api.kinds
        self.formats = formats
    }

    /// Whether the plugin serves a kind.
    public func serves(kind: UInt32) -> Bool { kind < 32 && kinds & (1 << kind) != 0 }
}
