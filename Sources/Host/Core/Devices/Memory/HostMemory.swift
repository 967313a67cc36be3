import Glibc
import PluginABI
import Synchronization

/// A failure of a host service, reported to the plugin as a status plus a message (the host->plugin direction of
/// the boundary; `HostServices` converts it once).
struct ServiceFailure: Error {
    let status: Int
    let message: String
    init(_ status: Int, _ message: String) { self.status = status; self.message = message }
}

/// The host memory tiers a plugin can allocate from on any machine: pageable host, pinned host and read-only
/// file mappings. Device memory belongs to the CUDA device. Keeps per-kind byte counts and enforces a budget.
public final class HostMemory: Sendable {
    /// Bytes in use per memory kind (PX_MEMORY_*).
    private let inUse = Mutex<[UInt32: UInt64]>([:])
    /// Most bytes of host and pinned host memory handed out at once.
    public let budgetBytes: UInt64
    /// The GPU that pins host memory (page-locked, portable), when the host has one.
    public let pinningDevice: CUDADevice?
    /// Placements the memory tiers moved away from, kept for reuse.
    let cache: PlacementCache

    /// Creates the pools with a budget (default: the machine's physical memory).
    public init(budgetBytes: UInt64? = nil, pinningDevice: CUDADevice? = nil) {
        self.pinningDevice = pinningDevice
        self.cache = PlacementCache(capacityBytes: 4 << 30)
        let pages = UInt64(max(0, sysconf(Int32(_SC_PHYS_PAGES))))
        let pageSize = UInt64(max(1, sysconf(Int32(_SC_PAGESIZE))))
        self.budgetBytes = budgetBytes ?? pages * pageSize
    }

    /// Bytes currently allocated of one memory kind.
    public func bytesInUse(memory: UInt32) -> UInt64 { inUse.withLock { $0[memory] ?? 0 } }

