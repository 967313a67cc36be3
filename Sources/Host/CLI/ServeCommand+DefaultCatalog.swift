import HostCore

extension ServeCommand {
    /// The default catalog (Specs/catalog.md) with every model in the cache and verified, fetching what is missing
    /// first; nil, after saying why, when a model cannot be had.
    static func fetchDefaultCatalog(environment: [String: String]) -> Catalog? {
        let cache = DefaultCatalog.cacheFolder(environment: environment)
        Output.line("plexus: no --catalog or --model: serving the default catalog (model cache: \(cache))")
        let progress = FetchProgressLine()
        let fetcher = ModelFetcher(cache: cache) { progress.show($0) }
        defer { progress.finish() }
        for download in DefaultCatalog.downloads {
            do { _ = try fetcher.ensure(download) } catch {
                progress.finish()
                Output.error("plexus: cannot get \(download.id): \(error.description)")
                return nil
            }
        }
        return DefaultCatalog.catalog(cache: cache)
    }
}
