import PluginABI
import Testing
@testable import HostCore

/// Host memory tiers: budget, alignment, and bounds of file mappings.
@Suite struct HostMemoryTests {
    private let scope = HostScope(name: "test")

    @Test func allocatesAlignedAndAccountsBytes() throws {
        let memory = HostMemory(budgetBytes: 1 << 20)
        let buffer = try memory.allocate(scope: scope, label: "a", memory: UInt32(PX_MEMORY_HOST),
                                         residency: UInt32(PX_RESIDENCY_ACTIVATIONS), bytes: 1000, alignment: 4096)
        #expect(UInt(bitPattern: buffer.hostAddress!) % 4096 == 0)
        #expect(memory.bytesInUse(memory: UInt32(PX_MEMORY_HOST)) == 1000)
        memory.account(released: buffer)
        #expect(memory.bytesInUse(memory: UInt32(PX_MEMORY_HOST)) == 0)
    }

    @Test func refusesToExceedTheBudget() throws {
        let memory = HostMemory(budgetBytes: 4096)
        let first = try memory.allocate(scope: scope, label: "a", memory: UInt32(PX_MEMORY_PINNED_HOST),
                                        residency: UInt32(PX_RESIDENCY_KV), bytes: 4000, alignment: 0)
        #expect(throws: ServiceFailure.self) {
            try memory.allocate(scope: scope, label: "b", memory: UInt32(PX_MEMORY_HOST),
                                residency: UInt32(PX_RESIDENCY_KV), bytes: 200, alignment: 0)
        }
        memory.account(released: first)
    }

    @Test func refusesBadAlignmentAndFileKind() {
        let memory = HostMemory(budgetBytes: 1 << 20)
        #expect(throws: ServiceFailure.self) {
            try memory.allocate(scope: scope, label: "a", memory: UInt32(PX_MEMORY_HOST), residency: 0, bytes: 8, alignment: 48)
        }
        #expect(throws: ServiceFailure.self) {
            try memory.allocate(scope: scope, label: "a", memory: UInt32(PX_MEMORY_FILE), residency: 0, bytes: 8, alignment: 0)
        }
    }

    @Test func mapsFileRangesAndRefusesOutOfBounds() throws {
        let path = Fixtures.file("mapped.bin", contents: "0123456789abcdef")
        let memory = HostMemory()
        let mapped = try memory.mapFile(scope: scope, path: path, offset: 10, bytes: 0)
        #expect(mapped.bytes == 6)
        #expect(String(decoding: UnsafeRawBufferPointer(start: mapped.hostAddress, count: 6), as: UTF8.self) == "abcdef")
        #expect(throws: ServiceFailure.self) { try memory.mapFile(scope: scope, path: path, offset: 10, bytes: 7) }
        #expect(throws: ServiceFailure.self) { try memory.mapFile(scope: scope, path: path, offset: 17, bytes: 0) }
        #expect(throws: ServiceFailure.self) { try memory.mapFile(scope: scope, path: path + ".missing", offset: 0, bytes: 0) }
    }
}
