import Synchronization

/// Maps the opaque handles the host gives plugins (px_buffer*, px_sink*, ...) back to their Swift owners.
///
/// Every handle a plugin passes in is looked up here before use, so a stale, freed or forged handle becomes a
/// clear PX_ERR_INVALID_ARGUMENT instead of a wild pointer dereference.
final class HandleRegistry<Object: AnyObject & Sendable>: Sendable {
    private let objects = Mutex<[UInt: Object]>([:])

    /// Registers `object` and returns its handle (the object's address; the registry keeps it alive).
    func insert(_ object: Object) -> OpaquePointer {
        let address = Unmanaged.passUnretained(object).toOpaque()
        objects.withLock { $0[UInt(bitPattern: address)] = object }
        return OpaquePointer(address)
    }

    /// The live object behind `handle`, or nil for NULL, unknown or already removed handles.
    func lookup(_ handle: OpaquePointer?) -> Object? {
        guard let handle else { return nil }
        return objects.withLock { $0[UInt(bitPattern: UnsafeRawPointer(handle))] }
    }

    /// Removes and returns the object behind `handle`; nil if it was not live.
    func remove(_ handle: OpaquePointer?) -> Object? {
        guard let handle else { return nil }
        return objects.withLock { $0.removeValue(forKey: UInt(bitPattern: UnsafeRawPointer(handle))) }
    }

    /// Objects matching a predicate (for leak reports).
    func filter(_ isIncluded: (Object) -> Bool) -> [Object] {
        objects.withLock { Array($0.values.filter(isIncluded)) }
    }
}
