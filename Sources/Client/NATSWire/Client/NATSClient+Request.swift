extension NATSClient {
    /// A unique subject under the client's inbox prefix (``NATSOptions/inboxPrefix``), for
    /// replies: a user whose permissions allow replies only under its own prefix gets them
    /// there.
    public func newInbox() -> String { "\(options.inboxPrefix).\(NUID.generate())" }

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
        let headers = tracing(headers)
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
                mux.start(token, deadline: deadline, continuation: continuation) { () throws(NATSError) in
                    // Written from this thread when the I/O thread is idle: one wake-up less.
                    try payload.withUnsafeBytes { raw in
                        Result { () throws(NATSError) in
                            try publish(
                                bytes: raw, to: subject, replyTo: replyTo, headers: headers, writeNow: true)
                        }
                    }.get()
                }
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

extension NATSClient {
    /// Sends one request and gathers the replies that arrive within `timeout`, or until
    /// `maxReplies` have come: scatter–gather, for subjects any number of responders may
    /// answer (service discovery, `$SRV.PING`). The server's "no responders" status is not a
    /// reply; none at all is an empty array, not an error.
    public func requestMany(
        _ payload: [UInt8], to subject: String, headers: NATSHeaders? = nil, timeout: Duration = .seconds(1),
        maxReplies: Int? = nil
    ) async throws -> [NATSMessage] {
        try Subject.validatePublish(subject)
        if let maxReplies, maxReplies < 1 {
            throw NATSError(.invalidArgument, "maxReplies must be at least 1")
        }
        let replies = try subscribe(to: newInbox())
        defer { try? replies.unsubscribe() }
        // The subscription goes to the server before the request, on the same connection.
        try publish(payload, to: subject, replyTo: replies.subject, headers: headers)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            // At the deadline the subscription ends, and with it the loop below, after the
            // replies already received.
            group.addTask {
                try? await Task.sleep(for: timeout)
                try? replies.unsubscribe()
            }
            var gathered: [NATSMessage] = []
            for try await reply in replies where reply.status != 503 {
                gathered.append(reply)
                if let maxReplies, gathered.count == maxReplies { break }
            }
            group.cancelAll()
            return gathered
        }
    }
}
