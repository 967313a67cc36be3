import HostAPI
import HostCore
import Synchronization

/// Re-reads the catalog of a running server and applies it (SIGHUP, POST /admin/reload).
final class CatalogReloader: Sendable {
    let flags: ServeFlags
    let environment: [String: String]
    let service: GenerationService
    /// The server once it listens (keys are replaced on it).
    let server = Mutex<APIServer?>(nil)

    /// Why a reload changed nothing.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(flags: ServeFlags, environment: [String: String], service: GenerationService) {
        self.flags = flags
        self.environment = environment
        self.service = service
    }

    /// Applies the catalog file as it is now; returns what changed, by model id.
    func reload() throws(Failure) -> [String: [String]] {
        guard let path = flags.catalogPath else { throw Failure(description: "no catalog to reload") }
        let plan: ServePlan
        do {
            plan = try flags.plan(try CatalogLoader.load(path: path, environment: environment), environment: environment)
        } catch let error as CatalogError {
            Output.error("plexus: reload refused: \(error)")
            throw Failure(description: error.description)
        } catch {
            Output.error("plexus: reload refused: \(error)")
            throw Failure(description: "\(error)")
        }
        let summary = service.reload(plan.specs, done: ServeCommand.report)
        server.withLock { $0?.update(apiKeys: plan.keys) }
        Output.line("plexus: catalog reloaded: added \(summary.added), removed \(summary.removed), replaced \(summary.replaced)")
        return ["added": summary.added, "removed": summary.removed, "replaced": summary.replaced, "unchanged": summary.unchanged]
    }
}