    /// Allocates `bytes` for `scope`: device memory on the scope's GPU, page-locked memory when the host has a GPU,
    /// else host memory (pinned memory is ordinary host memory without CUDA, and device memory of a scope whose
    /// device is the CPU is host memory).
    func allocate(scope: HostScope, label: String, memory: UInt32, residency: UInt32, bytes: UInt64,
                  alignment: UInt32) throws(ServiceFailure) -> HostBuffer {
        guard memory <= UInt32(PX_MEMORY_DEVICE) else {
            throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "memory kind \(MemoryNames.memory(memory)) cannot be allocated (files are mapped with mem_map_file)")
        }
        let placement = try place(bytes: bytes, memory: memory, device: scope.device, alignment: alignment, label: label)
        return HostBuffer(scope: scope, label: label, memory: memory, residency: residency, bytes: bytes,
                          base: placement.base, backing: placement.backing)
    }

    /// Obtains `bytes` of one memory kind and counts them; the memory tiers use it to move buffers.
    func place(bytes: UInt64, memory: UInt32, device: CUDADevice?, alignment: UInt32,
               label: String) throws(ServiceFailure) -> HostBuffer.Placement {
        guard bytes > 0, bytes <= UInt64(Int.max) else {
            throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "'\(label)': \(bytes) bytes cannot be allocated")
        }
        if memory == UInt32(PX_MEMORY_DEVICE), let device {
            do {
                let address = try device.allocate(bytes: bytes)
                inUse.withLock { $0[memory, default: 0] += bytes }
                return HostBuffer.Placement(base: nil, backing: .device(device, address: address))
            } catch {
                throw ServiceFailure(PX_ERR_OUT_OF_MEMORY, "device memory for '\(label)': \(error.description)")
            }
        }
        try reserve(bytes, memory: memory)
        if memory == UInt32(PX_MEMORY_PINNED_HOST), let pinner = pinningDevice {
            do {
                return HostBuffer.Placement(base: try pinner.allocatePinned(bytes: bytes), backing: .pinned(pinner))
            } catch {
                unreserve(bytes, memory: memory)
                throw ServiceFailure(PX_ERR_OUT_OF_MEMORY, "pinned host memory for '\(label)': \(error.description)")
            }
        }
        let align = alignment == 0 ? 256 : Int(alignment)
        guard align & (align - 1) == 0, align <= 1 << 21 else {
            unreserve(bytes, memory: memory)
            throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "alignment \(alignment) is not a power of two up to 2 MiB")
        }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, max(align, MemoryLayout<UnsafeRawPointer>.size), Int(bytes)) == 0, let base = raw else {
            unreserve(bytes, memory: memory)
            throw ServiceFailure(PX_ERR_OUT_OF_MEMORY, "out of host memory allocating \(bytes) bytes for '\(label)'")
        }
        return HostBuffer.Placement(base: base, backing: .heap)
    }

    /// A placement for a tier move: a recycled one of the same kind and size if the cache has it, else a new one.
    func reusePlacement(bytes: UInt64, memory: UInt32, device: CUDADevice?, label: String) throws(ServiceFailure) -> HostBuffer.Placement {
        if let cached = cache.take(memory: memory, bytes: bytes, device: device) { return cached }
        return try place(bytes: bytes, memory: memory, device: device, alignment: 4096, label: label)
    }

    /// Takes back the placement a buffer moved away from: cached for the next move while the cache has room
    /// (allocating pinned or device memory, or faulting in fresh pages, costs more than the copy, and cuMemFree
    /// synchronizes the device), else released and uncounted.
    func recycle(_ placement: HostBuffer.Placement, bytes: UInt64, memory: UInt32, onDevice: Bool, device: CUDADevice?) {
        if cache.keep(placement, memory: memory, bytes: bytes, device: device) { return }
        placement.release()
        account(releasedBytes: bytes, memory: memory, onDevice: onDevice)
    }

    /// Releases every cached placement (e.g. under memory pressure).
    public func dropCache() {
        for (placement, memory, bytes, onDevice) in cache.drain() {
            placement.release()
            account(releasedBytes: bytes, memory: memory, onDevice: onDevice)
        }
    }

    /// Returns the bytes of a placement that moved away (its buffer was evicted or restored) to the accounting.
    func account(releasedBytes bytes: UInt64, memory: UInt32, onDevice: Bool) {
        if onDevice {
            inUse.withLock { $0[memory, default: 0] -= min(bytes, $0[memory, default: 0]) }
        } else {
            unreserve(bytes, memory: memory)
        }
    }

    /// Maps `bytes` of the file at `path` from `offset` read-only (0 bytes = to the end of the file).
    func mapFile(scope: HostScope, path: String, offset: UInt64, bytes: UInt64) throws(ServiceFailure) -> HostBuffer {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ServiceFailure(PX_ERR_NOT_FOUND, "cannot open '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw ServiceFailure(PX_ERR_IO, "'\(path)' is not a regular file")
        }
        let fileSize = UInt64(info.st_size)
        let length = bytes == 0 ? fileSize &- offset : bytes
        guard offset <= fileSize, length > 0, length <= fileSize - offset else {
            throw ServiceFailure(PX_ERR_INVALID_ARGUMENT,
                                 "range [\(offset), +\(length)) lies outside '\(path)' (\(fileSize) bytes)")
        }
        let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / pageSize * pageSize
        let mapLength = Int(length + (offset - start))
        guard let base = mmap(nil, mapLength, PROT_READ, MAP_PRIVATE, fd, off_t(start)), base != MAP_FAILED else {
            throw ServiceFailure(PX_ERR_IO, "mmap of '\(path)' failed: \(String(cString: strerror(errno)))")
        }
        inUse.withLock { $0[UInt32(PX_MEMORY_FILE), default: 0] += length }
        return HostBuffer(scope: scope, label: path, memory: UInt32(PX_MEMORY_FILE), residency: UInt32(PX_RESIDENCY_WEIGHTS),
                          bytes: length, base: base, backing: .mapping(length: mapLength), dataOffset: Int(offset - start))
    }

    /// Returns a buffer's bytes to the accounting (the buffer frees its memory when it is released).
    func account(released buffer: HostBuffer) {
        let (memory, onDevice) = buffer.isParked ? (UInt32(PX_MEMORY_PINNED_HOST), false) : (buffer.memory, buffer.deviceAddress != nil)
        account(releasedBytes: buffer.bytes, memory: memory, onDevice: onDevice)
    }

    private func reserve(_ bytes: UInt64, memory: UInt32) throws(ServiceFailure) {
        let budget = budgetBytes
        let granted = inUse.withLock { usage -> Bool in
            let hostBytes = (usage[UInt32(PX_MEMORY_HOST)] ?? 0) + (usage[UInt32(PX_MEMORY_PINNED_HOST)] ?? 0)
                + (usage[UInt32(PX_MEMORY_DEVICE)] ?? 0)
            guard bytes <= budget, hostBytes <= budget - bytes else { return false }
            usage[memory, default: 0] += bytes
            return true
        }
        if !granted && !cache.isEmpty {
            dropCache()
            return try reserve(bytes, memory: memory)
        }
        guard granted else {
            throw ServiceFailure(PX_ERR_OUT_OF_MEMORY, "host memory budget of \(budget) bytes would be exceeded by \(bytes) more")
        }
    }

    private func unreserve(_ bytes: UInt64, memory: UInt32) {
        inUse.withLock { $0[memory, default: 0] -= min(bytes, $0[memory, default: 0]) }
    }
}
