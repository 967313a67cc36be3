import Glibc
import HostShim
import PluginABI

/// Builds the px_host function table. Each entry converts C arguments to Swift once, looks every handle up in
/// its registry, and turns a `ServiceFailure` into a status plus the thread's error message (so a plugin that
/// passes a failed service's status straight back still reports the host's message).
enum HostTable {
    // SAFETY: immutable C strings created once and never freed.
    nonisolated(unsafe) static let hostName: UnsafeMutablePointer<CChar> = strdup("plexus")!
    nonisolated(unsafe) static let hostVersion: UnsafeMutablePointer<CChar> = strdup(PlexusVersion.string)!

    static func make() -> px_host {
        var host = px_host()
        host.header = px_header(size: UInt32(MemoryLayout<px_host>.size), version: 1)
        host.abi_major = UInt32(PX_ABI_MAJOR)
        host.abi_minor = UInt32(PX_ABI_MINOR)
        host.name = UnsafePointer(hostName)
        host.version = UnsafePointer(hostVersion)
        installDiagnostics(&host)
        installMemory(&host)
        installStreams(&host)
        installKernels(&host)
        installSinks(&host)
        installGraphs(&host)
        return host
    }

    /// Runs one service body for the table `host`, converting its failure.
    static func serve(_ host: UnsafePointer<px_host>?, _ body: (HostServices) throws(ServiceFailure) -> Void) -> px_status {
        guard let services = HostServices.from(host) else { return px_status(PX_ERR_INVALID_ARGUMENT) }
        do {
            try body(services)
            return px_status(PX_OK)
        } catch {
            px_shim_set_error(host, error.message)
            return px_status(error.status)
        }
    }

