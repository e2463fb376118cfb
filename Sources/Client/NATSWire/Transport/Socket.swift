#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A non-blocking TCP socket on Glibc: name resolution, connect with a deadline,
/// read and write.
// @unchecked Sendable: the descriptor is immutable; `isClosed` is only touched by the
// owning I/O thread, which closes the socket after detaching every other writer.
final class TCPSocket: Transport, @unchecked Sendable {
    let fileDescriptor: Int32
    private var isClosed = false

    private init(fileDescriptor: Int32) { self.fileDescriptor = fileDescriptor }

    deinit { close() }

    /// Takes over a stream socket connected elsewhere (one end of a `socketpair`: the loop's
    /// tests drive a connection that way, with no server), made non-blocking.
    static func adopting(connected fileDescriptor: Int32) -> TCPSocket {
        let flags = fcntl(fileDescriptor, F_GETFL)
        _ = fcntl(fileDescriptor, F_SETFL, flags | O_NONBLOCK)
        return TCPSocket(fileDescriptor: fileDescriptor)
    }

    /// Resolves `host` (a name, an IPv4 or an IPv6 address) and connects to the first
    /// address that answers before `deadline`.
    static func connect(host: String, port: Int, deadline: Deadline) throws(NATSError) -> TCPSocket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let reason = String(cString: gai_strerror(status))
            throw NATSError(.connectionFailed, "cannot resolve \(host): \(reason)")
        }
        defer { freeaddrinfo(first) }

        var lastError = "no address"
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            do {
                return try connect(address: info.pointee, deadline: deadline)
            } catch {
                lastError = error.message
            }
        }
        throw NATSError(.connectionFailed, "cannot connect to \(host):\(port): \(lastError)")
    }

    private static func connect(address: addrinfo, deadline: Deadline) throws(NATSError) -> TCPSocket {
        let fd = socket(
            address.ai_family,
            Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NATSError(.connectionFailed, "socket(): \(errnoText())") }
        let socket = TCPSocket(fileDescriptor: fd)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if Glibc.connect(fd, address.ai_addr, address.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else { throw NATSError(.connectionFailed, errnoText()) }
            guard try socket.waitUntil(writable: true, deadline: deadline) else {
                throw NATSError(.connectionFailed, "connect timed out")
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else { throw NATSError(.connectionFailed, String(cString: strerror(error))) }
        }
        return socket
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(NATSError) -> ReadOutcome {
        while true {
            let n = Glibc.read(fileDescriptor, buffer.baseAddress, buffer.count)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .endOfStream }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw NATSError(.connectionClosed, "read: \(errnoText())")
            }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(NATSError) -> Int {
        while true {
            let n = Glibc.send(fileDescriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return n }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return 0
            default: throw NATSError(.connectionClosed, "write: \(errnoText())")
            }
        }
    }

    var hasBufferedInput: Bool { false }

    var allowsConcurrentWrite: Bool { true }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        _ = Glibc.close(fileDescriptor)
    }

    func waitUntil(writable: Bool, deadline: Deadline) throws(NATSError) -> Bool {
        try TransportWait.wait(fileDescriptor, events: Int16(writable ? POLLOUT : POLLIN), deadline: deadline)
    }
}

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
