import Glibc
import PluginABI

/// Runs one plugin library through the ABI contract, like a CLAP validator: every check prints a PASS, FAIL or
/// SKIP line as it completes. Plugin authors run it; CI runs it on every plugin the project builds.
public final class PluginChecker {
    let path: String
    let modelPath: String?
    let options: [(String, String)]
    let report: CheckReport
    private let memory = HostMemory()
    private let cpu: CPUDevice
    private let stream: DeviceStream
    /// What the plugin logged during the checks.
    public let log = LogBuffer()
    private var errorsWithoutMessage: [String] = []

    /// Most steps a request may take before the checker calls it stuck.
    static let stepLimit = 64

    /// Creates a checker for `path`; `modelPath` enables the model and request checks.
    public init(path: String, modelPath: String?, options: [(String, String)] = [], threads: Int? = nil,
                output: @escaping (CheckResult) -> Void) {
        self.path = path
        self.modelPath = modelPath
        self.options = options
        self.report = CheckReport(output: output)
        cpu = CPUDevice(threads: threads)
        stream = cpu.makeStream(label: "check")
    }

    /// The closing line, e.g. "14 passed, 0 failed, 2 skipped".
    public var summary: String { report.summary }

    /// Runs every check; returns true when none failed.
    public func run() -> Bool {
        let loader = PluginLoader(memory: memory, cpu: cpu) { [log] line in log.append(line) }
        let instance: PluginInstance
        do {
            instance = try loader.open(path: path)
        } catch {
            report.fail("descriptor", error.problem)
            return false
        }
        checkDescriptor(instance)
        guard checkInitTwice(instance), attempt("init", { () throws(PluginError) in try instance.initialize() }) else {
            return false
        }
        if let api = checkExtensions(instance) {
            checkProbe(instance, api)
            checkBadModels(instance)
            if let modelPath { checkModel(instance, modelPath: modelPath) } else { skipModelChecks() }
        }
        let leaks = instance.deinitialize()
        report.expect("deinit releases every plugin allocation", problems: leaks.map { "still live: \($0)" })
        report.expect("host table used correctly", problems: instance.services.violations)
        report.expect("every failure carried a message", problems: errorsWithoutMessage.map { "\($0) failed without set_error" })
        return report.failures == 0
    }

    // MARK: - Library and lifecycle

    private func checkDescriptor(_ instance: PluginInstance) {
        let d = instance.descriptor
        report.pass("descriptor", "\(d.id) \"\(d.name)\" \(d.version)")
        report.pass("version negotiation",
                    "plugin built for ABI \(d.abiMajor).\(d.abiMinor), host \(PX_ABI_MAJOR).\(PX_ABI_MINOR), using \(d.abiMajor).\(d.negotiatedMinor)")
    }

    private func checkInitTwice(_ instance: PluginInstance) -> Bool {
        var problems: [String] = []
        for round in 1...2 {
            do {
                try instance.initialize()
            } catch {
                noteMessage(error)
                report.fail("init/deinit twice", "init #\(round): \(error.description)")
                return false
            }
            problems += instance.deinitialize().map { "deinit #\(round) left \($0) live" }
        }
        report.expect("init/deinit twice", problems: problems)
        return true
    }

    private func checkExtensions(_ instance: PluginInstance) -> ModelAPI? {
        let unknown = instance.extensionTable("plexus.check.no-such-extension/1")
        report.expect("unknown extension is NULL", problems: unknown == nil ? [] : ["get_extension returned a table for an unknown id"])
        do {
            let api = try instance.modelAPI()
            report.pass("extension \(PX_EXT_MODELS)", "kinds \(KindNames.list(api.kinds)), formats \(api.formats)")
            return api
        } catch {
            report.fail("extension \(PX_EXT_MODELS)", error.description)
            return nil
        }
    }

    private func checkProbe(_ instance: PluginInstance, _ api: ModelAPI) {
        guard let probe = api.table.pointee.probe else {
            report.skip("probe rejects a non-model file", "the plugin has no probe")
            return
        }
        let garbage = ScratchFile.garbage()
        var score: UInt32 = 0
        do {
            try instance.withControl { handle throws(PluginError) in
                try BoundaryCall.check("probe") { garbage.path.withCString { probe(handle, $0, &score) } }
            }
            report.expect("probe rejects a non-model file", problems: score == 0 ? [] : ["probe scored a random file \(score)"])
        } catch {
            noteMessage(error)
            report.pass("probe rejects a non-model file", "refused: \(error.message)")
        }
    }

