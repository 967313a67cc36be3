import Glibc

/// A whole file mapped read-only into memory (or, for tests, a private copy of some bytes).
///
/// The one owner of the mapping: readers borrow its bytes through `withBytes` and keep the mapping alive by
/// holding this object; `deinit` unmaps it.
final class FileMapping: @unchecked Sendable {
    /// Why opening or mapping a file failed.
    struct Failure: Error {
        let message: String
    }

    /// How the bytes were obtained, and so how they are returned.
    private enum Backing {
        case mapped
        case heap
        case empty
    }

    // SAFETY: `base` points at `count` read-only bytes owned by this object until deinit; nothing writes them,
    // so sharing them across threads is safe. Pointers derived from it never escape `withBytes`.
    private let base: UnsafeRawPointer?
    private let backing: Backing
    /// Length in bytes.
    let count: Int

    /// Maps the regular file at `path` read-only.
    init(path: String) throws(Failure) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(message: "cannot open '\(path)': \(Self.lastError())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(message: "cannot stat '\(path)': \(Self.lastError())") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw Failure(message: "'\(path)' is not a regular file") }
        count = Int(info.st_size)
        guard count > 0 else {
            base = nil
            backing = .empty
            return
        }
        guard let address = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
            throw Failure(message: "cannot map '\(path)': \(Self.lastError())")
        }
        base = UnsafeRawPointer(address)
        backing = .mapped
    }

    /// A private copy of `bytes` (tests and in-memory files).
    init(bytes: [UInt8]) {
        count = bytes.count
        guard !bytes.isEmpty else {
            base = nil
            backing = .empty
            return
        }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 16)
        bytes.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        base = UnsafeRawPointer(copy)
        backing = .heap
    }

    deinit {
        guard let base else { return }
        switch backing {
        case .mapped: munmap(UnsafeMutableRawPointer(mutating: base), count)
        case .heap: base.deallocate()
        case .empty: break
        }
    }

    /// Calls `body` with the mapped bytes; the buffer must not escape the call.
    func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
