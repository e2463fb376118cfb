extension NATSClient {
    /// Sends a request and waits for the first reply.
    ///
    /// Throws ``NATSError`` of kind `noResponders` at once when nobody listens on `subject`
    /// (the server's 503), `timeout` after `timeout`, or `CancellationError` if the task is
    /// cancelled. All requests of a client share one inbox subscription.
    public func request(
        _ payload: [UInt8], to subject: String, headers: NATSHeaders? = nil, timeout: Duration = .seconds(5)
    ) async throws -> NATSMessage {
        try Subject.validatePublish(subject)
        try checkNotDraining("send a request")
        let mux = components.mux
        try mux.ensureSubscribed { () throws(NATSError) in
            let registry = components.registry
            let sid = registry.add(
                subject: mux.subscriptionSubject, queue: nil, sink: .handler { mux.deliver($0) })
            do throws(NATSError) {
                try components.writeBuffer.append { out in
                    ClientOperation.appendSubscribe(
                        into: out, subject: mux.subscriptionSubject, queue: nil, sid: sid)
                }
            } catch {
                registry.remove(sid)
                throw error
            }
        }
        let (token, replyTo) = mux.reserveToken()
        let deadline = Deadline.after(timeout)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<NATSMessage, any Error>) in
                let wake = mux.register(token, deadline: deadline, continuation: continuation)
                do throws(NATSError) {
                    // Written from this thread when the I/O thread is idle: one wake-up less.
                    try payload.withUnsafeBytes { raw in
                        Result { () throws(NATSError) in
                            try publish(
                                bytes: raw, to: subject, replyTo: replyTo, headers: headers, writeNow: true)
                        }
                    }.get()
                } catch {
                    mux.fail(token, with: error)
                    return
                }
                if wake { components.notifier.signal() }
            }
        } onCancel: {
            mux.fail(token, with: CancellationError())
        }
    }

    /// Sends a request with the UTF-8 bytes of `text`.
    public func request(
        _ text: String, to subject: String, headers: NATSHeaders? = nil, timeout: Duration = .seconds(5)
    ) async throws -> NATSMessage {
        try await request(Array(text.utf8), to: subject, headers: headers, timeout: timeout)
    }
}
