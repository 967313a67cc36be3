import Glibc
import PluginABI
import Testing
@testable import HostCore

/// Weight evict/restore over CPU lanes (the same code moves device <-> pinned memory on a GPU).
@Suite struct TierMoverTests {
    private let device = CPUDevice(threads: 2)

    private func weights(_ memory: HostMemory, count: Int, bytes: Int) throws -> [HostBuffer] {
        let scope = HostScope(name: "weights")
        return try (0..<count).map { index in
            let buffer = try memory.allocate(scope: scope, label: "layer \(index)", memory: UInt32(PX_MEMORY_DEVICE),
                                             residency: UInt32(PX_RESIDENCY_WEIGHTS), bytes: UInt64(bytes), alignment: 64)
            let bytes = buffer.hostAddress!.assumingMemoryBound(to: UInt8.self)
            for offset in 0..<Int(buffer.bytes) { bytes[offset] = UInt8(truncatingIfNeeded: offset &* 31 &+ index) }
            return buffer
        }
    }

    private func intact(_ buffers: [HostBuffer]) -> Bool {
        buffers.enumerated().allSatisfy { index, buffer in
            let bytes = buffer.hostAddress!.assumingMemoryBound(to: UInt8.self)
            return (0..<Int(buffer.bytes)).allSatisfy { bytes[$0] == UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
        }
    }

    @Test func evictAndRestoreKeepEveryByteAndMoveTheAddresses() throws {
        let memory = HostMemory()
        let buffers = try weights(memory, count: 5, bytes: 100_003)  // odd size: the last chunk is short
        let before = buffers.map { UInt(bitPattern: $0.hostAddress!) }
        let mover = TierMover(memory: memory, streams: [device.makeStream(label: "x"), device.makeStream(label: "y")], chunkBytes: 4096)
        let evicted = try mover.evict(buffers)
        #expect(evicted.buffers == 5 && evicted.bytes == 500_015)
        #expect(buffers.allSatisfy { $0.isParked })
        #expect(intact(buffers))
        let restored = try mover.restore(buffers)
        #expect(restored.buffers == 5)
        #expect(buffers.allSatisfy { !$0.isParked })
        #expect(intact(buffers))
        #expect(zip(before, buffers).contains { $0 != UInt(bitPattern: $1.hostAddress!) })
    }

    @Test func evictingTwiceMovesNothingTheSecondTime() throws {
        let memory = HostMemory()
        let buffers = try weights(memory, count: 2, bytes: 8192)
        let mover = TierMover(memory: memory, streams: [device.makeStream(label: "x"), device.makeStream(label: "y")])
        _ = try mover.evict(buffers)
        #expect(try mover.evict(buffers).buffers == 0)
        #expect(try mover.restore(buffers).buffers == 2)
        #expect(try mover.restore(buffers).buffers == 0)
    }

    @Test func aRestoredLayerIsUsableBeforeTheLaterOnesArrive() throws {
        let memory = HostMemory()
        let buffers = try weights(memory, count: 3, bytes: 65_536)
        let slow = device.makeStream(label: "slow"), fast = device.makeStream(label: "fast")
        let mover = TierMover(memory: memory, streams: [fast, slow], chunkBytes: 65_536)
        _ = try mover.evict(buffers)
        let gate = Gate()
        slow.enqueue { gate.wait() }            // holds back every chunk dealt to the slow stream
        let inFlight = try mover.beginRestore(buffers)
        // Layer 0 went to the fast stream (round-robin from the start): it settles while layer 1 is held back.
        #expect(!buffers[0].isParked)
        #expect(intact([buffers[0]]))
        gate.open()
        let report = inFlight.finish()
        #expect(report.buffers == 3)
        #expect(intact(buffers))
    }

    @Test func accountingReturnsToWhereItStarted() throws {
        let memory = HostMemory()
        let buffers = try weights(memory, count: 4, bytes: 10_000)
        let device = memory.bytesInUse(memory: UInt32(PX_MEMORY_DEVICE))
        let mover = TierMover(memory: memory, streams: [self.device.makeStream(label: "x"), self.device.makeStream(label: "y")])
        _ = try mover.evict(buffers)
        _ = try mover.restore(buffers)
        memory.dropCache()
        #expect(memory.bytesInUse(memory: UInt32(PX_MEMORY_DEVICE)) == device)
        #expect(memory.bytesInUse(memory: UInt32(PX_MEMORY_PINNED_HOST)) == 0)
    }
}

/// A loaded model's weights go through the tiers and the model keeps serving afterwards.
@Suite struct ModelEvictionTests {
    @Test func aModelServesAfterItsWeightsWereEvictedAndRestored() throws {
        let devices = DeviceSet.discover(environment: ["PLEXUS_DEVICES": "cpu"], cpuThreads: 2)
        let loader = PluginLoader(memory: HostMemory(), cpu: devices.cpu) { _ in }
        let plugin = try loader.load(path: Fixtures.plugin("evict-model"))
        let streams = StreamPool.cpu(devices.cpu)
        let model = try LoadedModel.load(plugin: plugin, id: "evicted", paths: [Fixtures.modelFile], options: [],
                                         stream: streams.next(.batch), kvPages: 32)
        #expect(model.weightBuffers().count == 1)
        let evicted = try model.evictWeights(over: streams.streams(.transfer))
        #expect(evicted.buffers == 1 && model.isEvicted)
        let restoring = try model.beginRestoringWeights(over: streams.streams(.transfer))
        var driver = RequestDriver(model: model, stream: streams.next(.interactive))
        let input = RequestInput.tokens(kind: 1, LLMRequestInput(promptTokenCount: 3, maxNewTokens: 2))
        let outcome = try driver.run([input], prompts: [[1, 2, 3]], stepLimit: 8)
        #expect(outcome[0].tokens.count == 2)
        #expect(restoring.finish().buffers == 1)
        #expect(!model.isEvicted)
        #expect(model.unload(on: streams.next(.batch)).isEmpty)
        _ = plugin.deinitialize()
    }
}
