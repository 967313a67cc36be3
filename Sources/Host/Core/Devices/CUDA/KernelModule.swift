import CUDAShim

/// CUDA C source as a plugin hands it to module_compile.
public struct KernelSourceText: Sendable, Hashable {
    public var name: String
    public var source: String
    public var options: [String]

    public init(name: String, source: String, options: [String] = []) {
        self.name = name
        self.source = source
        self.options = options
    }
}

/// A loaded cubin (px_module). Unloaded when the last reference goes (its functions keep it alive).
public final class KernelModule: @unchecked Sendable {
    public let name: String
    let device: CUDADevice
    // SAFETY: loaded here, unloaded in deinit.
    let handle: CUmodule

    init(device: CUDADevice, cubin: [UInt8], name: String) throws(CUDAError) {
        try device.makeCurrent()
        var module: CUmodule?
        let result = cubin.withUnsafeBytes { device.driver.api.pointee.cuModuleLoadData(&module, $0.baseAddress) }
        try device.driver.check(result, "cuModuleLoadData(\(name))")
        self.device = device
        self.handle = module!
        self.name = name
    }

    deinit {
        _ = try? device.makeCurrent()
        _ = device.driver.api.pointee.cuModuleUnload(handle)
    }

    /// A kernel by its extern "C" name.
    func function(named kernel: String) throws(CUDAError) -> KernelFunction {
        try device.makeCurrent()
        var function: CUfunction?
        try device.driver.check(device.driver.api.pointee.cuModuleGetFunction(&function, handle, kernel), "cuModuleGetFunction(\(kernel))")
        return KernelFunction(module: self, handle: function!, name: kernel)
    }
}

/// One kernel of a module (px_function).
public final class KernelFunction: @unchecked Sendable {
    public let module: KernelModule
    public let name: String
    // SAFETY: valid as long as `module` is loaded, which this reference guarantees.
    let handle: CUfunction

    init(module: KernelModule, handle: CUfunction, name: String) {
        self.module = module
        self.handle = handle
        self.name = name
    }
}
