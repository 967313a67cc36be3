// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Plexus",
    products: [
        .executable(name: "plexus", targets: ["plexus"]),
    ],
    targets: [
        // The plugin ABI: plain C11 header + module map. Plugins include the header; they never link Swift.
        .target(name: "PluginABI", path: "Sources/PluginABI"),
        // The little C the host needs at the boundary (host table layout, thread-local error slot).
        .target(name: "HostShim", dependencies: ["PluginABI"], path: "Sources/Host/Shim"),
        // The CUDA driver API and NVRTC subset, declared so the host builds without a CUDA toolkit; both are
        // opened with dlopen at run time.
        .target(name: "CUDAShim", path: "Sources/Host/CUDAShim", linkerSettings: [.linkedLibrary("dl")]),
        // The host: plugin loader and bridge, devices, checker (later: API, scheduler, catalog).
        .target(name: "HostCore", dependencies: ["PluginABI", "HostShim", "CUDAShim"], path: "Sources/Host/Core"),
        // The `plexus` command: argument parsing only.
        .executableTarget(name: "plexus", dependencies: ["HostCore"], path: "Sources/Host/CLI"),
        .testTarget(name: "HostCoreTests", dependencies: ["HostCore"], path: "Tests/HostCoreTests",
                    exclude: ["Golden"]),  // golden data and the scripts that make it; tests read it by path
    ],
    swiftLanguageModes: [.v6]
)
