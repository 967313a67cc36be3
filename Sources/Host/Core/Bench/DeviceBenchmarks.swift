/// Entry points of `plexus bench cpu|cuda`.
public enum DeviceBenchmarks {
    /// The CPU device's figures.
    public static func cpu(threads: Int?) -> [BenchResult] {
        let device = CPUDevice(threads: threads)
        return CPUBenchmarks.parallelFor(device) + [CPUBenchmarks.laneRoundTrip(device)] + CPUBenchmarks.evictRestore(device)
    }

    /// The GPU's figures (needs a GPU with NVRTC).
    public static func cuda(_ gpu: CUDADevice, cpu: CPUDevice) -> [BenchResult] {
        CUDABenchmarks(gpu: gpu, cpu: cpu).run()
    }
}
