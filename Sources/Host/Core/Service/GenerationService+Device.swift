/// Opening the service on the device a command asked for (`--device cpu|cuda|cuda:N`): `plexus serve` and the
/// scheduler benchmarks share it, so a benchmark runs the engine exactly as the server does.
extension GenerationService {
    /// The service with its engine stream on `choice`'s device (the CPU, or the GPU it names among `devices`), or
    /// the one-line reason that device cannot have it.
    public static func open(on choice: DeviceChoice, devices: DeviceSet, pluginDirectories: [String], environment: [String: String],
                            weightBudget: UInt64?) -> Result<GenerationService, NoGPU> {
        switch choice.gpu(in: devices) {
        case nil:
            return .success(GenerationService(devices: devices, pluginDirectories: pluginDirectories, environment: environment,
                                              weightBudget: weightBudget))
        case .failure(let noGPU)?:
            return .failure(noGPU)
        case .success(let gpu)?:
            do {
                return .success(try GenerationService(devices: devices, pluginDirectories: pluginDirectories, environment: environment,
                                                      weightBudget: weightBudget, gpu: gpu))
            } catch {
                return .failure(NoGPU(reason: "cuda:\(gpu.ordinal): \(error.description)"))
            }
        }
    }
}
