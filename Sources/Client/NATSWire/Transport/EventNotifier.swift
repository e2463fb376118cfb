import CNATSWire

#if canImport(Glibc)
    import Glibc
#endif

/// Wakes the I/O thread out of `poll` from any thread: an `eventfd` that becomes readable
/// when signalled. Signals coalesce, so waking an already-awake thread costs one syscall.
final class EventNotifier: Sendable {
    let fileDescriptor: Int32

    init() throws(NATSError) {
        let fd = cnats_eventfd()
        guard fd >= 0 else { throw NATSError(.connectionFailed, "eventfd: \(errnoText())") }
        fileDescriptor = fd
    }

    deinit { _ = close(fileDescriptor) }

    func signal() {
        var one: UInt64 = 1
        _ = write(fileDescriptor, &one, 8)
    }

    /// Resets the notifier after a wake-up.
    func drain() {
        var value: UInt64 = 0
        _ = read(fileDescriptor, &value, 8)
    }
}
