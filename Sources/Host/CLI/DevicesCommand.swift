import HostCore

/// `plexus devices`: what this host can run on.
enum DevicesCommand {
    static let usage = """
        usage: plexus devices

          Lists the CPU worker pool and every GPU (name, architecture, memory, driver, NVRTC), or the one reason
          there is no GPU. PLEXUS_DEVICES=cpu skips CUDA; PLEXUS_LIBCUDA and PLEXUS_NVRTC name the libraries.
          Exit 0 (having no GPU is not an error), 2 on a usage error.
        """

    static func run(_ arguments: ArgumentList) throws(UsageError) -> Int32 {
        try arguments.finish()
        let devices = DeviceSet.discover(environment: ProcessEnvironment.current())
        Output.line(devices.summary)
        return 0
    }
}
