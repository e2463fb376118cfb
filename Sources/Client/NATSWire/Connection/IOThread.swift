import CNATSWire

#if canImport(Glibc)
    import Glibc
#endif

/// Starts a detached OS thread for blocking socket work, so `poll` and `read` never occupy
/// a thread of Swift's cooperative pool.
enum IOThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(NATSError) {
        let threadName = String(name.prefix(15))
        let box = Unmanaged.passRetained(
            Box {
                cnats_set_thread_name(threadName)
                body()
            }
        ).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { raw in
                guard let raw else { return nil }
                let box = Unmanaged<Box>.fromOpaque(raw).takeRetainedValue()
                box.body()
                return nil
            }, box)
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw NATSError(.connectionFailed, "cannot start I/O thread: \(errnoText(result))")
        }
        pthread_detach(thread)
    }

    /// An identifier of the calling thread.
    static var current: UInt { UInt(pthread_self()) }
}