    // MARK: - Models

    private func checkBadModels(_ instance: PluginInstance) {
        let garbage = ScratchFile.garbage()
        expectRefusal(instance, "model_create refuses a missing file", id: "check-missing",
                      paths: ["/nonexistent/plexus-check/missing-model.bin"], options: options)
        expectRefusal(instance, "model_create refuses a garbage file", id: "check-garbage", paths: [garbage.path], options: options)
        if let modelPath {
            expectRefusal(instance, "model_create refuses an unknown option", id: "check-option", paths: [modelPath],
                          options: options + [("plexus-check-unknown-option", "1")])
        } else {
            report.skip("model_create refuses an unknown option", "needs --model")
        }
    }

    private func expectRefusal(_ instance: PluginInstance, _ name: String, id: String, paths: [String], options: [(String, String)]) {
        do {
            let model = try LoadedModel.load(plugin: instance, id: id, paths: paths, options: options, stream: stream, kvPages: 16)
            model.unload(on: stream)
            report.fail(name, "model_create succeeded")
        } catch {
            noteMessage(error)
            let leaks = instance.services.liveObjects(inScopeNamed: "model \(id)")
            report.expect(name, problems: leaks.map { "failed model_create left \($0) live" }, detail: error.message)
        }
    }

    private func skipModelChecks() {
        for name in ["model loads", "request runs to completion", "two requests share a step", "cancel ends a request with one FINAL(CANCELLED)",
                     "model_destroy releases every allocation"] {
            report.skip(name, "needs --model")
        }
    }

    private func checkModel(_ instance: PluginInstance, modelPath: String) {
        let started = MonotonicClock.nanoseconds()
        let model: LoadedModel
        do {
            model = try LoadedModel.load(plugin: instance, id: "check", paths: [modelPath], options: options, stream: stream, kvPages: 256)
        } catch {
            noteMessage(error)
            report.fail("model loads", error.description)
            return
        }
        let seconds = Double(MonotonicClock.nanoseconds() - started) / 1e9
        let info = model.info
        report.pass("model loads", "\(KindNames.name(info.kind)) '\(info.architecture)' in \(FixedPoint.format(seconds, 2)) s")
        checkRequests(model)
        let leaks = model.unload(on: stream)
        report.expect("model_destroy releases every allocation", problems: leaks.map { "still live: \($0)" })
    }

    private func checkRequests(_ model: LoadedModel) {
        let vocab = Int32(max(model.info.vocabSize, 2))
        let prompts: [[Int32]] = [[1, 2, 3, 4, 5].map { $0 % vocab }, [7, 11, 13].map { $0 % vocab }]
        let inputs = prompts.map { RequestDriver.input(for: model.info, promptLength: $0.count, maxNewTokens: 4) }
        var driver = RequestDriver(model: model, stream: stream)
        drive("request runs to completion", &driver, [inputs[0]], [prompts[0]], cancelAfter: nil)
        drive("two requests share a step", &driver, inputs, prompts, cancelAfter: nil)
        drive("cancel ends a request with one FINAL(CANCELLED)", &driver, [inputs[0]], [prompts[0]], cancelAfter: 1)
    }

    private func drive(_ name: String, _ driver: inout RequestDriver, _ inputs: [RequestInput], _ prompts: [[Int32]], cancelAfter: Int?) {
        let outcomes: [DrivenRequest]
        do {
            outcomes = try driver.run(inputs, prompts: prompts, cancelAfter: cancelAfter, stepLimit: Self.stepLimit)
        } catch {
            noteMessage(error)
            report.fail(name, error.description)
            return
        }
        var problems: [String] = []
        for (index, outcome) in outcomes.enumerated() {
            problems += RequestExpectations.problems(outcome, request: index, cancelled: cancelAfter != nil,
                                                     kind: driver.model.info.kind, maxNewTokens: 4)
            if let error = outcome.stepError { noteMessage(error) }
        }
        report.expect(name, problems: problems, detail: outcomes.map(RequestExpectations.summary).joined(separator: "; "))
    }

    private func attempt(_ name: String, _ body: () throws(PluginError) -> Void) -> Bool {
        do {
            try body()
            return true
        } catch {
            noteMessage(error)
            report.fail(name, error.description)
            return false
        }
    }

    private func noteMessage(_ error: PluginError) {
        if !error.hadMessage { errorsWithoutMessage.append(error.call) }
    }
}
