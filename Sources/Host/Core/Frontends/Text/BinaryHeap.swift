/// An element of a `BinaryHeap`: `precedes` is a strict order, the first element is popped first.
protocol HeapElement {
    static func precedes(_ a: Self, _ b: Self) -> Bool
}

/// A binary heap: the work queue of the BPE merges. With a strict total order, the pop order does not depend on
/// the heap's layout, so the merges are the same as std::priority_queue's in llama.cpp.
struct BinaryHeap<Element: HeapElement> {
    private var storage: [Element] = []

    var isEmpty: Bool { storage.isEmpty }

    mutating func push(_ element: Element) {
        storage.append(element)
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Element.precedes(storage[child], storage[parent]) else { break }
            storage.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !storage.isEmpty else { return nil }
        storage.swapAt(0, storage.count - 1)
        let top = storage.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < storage.count else { break }
            var best = left
            if left + 1 < storage.count && Element.precedes(storage[left + 1], storage[left]) { best = left + 1 }
            guard Element.precedes(storage[best], storage[parent]) else { break }
            storage.swapAt(best, parent)
            parent = best
        }
        return top
    }

    mutating func removeAll() { storage.removeAll(keepingCapacity: true) }
}
