import Testing
@testable import HostCore

/// Device discovery: the CPU is always there; a host without CUDA says why in one line and runs on CPU.
@Suite struct DeviceSetTests {
    @Test func cpuOnlyWhenAsked() {
        let devices = DeviceSet.discover(environment: ["PLEXUS_DEVICES": "cpu"], cpuThreads: 2)
        #expect(devices.gpus.isEmpty)
        #expect(devices.cpu.pool.count == 2)
        #expect(devices.summary == "devices: CPU (2 worker threads); no GPU: CUDA disabled by PLEXUS_DEVICES=cpu; running on CPU")
    }

    @Test func aMissingDriverIsOneClearLine() {
        let devices = DeviceSet.discover(environment: ["PLEXUS_LIBCUDA": "/nonexistent/libcuda.so.1"], cpuThreads: 1)
        if devices.gpus.isEmpty {
            #expect(devices.cudaProblem != nil)
            #expect(devices.summary.hasSuffix("running on CPU"))
            #expect(!devices.summary.contains("\n"))
        }
    }

    @Test func kernelCacheFolderFollowsTheEnvironment() {
        #expect(KernelCache.directory(environment: ["PLEXUS_CACHE_DIR": "/c"]) == "/c/kernels")
        #expect(KernelCache.directory(environment: ["XDG_CACHE_HOME": "/x"]) == "/x/plexus/kernels")
        #expect(KernelCache.directory(environment: ["HOME": "/h"]) == "/h/.cache/plexus/kernels")
    }

    @Test func sha256MatchesTheStandardVectors() {
        #expect(KernelCache.sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(KernelCache.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(KernelCache.sha256Hex(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(KernelCache.sha256Hex([UInt8](repeating: 0x61, count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func cacheFilesRoundTripAtomically() {
        let folder = "\(Fixtures.directory)/kernel-cache/a/b"
        KernelCache.write([1, 2, 3], to: folder + "/k.cubin", directory: folder)
        #expect(KernelCache.read(folder + "/k.cubin") == [1, 2, 3])
        #expect(KernelCache.read(folder + "/missing.cubin") == nil)
    }
}
