#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Blocking waits on a transport's socket, for the handshake (which runs before the I/O
/// loop takes over).
enum TransportWait {
    static func readable(_ transport: any Transport, deadline: Deadline) throws(NATSError) -> Bool {
        if transport.hasBufferedInput { return true }
        return try wait(transport.fileDescriptor, events: Int16(POLLIN), deadline: deadline)
    }

    static func writable(_ transport: any Transport, deadline: Deadline) throws(NATSError) -> Bool {
        try wait(transport.fileDescriptor, events: Int16(POLLOUT), deadline: deadline)
    }

    static func wait(_ fd: Int32, events: Int16, deadline: Deadline) throws(NATSError) -> Bool {
        var pfd = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let remaining = deadline.remainingMilliseconds
            if remaining <= 0 { return false }
            let n = poll(&pfd, 1, Int32(clamping: remaining))
            if n > 0 { return true }
            if n == 0 { return false }
            if errno != EINTR { throw NATSError(.connectionFailed, "poll: \(errnoText())") }
        }
    }
}
