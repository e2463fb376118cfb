/// What one non-blocking read produced.
enum ReadOutcome: Equatable {
    case bytes(Int)
    case wouldBlock
    case endOfStream
}

/// A connected, non-blocking byte stream: plain TCP, or TLS over it.
///
/// A transport is used by one thread at a time: the task that connects hands it to the
/// connection's I/O thread, which then is its only user.
protocol Transport: AnyObject {
    /// The socket, for `poll`.
    var fileDescriptor: Int32 { get }
    /// Reads what is available into `buffer`.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(NATSError) -> ReadOutcome
    /// Writes what the socket takes now; returns the count, 0 when it would block.
    func write(_ bytes: UnsafeRawBufferPointer) throws(NATSError) -> Int
    /// Bytes the transport holds already decrypted, which `poll` on the socket cannot see.
    var hasBufferedInput: Bool { get }
    /// Closes the stream; later calls fail.
    func close()
}
