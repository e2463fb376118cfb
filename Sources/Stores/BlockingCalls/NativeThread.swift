import CNATSWire

#if canImport(Glibc)
    import Glibc
#endif

/// Starts detached OS threads without Foundation's `Thread` (the services need no more of
/// Foundation than `FoundationEssentials`, and Foundation brings ICU with it).
public enum NativeThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Runs `body` on a new thread named `name` (cut to the 15 bytes Linux keeps). Returns
    /// `false` if the system refused to start one.
    @discardableResult
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
        let threadName = String(decoding: name.utf8.prefix(15), as: UTF8.self)
        let box = Unmanaged.passRetained(
            Body {
                cnats_set_thread_name(threadName)
                body()
            }
        ).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { raw in
                guard let raw else { return nil }
                Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().run()
                return nil
            }, box)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            return false
        }
        pthread_detach(thread)
        return true
    }
}
