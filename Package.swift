// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Plexus",
    products: [
        .executable(name: "plexus", targets: ["plexus"]),
    ],
    dependencies: [
        // HTTP/1.1 server for the OpenAI-compatible API (Foundation has no HTTP server on Linux).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // The plugin ABI: plain C11 header + module map. Plugins include the header; they never link Swift.
        .target(name: "PluginABI", path: "Sources/PluginABI"),
        // The little C the host needs at the boundary (host table layout, thread-local error slot).
        .target(name: "HostShim", dependencies: ["PluginABI"], path: "Sources/Host/Shim"),
        // The CUDA driver API and NVRTC subset, declared so the host builds without a CUDA toolkit; both are
        // opened with dlopen at run time.
        // It also holds the SHA-256 that verifies fetched models, optimized even in debug builds (at -O0 hashing the
        // default models takes ~10 s on every `plexus serve`; at -O2 under 2 s).
        .target(name: "CUDAShim", path: "Sources/Host/CUDAShim",
                cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))], linkerSettings: [.linkedLibrary("dl")]),
        // The host: plugin loader and bridge, devices, checker (later: API, scheduler, catalog).
        .target(name: "HostCore", dependencies: ["PluginABI", "HostShim", "CUDAShim"], path: "Sources/Host/Core"),
        // The OpenAI-compatible HTTP API: wire types, validation, auth, CORS, SSE, over SwiftNIO.
        .target(name: "HostAPI", dependencies: [
            "HostCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], path: "Sources/Host/API"),
        // The `plexus` command: argument parsing only.
        .executableTarget(name: "plexus", dependencies: ["HostCore", "HostAPI"], path: "Sources/Host/CLI"),
        .testTarget(name: "HostCoreTests", dependencies: ["HostCore"], path: "Tests/HostCoreTests",
                    exclude: ["Golden"]),  // golden data and the scripts that make it; tests read it by path
        .testTarget(name: "HostAPITests", dependencies: [
            "HostAPI", "HostCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], path: "Tests/HostAPITests"),
    ],
    swiftLanguageModes: [.v6]
)
