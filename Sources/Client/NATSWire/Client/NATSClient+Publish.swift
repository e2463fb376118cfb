import Synchronization

extension NATSClient {
    /// Publishes `payload` to `subject`.
    ///
    /// Returns once the message is in the write buffer; the I/O thread sends it. Throws
    /// `invalidSubject`, `invalidHeader`, `maxPayloadExceeded` (checked against the server's
    /// `max_payload` before anything is sent) or, once closed, `closed`/`connectionClosed`.
    /// Blocks briefly only when the write buffer is over ``NATSOptions/writeBufferLimit``.
    public func publish(
        _ payload: [UInt8], to subject: String, replyTo: String? = nil, headers: NATSHeaders? = nil
    ) throws(NATSError) {
        let headers = tracing(headers)
        try payload.withUnsafeBytes { raw in
            Result { () throws(NATSError) in
                try publish(bytes: raw, to: subject, replyTo: replyTo, headers: headers, writeNow: false)
            }
        }.get()
    }

    /// Publishes the bytes of any sequence (`Data`, a slice, ...).
    public func publish(
        _ payload: some Sequence<UInt8>, to subject: String, replyTo: String? = nil,
        headers: NATSHeaders? = nil
    ) throws(NATSError) {
        try publish(Array(payload), to: subject, replyTo: replyTo, headers: headers)
    }

    /// Publishes the UTF-8 bytes of `text`.
    public func publish(
        _ text: String, to subject: String, replyTo: String? = nil, headers: NATSHeaders? = nil
    ) throws(NATSError) {
        let headers = tracing(headers)
        try withUTF8Bytes(of: text) { raw in
            Result { () throws(NATSError) in
                try publish(bytes: raw, to: subject, replyTo: replyTo, headers: headers, writeNow: false)
            }
        }.get()
    }

    /// Answers `request` on its reply subject. Throws `invalidArgument` if it has none.
    public func reply(
        to request: NATSMessage, with payload: [UInt8], headers: NATSHeaders? = nil
    ) throws(NATSError) {
        guard let replyTo = request.replyTo else {
            throw NATSError(.invalidArgument, "message on \(request.subject) has no reply subject")
        }
        try payload.withUnsafeBytes { raw in
            Result { () throws(NATSError) in
                try publish(bytes: raw, to: replyTo, replyTo: nil, headers: headers, writeNow: false)
            }
        }.get()
    }

    /// The publish path: validate, format the control line outside the lock, append.
    func publish(
        bytes payload: UnsafeRawBufferPointer, to subject: String, replyTo: String?, headers: NATSHeaders?,
        writeNow: Bool
    ) throws(NATSError) {
        var headerBlock: [UInt8]?
        if let headers {
            var block: [UInt8] = []
            try headers.encode(into: &block)
            headerBlock = block
        }
        let total = (headerBlock?.count ?? 0) + payload.count
        try checkPayloadSize(total)
        let writeBuffer = components.writeBuffer
        let failure: NATSError? = withUTF8Bytes(of: subject) { subjectBytes in
            guard Subject.isValidPublish(bytes: subjectBytes) else {
                return NATSError(
                    .invalidSubject, "\(subject.debugDescription) is not a valid publish subject")
            }
            return withOptionalUTF8Bytes(of: replyTo) { replyBytes in
                if let replyBytes, !Subject.isValidPublish(bytes: replyBytes) {
                    return NATSError(
                        .invalidSubject, "\(replyTo.debugDescription) is not a valid reply subject")
                }
                return headerBlock.withOptionalBytes { headerBytes -> NATSError? in
                    do throws(NATSError) {
                        try writeBuffer.append(messages: 1, payloadBytes: payload.count, writeNow: writeNow) {
                            ClientOperation.appendPublish(
                                into: $0, subject: subjectBytes, replyTo: replyBytes,
                                headerBlock: headerBytes,
                                payload: payload)
                        }
                        return nil
                    } catch {
                        return error
                    }
                }
            }
        }
        if let failure { throw failure }
    }

    private func checkPayloadSize(_ size: Int) throws(NATSError) {
        let limit = currentMaxPayload
        guard size <= limit else {
            throw NATSError(
                .maxPayloadExceeded, "message of \(size) bytes exceeds the server's max_payload of \(limit)")
        }
    }

    /// Waits until the server has processed everything sent before this call (a PING/PONG
    /// round trip). Throws `timeout` after `timeout`.
    public func flush(timeout: Duration = .seconds(10)) async throws {
        try await withDeadline(timeout, what: "flush") { [components] in
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<Void, any Error>) in
                do {
                    try components.writeBuffer.append(pings: 1) { out in
                        out.append(contentsOf: ClientOperation.ping)
                        components.pongs.push(.flush(continuation))
                    }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}

/// Runs `body`, failing with `timeout` if it has not finished after `duration`. The body is
/// cancelled then; whichever finishes first decides, the other is ignored.
func withDeadline<T: Sendable>(
    _ duration: Duration, what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let outcome = ResumeOnce(continuation)
        let timer = Task {
            try? await Task.sleep(for: duration)
            if !Task.isCancelled {
                outcome.resume(with: .failure(NATSError(.timeout, "\(what) timed out after \(duration)")))
            }
        }
        Task {
            let result = await Result(catching: body)
            timer.cancel()
            outcome.resume(with: result)
        }
    }
}

/// A continuation that the first of several racers resumes; later calls do nothing.
final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = Mutex(continuation) }

    func resume(with result: Result<T, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: result)
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