    /// Stores a handle into an out-parameter, refusing NULL.
    static func store(_ handle: OpaquePointer, into out: UnsafeMutablePointer<OpaquePointer?>?, _ call: String) throws(ServiceFailure) {
        guard let out else { throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "\(call): NULL out-parameter") }
        out.pointee = handle
    }

    // MARK: - Errors and logging

    private static func installDiagnostics(_ host: inout px_host) {
        host.set_error = { host, message in px_shim_set_error(host, message) }
        host.log = { host, scope, level, message in
            guard let services = HostServices.from(host) else { return }
            let text = message.map { String(cString: $0) } ?? ""
            services.log(level: min(level, UInt32(PX_LOG_DEBUG)), scope: services.scopes.lookup(scope), message: text)
        }
        host.get_extension = { _, _ in nil }
    }

    // MARK: - Memory

    private static func installMemory(_ host: inout px_host) {
        host.mem_alloc = { host, scope, desc, out in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let scope = try services.scope(scope, "mem_alloc")
                guard let desc, desc.pointee.header.size >= UInt32(MemoryLayout<px_alloc_desc>.size) else {
                    throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "mem_alloc: px_alloc_desc is NULL or smaller than ABI 1.0's")
                }
                let d = desc.pointee
                let label = d.label.map { String(cString: $0) } ?? "unnamed"
                guard d.bytes > 0 else { throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "mem_alloc '\(label)': 0 bytes") }
                guard d.residency <= UInt32(PX_RESIDENCY_STAGING) else {
                    throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "mem_alloc '\(label)': unknown residency \(d.residency)")
                }
                if d.residency == UInt32(PX_RESIDENCY_WEIGHTS), let admit = scope.admitWeights { try admit(d.bytes, label) }
                let buffer = try services.memory.allocate(scope: scope, label: label, memory: d.memory, residency: d.residency,
                                                          bytes: d.bytes, alignment: d.alignment)
                scope.retain(buffer, as: buffer.summary)
                try HostTable.store(services.buffers.insert(buffer), into: out, "mem_alloc")
            }
        }
        host.mem_map_file = { host, scope, path, offset, bytes, out in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let scope = try services.scope(scope, "mem_map_file")
                guard let path else { throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "mem_map_file: NULL path") }
                let buffer = try services.memory.mapFile(scope: scope, path: String(cString: path), offset: offset, bytes: bytes)
                scope.retain(buffer, as: buffer.summary)
                try HostTable.store(services.buffers.insert(buffer), into: out, "mem_map_file")
            }
        }
        host.mem_free = { host, handle in
            guard let services = HostServices.from(host), let handle else { return }
            guard let buffer = services.buffers.remove(handle) else {
                services.recordViolation("mem_free of a buffer handle that is unknown or already freed")
                return
            }
            buffer.scope.release(buffer)
            services.memory.account(released: buffer)
        }
        host.mem_address = { host, handle, out in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let buffer = try services.buffer(handle, "mem_address")
                guard let out, out.pointee.header.size >= UInt32(MemoryLayout<px_buffer_view>.size) else {
                    throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "mem_address: px_buffer_view is NULL or its header.size is too small")
                }
                out.pointee.host = buffer.hostAddress
                out.pointee.device = buffer.deviceAddress ?? 0
                out.pointee.bytes = buffer.bytes
                out.pointee.memory = buffer.memory
            }
        }
        host.mem_write = { host, stream, dst, offset, src, bytes in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let stream = try services.idleStream(stream, "mem_write")
                let buffer = try services.writableRange(dst, offset: offset, bytes: bytes, "mem_write")
                guard let src else { throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "mem_write: NULL source") }
                try stream.write(buffer, offset: offset, from: src, bytes: bytes)
            }
        }
        host.mem_read = { host, stream, dst, src, offset, bytes in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let stream = try services.idleStream(stream, "mem_read")
                let buffer = try services.range(src, offset: offset, bytes: bytes, "mem_read")
                guard let dst else { throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "mem_read: NULL destination") }
                try stream.read(into: dst, from: buffer, offset: offset, bytes: bytes)
            }
        }
        host.mem_copy = { host, stream, dst, dstOffset, src, srcOffset, bytes in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let stream = try services.idleStream(stream, "mem_copy")
                let target = try services.writableRange(dst, offset: dstOffset, bytes: bytes, "mem_copy")
                let source = try services.range(src, offset: srcOffset, bytes: bytes, "mem_copy")
                try stream.copy(to: target, at: dstOffset, from: source, at: srcOffset, bytes: bytes)
            }
        }
    }

    // MARK: - Streams, events, CPU parallelism

    private static func installStreams(_ host: inout px_host) {
        host.stream_info = { host, stream, out in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let stream = try services.stream(stream, "stream_info")
                guard let out, out.pointee.header.size >= UInt32(MemoryLayout<px_stream_info>.size) else {
                    throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "stream_info: px_stream_info is NULL or its header.size is too small")
                }
                out.pointee.device = stream.deviceKind
                out.pointee.device_index = stream.deviceIndex
                out.pointee.cpu_workers = UInt32(stream.pool.count)
                out.pointee.priority = stream.priority
                out.pointee.native = stream.nativeHandle
                out.pointee.arch = stream.architecture
            }
        }
        host.stream_synchronize = { host, stream in
            HostTable.serve(host) { services throws(ServiceFailure) in try services.idleStream(stream, "stream_synchronize").synchronizeAll() }
        }
        host.event_create = { host, scope, out in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let scope = try services.scope(scope, "event_create")
                let event = HostEvent(scope: scope)
                scope.retain(event, as: "event")
                try HostTable.store(services.events.insert(event), into: out, "event_create")
            }
        }
        host.event_record = { host, event, stream in
            HostTable.serve(host) { services throws(ServiceFailure) in
                try services.idleStream(stream, "event_record").record(try services.event(event, "event_record"))
            }
        }
        host.event_wait = { host, stream, event in
            HostTable.serve(host) { services throws(ServiceFailure) in
                try services.idleStream(stream, "event_wait").wait(for: try services.event(event, "event_wait"))
            }
        }
        host.event_elapsed_ms = { host, start, end, out in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let elapsed = try HostEvent.elapsed(from: try services.event(start, "event_elapsed_ms"),
                                                    to: try services.event(end, "event_elapsed_ms"))
                guard let out else { throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "event_elapsed_ms: NULL out-parameter") }
                out.pointee = elapsed
            }
        }
        host.event_destroy = { host, handle in
            guard let services = HostServices.from(host), let handle else { return }
            guard let event = services.events.remove(handle) else {
                services.recordViolation("event_destroy of an event handle that is unknown or already destroyed")
                return
            }
            event.scope.release(event)
        }
        host.parallel_for = { host, stream, n, fn, context in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let stream = try services.idleStream(stream, "parallel_for")
                guard let fn else { throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "parallel_for: NULL task function") }
                stream.pool.parallelFor(Int(n)) { index, worker in
                    px_shim_run_task(fn, context, UInt32(index), UInt32(worker))
                }
            }
        }
    }

    // MARK: - Device code

    private static func installKernels(_ host: inout px_host) {
        host.module_compile = { host, scope, stream, source, out in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let scope = try services.scope(scope, "module_compile")
                let stream = try services.idleStream(stream, "module_compile")
                guard let source, source.pointee.header.size >= UInt32(MemoryLayout<px_kernel_source>.size),
                      let text = source.pointee.source else {
                    throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "module_compile: px_kernel_source is NULL, too small, or has no source")
                }
                let c = source.pointee
                let options = (0..<Int(c.n_options)).compactMap { index in c.options?[index].map { String(cString: $0) } }
                let name = c.name.map { String(cString: $0) } ?? "kernel.cu"
                let module = try stream.compile(KernelSourceText(name: name, source: String(cString: text), options: options))
                scope.retain(module, as: "module '\(name)'")
                services.moduleScopes.withLock { $0[ObjectIdentifier(module)] = scope }
                try HostTable.store(services.modules.insert(module), into: out, "module_compile")
            }
        }
        host.module_function = { host, module, name, out in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let module = try services.module(module, "module_function")
                guard let name else { throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "module_function: NULL name") }
                let kernel = String(cString: name)
                do throws(CUDAError) {
                    let function = try module.function(named: kernel)
                    guard let out else { throw CUDAError(call: "module_function", code: -1, message: "NULL out-parameter") }
                    out.pointee = services.functions.insert(function)
                } catch {
                    throw ServiceFailure(PX_ERR_NOT_FOUND, "module_function: \(error.description)")
                }
            }
        }
        host.module_free = { host, handle in
            guard let services = HostServices.from(host), let handle else { return }
            guard let module = services.modules.remove(handle) else {
                services.recordViolation("module_free of a module handle that is unknown or already freed")
                return
            }
            for function in services.functions.filter({ $0.module === module }) {
                _ = services.functions.remove(OpaquePointer(Unmanaged.passUnretained(function).toOpaque()))
            }
            services.moduleScopes.withLock { $0.removeValue(forKey: ObjectIdentifier(module)) }?.release(module)
        }
        host.launch = { host, stream, function, config, args in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let stream = try services.stream(stream, "launch")
                let function = try services.function(function, "launch")
                guard let config, config.pointee.header.size >= UInt32(MemoryLayout<px_launch>.size) else {
                    throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "launch: px_launch is NULL or too small")
                }
                try stream.launch(function, config: config.pointee, arguments: args)
            }
        }
    }

    // MARK: - Sinks

    private static func installSinks(_ host: inout px_host) {
        host.is_cancelled = { host, handle in
            guard let services = HostServices.from(host) else { return 1 }
            guard let sink = services.sinks.lookup(handle) else {
                services.recordViolation("is_cancelled on a sink handle that is unknown or already ended")
                return 1
            }
            return sink.isCancelled ? 1 : 0
        }
        host.emit_tokens = { host, handle, out in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let sink = try services.sink(handle, "emit_tokens")
                try services.deliver(.tokens(try OutputDecoding.tokens(out, vocabSize: sink.vocabSize)), to: sink)
            }
        }
        host.emit_tensor = { host, handle, out in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let sink = try services.sink(handle, "emit_tensor")
                try services.deliver(.tensor(try OutputDecoding.tensor(out)), to: sink)
            }
        }
        host.emit_progress = { host, handle, done, total in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let sink = try services.sink(handle, "emit_progress")
                guard done <= total else {
                    throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "emit_progress: done \(done) exceeds total \(total)")
                }
                sink.setProgress(done: done, total: total)
            }
        }
        host.emit_final = { host, handle, final in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let sink = try services.sink(handle, "emit_final")
                try services.deliver(.final(try OutputDecoding.final(final)), to: sink)
            }
        }
    }

    // MARK: - Graphs (ABI 1.1)

    private static func installGraphs(_ host: inout px_host) {
        host.graph_begin = { host, stream in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let stream = try services.stream(stream, "graph_begin")
                try stream.requireGraphs("graph_begin")
                try services.idleStream(stream, "graph_begin").beginRecording()
            }
        }
        host.graph_end = { host, scope, stream, out in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let stream = try services.stream(stream, "graph_end")
                try stream.requireGraphs("graph_end")
                guard let scope = services.scopes.lookup(scope), let out else {
                    // Still end the recording: a failed graph_end leaves the stream usable.
                    _ = stream.discardRecording()
                    _ = try services.scope(scope, "graph_end")
                    throw ServiceFailure(PX_ERR_INVALID_ARGUMENT, "graph_end: NULL out-parameter; the recording was discarded")
                }
                let graph = try stream.endRecording(scope: scope)
                scope.retain(graph, as: "graph")
                out.pointee = services.graphs.insert(graph)
            }
        }
        host.graph_launch = { host, graph, stream in
            HostTable.serve(host) { services throws(ServiceFailure) in
                let stream = try services.stream(stream, "graph_launch")
                try stream.requireGraphs("graph_launch")
                let graph = try services.graph(graph, "graph_launch")
                try services.idleStream(stream, "graph_launch").launch(graph)
            }
        }
        host.graph_free = { host, handle in
            guard let services = HostServices.from(host), let handle else { return }
            guard let graph = services.graphs.remove(handle) else {
                services.recordViolation("graph_free of a graph handle that is unknown or already freed")
                return
            }
            graph.scope.release(graph)
        }
    }
}
