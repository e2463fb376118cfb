/// What one non-blocking read produced.
enum ReadOutcome: Equatable {
    case bytes(Int)
    case wouldBlock
    case endOfStream
}

/// A connected, non-blocking byte stream: plain TCP, or TLS over it.
///
/// A transport is read by one thread at a time: the task that connects hands it to the
/// connection's I/O thread. Writes come from that thread, or for a transport that
/// ``allowsConcurrentWrite``, from a caller holding the write buffer's writer token.
protocol Transport: AnyObject, Sendable {
    /// The socket, for `poll`.
    var fileDescriptor: Int32 { get }
    /// Reads what is available into `buffer`.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(NATSError) -> ReadOutcome
    /// Writes what the socket takes now; returns the count, 0 when it would block.
    func write(_ bytes: UnsafeRawBufferPointer) throws(NATSError) -> Int
    /// Bytes the transport holds already decrypted, which `poll` on the socket cannot see.
    var hasBufferedInput: Bool { get }
    /// Whether one thread may write while another reads (true for TCP; not for TLS, whose
    /// session state is shared by both directions).
    var allowsConcurrentWrite: Bool { get }
    /// Closes the stream; later calls fail.
    func close()
}
