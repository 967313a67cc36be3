import CUDAShim
import Glibc
import Synchronization

/// Compiles CUDA C with NVRTC for one architecture and keeps the cubins in an on-disk cache keyed by
/// SHA-256(source, options, architecture, driver version, NVRTC version), so a second start compiles nothing.
public final class KernelCompiler: @unchecked Sendable {
    let driver: CUDADriver
    public let architecture: UInt32
    public let cacheDirectory: String
    private let compileCount = Atomic<Int>(0)

    /// How many times this compiler has invoked NVRTC (cache hits do not count).
    public var compilations: Int { compileCount.load(ordering: .relaxed) }

    init(driver: CUDADriver, architecture: UInt32, cacheDirectory: String) {
        self.driver = driver
        self.architecture = architecture
        self.cacheDirectory = cacheDirectory
    }

    /// The NVRTC options every compilation gets (the plugin's own follow).
    var baseOptions: [String] { ["--gpu-architecture=sm_\(architecture)", "-default-device", "--std=c++17"] }

    /// The cubin for `source`: from the cache, or compiled and then cached.
    public func cubin(for source: KernelSourceText) throws(CUDAError) -> [UInt8] {
        let key = cacheKey(for: source)
        let path = "\(cacheDirectory)/\(key).cubin"
        if let cached = KernelCache.read(path) { return cached }
        let cubin = try compile(source)
        compileCount.add(1, ordering: .relaxed)
        KernelCache.write(cubin, to: path, directory: cacheDirectory)
        return cubin
    }

    /// Hex SHA-256 of everything that changes the machine code.
    public func cacheKey(for source: KernelSourceText) -> String {
        let version = driver.nvrtcVersion.map { "\($0.major).\($0.minor)" } ?? "none"
        let material = ([source.source] + baseOptions + source.options + ["sm_\(architecture)", "driver \(driver.driverVersion)", "nvrtc \(version)"])
            .joined(separator: "\u{0}")
        return KernelCache.sha256Hex(Array(material.utf8))
    }

    private func compile(_ source: KernelSourceText) throws(CUDAError) -> [UInt8] {
        guard let nvrtc = driver.nvrtc?.pointee else {
            throw CUDAError(call: "nvrtc", code: -1, message: "NVRTC is not loaded")
        }
        var program: nvrtcProgram?
        try driver.checkNVRTC(nvrtc.nvrtcCreateProgram(&program, source.source, source.name, 0, nil, nil), "nvrtcCreateProgram(\(source.name))")
        defer { _ = nvrtc.nvrtcDestroyProgram(&program) }
        let options = (baseOptions + source.options).map { strdup($0) }
        defer { options.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = options.map { UnsafePointer($0) }
        let result = pointers.withUnsafeMutableBufferPointer {
            nvrtc.nvrtcCompileProgram(program, Int32($0.count), UnsafePointer($0.baseAddress))
        }
        if result != 0 {
            throw CUDAError(call: "nvrtcCompileProgram(\(source.name))", code: result, message: log(nvrtc, program))
        }
        var size = 0
        try driver.checkNVRTC(nvrtc.nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize")
        var cubin = [CChar](repeating: 0, count: size)
        try driver.checkNVRTC(nvrtc.nvrtcGetCUBIN(program, &cubin), "nvrtcGetCUBIN")
        return cubin.map { UInt8(bitPattern: $0) }
    }

    private func log(_ nvrtc: px_nvrtc_api, _ program: nvrtcProgram?) -> String {
        var size = 0
        guard nvrtc.nvrtcGetProgramLogSize(program, &size) == 0, size > 1 else { return "compilation failed" }
        var text = [CChar](repeating: 0, count: size)
        _ = nvrtc.nvrtcGetProgramLog(program, &text)
        return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// The cubin cache on disk: content-addressed files written atomically (write to a temporary name, rename).
enum KernelCache {
    /// The cache folder: $PLEXUS_CACHE_DIR/kernels, else $XDG_CACHE_HOME/plexus/kernels, else ~/.cache/plexus/kernels.
    static func directory(environment: [String: String]) -> String {
        if let explicit = environment["PLEXUS_CACHE_DIR"] { return explicit + "/kernels" }
        if let xdg = environment["XDG_CACHE_HOME"] { return xdg + "/plexus/kernels" }
        return (environment["HOME"] ?? "/tmp") + "/.cache/plexus/kernels"
    }

    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        return count == bytes.count ? bytes : nil
    }

    static func write(_ bytes: [UInt8], to path: String, directory: String) {
        makeDirectories(directory)
        let temporary = "\(path).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        if written == bytes.count { rename(temporary, path) } else { unlink(temporary) }
    }

    static func makeDirectories(_ path: String) {
        var prefix = ""
        for part in path.split(separator: "/", omittingEmptySubsequences: false) {
            prefix += prefix.isEmpty && part.isEmpty ? "/" : (prefix.hasSuffix("/") || prefix.isEmpty ? "" : "/") + part
            if !prefix.isEmpty { mkdir(prefix, 0o755) }
        }
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBytes { px_sha256($0.baseAddress, $0.count, &digest) }
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] }, as: UTF8.self)
    }
}
