import HostShim
import PluginABI

/// A failure reported by a plugin through the C ABI: its status and the message it set with `set_error`.
///
/// C status codes become this type in exactly one place (`BoundaryCall`); the API layer later turns it into an
/// OpenAI error body.
public struct PluginError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The px_status the plugin returned.
    public let status: Int32
    /// The message the plugin set, or a description of the status when it set none.
    public let message: String
    /// The ABI function that failed, e.g. "model_create".
    public let call: String
    /// Whether the plugin attached a message (the contract requires one).
    public let hadMessage: Bool

    public init(status: Int32, message: String?, call: String) {
        self.status = status
        self.call = call
        self.hadMessage = message != nil
        self.message = message ?? "\(PluginStatus.name(status)) (the plugin set no message)"
    }

    public var description: String { "\(call): \(PluginStatus.name(status)): \(message)" }
}

/// Names of px_status values.
public enum PluginStatus {
    /// The symbolic name of a status, e.g. "PX_ERR_FORMAT".
    public static func name(_ status: Int32) -> String {
        switch Int(status) {
        case PX_OK: return "PX_OK"
        case PX_ERR_INVALID_ARGUMENT: return "PX_ERR_INVALID_ARGUMENT"
        case PX_ERR_UNSUPPORTED: return "PX_ERR_UNSUPPORTED"
        case PX_ERR_NOT_FOUND: return "PX_ERR_NOT_FOUND"
        case PX_ERR_OUT_OF_MEMORY: return "PX_ERR_OUT_OF_MEMORY"
        case PX_ERR_IO: return "PX_ERR_IO"
        case PX_ERR_FORMAT: return "PX_ERR_FORMAT"
        case PX_ERR_CANCELLED: return "PX_ERR_CANCELLED"
        case PX_ERR_DEVICE: return "PX_ERR_DEVICE"
        case PX_ERR_BUSY: return "PX_ERR_BUSY"
        case PX_ERR_INTERNAL: return "PX_ERR_INTERNAL"
        case PX_ERR_VERSION: return "PX_ERR_VERSION"
        default: return "status \(status)"
        }
    }
}

/// The single conversion point from a C status to a Swift error.
enum BoundaryCall {
    /// Calls into the plugin with a clean error slot; throws the plugin's status and message on failure.
    static func check(_ call: String, _ body: () -> px_status) throws(PluginError) {
        px_shim_clear_error()
        let status = body()
        guard status != Int32(PX_OK) else { return }
        throw PluginError(status: status, message: takeMessage(), call: call)
    }

    /// The message the current thread's last `set_error` left, if any.
    static func takeMessage() -> String? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 1024) { buffer in
            guard px_shim_take_error(buffer.baseAddress, buffer.count) != 0 else { return nil }
            return String(cString: buffer.baseAddress!)
        }
    }
}
