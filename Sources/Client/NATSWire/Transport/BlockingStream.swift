#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A TCP or TLS connection used with blocking calls and deadlines, by one thread at a time.
///
/// Not public API: the package's own HTTP client (the OTLP trace exporter of the service
/// runtime) uses it so that `https://` collectors work through the same OpenSSL code as
/// `tls://` NATS servers, without another TLS stack.
package final class BlockingStream: @unchecked Sendable {
    // @unchecked Sendable: used by one thread at a time (the exporter's), as its docs say.
    private let transport: any Transport

    private init(_ transport: any Transport) { self.transport = transport }

    deinit { transport.close() }

    /// Connects to `host:port`, with TLS when `tls` is given, within `timeout`.
    package static func connect(
        host: String, port: Int, tls: TLSOptions?, timeout: Duration
    ) throws(NATSError) -> BlockingStream {
        let deadline = Deadline.after(timeout)
        let socket = try TCPSocket.connect(host: host, port: port, deadline: deadline)
        guard let tls else { return BlockingStream(socket) }
        return BlockingStream(
            try TLSTransport.connect(over: socket, hostName: host, options: tls, deadline: deadline))
    }

    /// Writes every byte before `deadline`, or throws `timeout`.
    package func write(_ bytes: [UInt8], timeout: Duration) throws(NATSError) {
        let deadline = Deadline.after(timeout)
        var offset = 0
        while offset < bytes.count {
            let written = try bytes.withUnsafeBytes { raw in
                Result { () throws(NATSError) in
                    try transport.write(UnsafeRawBufferPointer(rebasing: raw[offset...]))
                }
            }.get()
            offset += written
            if written == 0 {
                guard
                    try TransportWait.wait(
                        transport.fileDescriptor, events: Int16(POLLOUT), deadline: deadline)
                else { throw NATSError(.timeout, "write timed out") }
            }
        }
    }

    /// Reads what arrives next (at most `maxBytes`); empty at the end of the stream. Throws
    /// `timeout` when nothing arrives in time.
    package func read(maxBytes: Int = 64 * 1024, timeout: Duration) throws(NATSError) -> [UInt8] {
        let deadline = Deadline.after(timeout)
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        while true {
            let outcome = try buffer.withUnsafeMutableBytes { raw in
                Result { () throws(NATSError) in try transport.read(into: raw) }
            }.get()
            switch outcome {
            case .bytes(let count): return Array(buffer.prefix(count))
            case .endOfStream: return []
            case .wouldBlock:
                if transport.hasBufferedInput { continue }
                guard
                    try TransportWait.wait(
                        transport.fileDescriptor, events: Int16(POLLIN), deadline: deadline)
                else { throw NATSError(.timeout, "read timed out") }
            }
        }
    }

    /// Closes the connection.
    package func close() { transport.close() }
}
