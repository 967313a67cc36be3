import Glibc
import HostShim
import PluginABI

/// Why a library was refused at load time. One line, naming the file and the problem.
public struct PluginLoadError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }
}

/// What a plugin says about itself in its entry, validated and copied into Swift.
public struct PluginDescriptor: Sendable, Equatable {
    public var id: String
    public var name: String
    public var version: String
    public var vendor: String?
    public var summary: String?
    /// The ABI version the plugin was built against.
    public var abiMajor: UInt32
    public var abiMinor: UInt32
    /// min(host minor, plugin minor): what both sides use.
    public var negotiatedMinor: UInt32
}

/// One plugin shared library, opened with RTLD_NOW | RTLD_LOCAL and validated. Never closed: plugin threads or
/// callbacks may still point into it, so the library stays mapped until the process exits.
public final class PluginLibrary: @unchecked Sendable {
    public let path: String
    public let descriptor: PluginDescriptor
    // SAFETY: points into the mapped library, which is never unmapped; read-only after validation.
    let entry: UnsafePointer<px_entry>

    /// Longest id, name or version string read from a plugin.
    static let maxStringLength = 256

    private init(path: String, descriptor: PluginDescriptor, entry: UnsafePointer<px_entry>) {
        self.path = path
        self.descriptor = descriptor
        self.entry = entry
    }

    /// Opens and validates the library at `path`.
    public static func open(path: String) throws(PluginLoadError) -> PluginLibrary {
        func refuse(_ problem: String) -> PluginLoadError { PluginLoadError(path: path, problem: problem) }
        _ = dlerror()
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw refuse("not a loadable shared library (\(reason))")
        }
        guard let symbol = dlsym(handle, PX_ENTRY_SYMBOL) else {
            throw refuse("not a Plexus plugin: it exports no '\(PX_ENTRY_SYMBOL)' symbol")
        }
        let entry = symbol.assumingMemoryBound(to: px_entry.self)
        let descriptor = try validate(entry, symbolSize: px_shim_symbol_size(symbol), refuse: refuse)
        return PluginLibrary(path: path, descriptor: descriptor, entry: UnsafePointer(entry))
    }

    private static func validate(_ entry: UnsafeMutablePointer<px_entry>, symbolSize: Int,
                                 refuse: (String) -> PluginLoadError) throws(PluginLoadError) -> PluginDescriptor {
        let required = Int(px_shim_entry_v1_size())
        // Read the header alone first: the rest of the struct may not exist.
        let header = UnsafeRawPointer(entry).load(as: px_header.self)
        if symbolSize != 0 && symbolSize < MemoryLayout<px_header>.size {
            throw refuse("'\(PX_ENTRY_SYMBOL)' is \(symbolSize) bytes, too small to hold even a px_header")
        }
        guard Int(header.size) >= required else {
            throw refuse("px_entry is \(header.size) bytes, smaller than ABI 1.0's \(required): built against a broken or pre-1.0 header")
        }
        if symbolSize != 0 && symbolSize < required {
            throw refuse("px_entry claims \(header.size) bytes but the exported symbol is only \(symbolSize)")
        }
        guard header.version >= 1 else { throw refuse("px_entry.header.version is 0") }
        let raw = entry.pointee
        guard raw.abi_major == UInt32(PX_ABI_MAJOR) else {
            throw refuse("built for Plexus ABI \(raw.abi_major).\(raw.abi_minor); this host speaks ABI \(PX_ABI_MAJOR).x")
        }
        guard let id = string(raw.id), isValidID(id) else {
            throw refuse("plugin id is missing or not 1-128 characters of [a-z0-9._-]")
        }
        guard let name = string(raw.name), !name.isEmpty else { throw refuse("plugin '\(id)' has no name") }
        guard let version = string(raw.version), !version.isEmpty else { throw refuse("plugin '\(id)' has no version") }
        guard raw.`init` != nil, raw.deinit != nil, raw.get_extension != nil else {
            throw refuse("plugin '\(id)' leaves init, deinit or get_extension NULL")
        }
        return PluginDescriptor(id: id, name: name, version: version, vendor: string(raw.vendor),
                                summary: string(raw.description), abiMajor: raw.abi_major, abiMinor: raw.abi_minor,
                                negotiatedMinor: min(UInt32(PX_ABI_MINOR), raw.abi_minor))
    }

    /// A plugin-provided C string, read at most `maxStringLength` bytes far; nil for NULL or unterminated.
    static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        let length = px_shim_strnlen(pointer, maxStringLength + 1)
        guard length <= maxStringLength else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128 && id.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
    }
}
