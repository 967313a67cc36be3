/// The free KV pages of one model's arena. Pages are handed out one at a time and come back when a sequence ends
/// or is preempted; the scheduler plans with `free` so the pool is never asked for more than it has.
struct KVPagePool {
    let capacity: Int
    private var freeList: [UInt32]

    init(pages: UInt32) {
        capacity = Int(pages)
        freeList = (0..<pages).reversed()
    }

    var free: Int { freeList.count }
    var used: Int { capacity - freeList.count }

    /// Grows `pages` to `count` pages.
    mutating func grow(_ pages: inout [UInt32], to count: Int) {
        precondition(count - pages.count <= freeList.count, "scheduler planned more KV pages than are free")
        while pages.count < count { pages.append(freeList.removeLast()) }
    }

    /// Takes every page of `pages` back.
    mutating func release(_ pages: inout [UInt32]) {
        freeList += pages.reversed()
        pages.removeAll()
    }
}
