import CUDAShim
import Glibc

/// A failed driver or NVRTC call: the call, its result code and the driver's text.
public struct CUDAError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let code: Int32
    public let message: String
    public var description: String { "\(call) failed: \(message) (\(code))" }
}

/// libcuda and NVRTC, opened at run time. The only Swift code that calls into the driver goes through `check`.
public final class CUDADriver: @unchecked Sendable {
    // SAFETY: filled once by px_cuda_load / px_nvrtc_load, read-only afterwards; the libraries are never closed.
    let api: UnsafeMutablePointer<px_cuda_api>
    let nvrtc: UnsafeMutablePointer<px_nvrtc_api>?
    /// e.g. 13000 for CUDA 13.0.
    public let driverVersion: Int32
    /// NVRTC (major, minor), or nil when NVRTC could not be loaded (kernels cannot be compiled then).
    public let nvrtcVersion: (major: Int32, minor: Int32)?
    /// Why NVRTC is missing, if it is.
    public let nvrtcProblem: String?

    /// Where libcuda is looked for: $PLEXUS_LIBCUDA, then the loader's search path.
    static func driverCandidates(_ environment: [String: String]) -> [String] {
        (environment["PLEXUS_LIBCUDA"].map { [$0] } ?? []) + ["libcuda.so.1", "libcuda.so"]
    }

    /// Where NVRTC is looked for: $PLEXUS_NVRTC, the loader's search path, then the usual toolkit folders.
    static func nvrtcCandidates(_ environment: [String: String]) -> [String] {
        (environment["PLEXUS_NVRTC"].map { [$0] } ?? []) + [
            "libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12",
            "/usr/local/cuda/lib64/libnvrtc.so",
            "/usr/local/cuda/targets/x86_64-linux/lib/libnvrtc.so",
            "/usr/local/cuda-13.0/targets/x86_64-linux/lib/libnvrtc.so",
            "/usr/local/cuda-12/targets/x86_64-linux/lib/libnvrtc.so",
        ]
    }

    /// Opens the driver and initializes it; the error is the one line the host logs before running on CPU.
    public static func load(environment: [String: String]) -> Result<CUDADriver, CUDAUnavailable> {
        let api = UnsafeMutablePointer<px_cuda_api>.allocate(capacity: 1)
        if let problem = loadTable({ px_cuda_load(api, $0, $1, $2) }, driverCandidates(environment)) {
            api.deallocate()
            return .failure(CUDAUnavailable(reason: problem))
        }
        var version: Int32 = 0
        guard api.pointee.cuInit(0) == 0, api.pointee.cuDriverGetVersion(&version) == 0 else {
            api.deallocate()
            return .failure(CUDAUnavailable(reason: "libcuda loaded but cuInit failed (no usable GPU or driver)"))
        }
        let nvrtc = UnsafeMutablePointer<px_nvrtc_api>.allocate(capacity: 1)
        let nvrtcProblem = loadTable({ px_nvrtc_load(nvrtc, $0, $1, $2) }, nvrtcCandidates(environment))
        var major: Int32 = 0, minor: Int32 = 0
        let nvrtcOK = nvrtcProblem == nil && nvrtc.pointee.nvrtcVersion(&major, &minor) == 0
        if !nvrtcOK { nvrtc.deallocate() }
        return .success(CUDADriver(api: api, nvrtc: nvrtcOK ? nvrtc : nil, driverVersion: version,
                                   nvrtcVersion: nvrtcOK ? (major, minor) : nil, nvrtcProblem: nvrtcProblem))
    }

    private init(api: UnsafeMutablePointer<px_cuda_api>, nvrtc: UnsafeMutablePointer<px_nvrtc_api>?, driverVersion: Int32,
                 nvrtcVersion: (major: Int32, minor: Int32)?, nvrtcProblem: String?) {
        self.api = api
        self.nvrtc = nvrtc
        self.driverVersion = driverVersion
        self.nvrtcVersion = nvrtcVersion
        self.nvrtcProblem = nvrtcProblem
    }

    /// Runs a C loader over a candidate list; returns its one-line problem or nil on success.
    private static func loadTable(_ load: (UnsafePointer<UnsafePointer<CChar>?>, UnsafeMutablePointer<CChar>, Int) -> Int32,
                                  _ candidates: [String]) -> String? {
        let strings = candidates.map { strdup($0) }
        defer { strings.forEach { free($0) } }
        var list: [UnsafePointer<CChar>?] = strings.map { UnsafePointer($0) } + [nil]
        var error = [CChar](repeating: 0, count: 512)
        let status = list.withUnsafeMutableBufferPointer { load(UnsafePointer($0.baseAddress!), &error, error.count) }
        return status == 0 ? nil : error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Converts a driver result into a thrown error with the driver's own text.
    func check(_ result: CUresult, _ call: String) throws(CUDAError) {
        guard result != 0 else { return }
        var text: UnsafePointer<CChar>?
        _ = api.pointee.cuGetErrorString(result, &text)
        throw CUDAError(call: call, code: result, message: text.map { String(cString: $0) } ?? "CUDA error")
    }

    /// Converts an NVRTC result.
    func checkNVRTC(_ result: nvrtcResult, _ call: String) throws(CUDAError) {
        guard result != 0 else { return }
        let text = nvrtc.flatMap { $0.pointee.nvrtcGetErrorString(result) }.map { String(cString: $0) } ?? "NVRTC error"
        throw CUDAError(call: call, code: result, message: text)
    }
}

/// Why the host runs without CUDA: one line for the log.
public struct CUDAUnavailable: Error, Sendable {
    public let reason: String
}
