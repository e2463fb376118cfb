/// Draining: stop taking new messages, deliver what the server sent already, then
/// unsubscribe (a subscription) or close (the whole connection). Nothing the server
/// delivered to a subscription is lost.
extension NATSClient {
    /// Drains one subscription: UNSUB, a PING/PONG round trip so every message the server
    /// sent before the UNSUB has arrived, then the sequence ends once the consumer has taken
    /// them. Throws `timeout` after `timeout` (the subscription is then gone anyway).
    func drain(sid: UInt64, timeout: Duration) async throws {
        guard let entry = components.registry.markDraining(sid) else { return }
        try await withDeadline(timeout, what: "draining subscription \(entry.subject)") { [self] in
            defer { self.endDrained(entry) }
            try self.components.writeBuffer.append { out in
                ClientOperation.appendUnsubscribe(into: out, sid: sid, max: nil)
            }
            try await self.flush(timeout: timeout)
            self.endDrained(entry)
            if case .queue(let queue) = entry.sink { await queue.waitUntilConsumed() }
        }
    }

    private func endDrained(_ entry: SubscriptionRegistry.Entry) {
        components.registry.remove(entry.sid)
        if case .queue(let queue) = entry.sink { queue.finish() }
    }

    /// Drains the whole connection and closes it: every subscription stops taking new
    /// messages and delivers what it has; requests in flight get their replies; publishes
    /// made meanwhile are sent; then the connection closes. New subscriptions and requests
    /// fail with kind `draining` from the start.
    ///
    /// Throws `timeout` if that takes longer than `timeout` (default
    /// ``NATSOptions/drainTimeout``); the client is closed in any case.
    public func drain(timeout: Duration? = nil) async throws {
        let limit = timeout ?? options.drainTimeout
        guard !isDraining.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let inbox = components.mux.subscriptionSubject
        let subscriptions = components.registry.allEntries.filter { $0.subject != inbox }
        let clock = ContinuousClock()
        let start = clock.now
        var failure: (any Error)?
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for entry in subscriptions {
                    group.addTask { try await self.drain(sid: entry.sid, timeout: limit) }
                }
                try await group.waitForAll()
            }
            // Replies to requests already sent still arrive on the inbox.
            while components.mux.pendingCount > 0 && clock.now - start < limit {
                try await Task.sleep(for: .milliseconds(5))
            }
            if components.mux.pendingCount > 0 {
                throw NATSError(.timeout, "draining timed out after \(limit) waiting for replies")
            }
        } catch {
            failure = error
        }
        await close()
        if let failure { throw failure }
    }

    func checkNotDraining(_ what: String) throws(NATSError) {
        if isDraining.load(ordering: .acquiring) {
            throw NATSError(.draining, "cannot \(what): the connection is draining")
        }
    }
}

extension NATSSubscription {
    /// Stops taking new messages, delivers those the server sent already, then ends the
    /// sequence. Waits at most `timeout` for the consumer to take them.
    public func drain(timeout: Duration = .seconds(30)) async throws {
        try await client.drain(sid: sid, timeout: timeout)
    }
}

extension NATSSubscriptionHandle {
    /// Stops taking new messages; returns once the handler has seen every message the
    /// server sent before.
    public func drain(timeout: Duration = .seconds(30)) async throws {
        try await client.drain(sid: sid, timeout: timeout)
    }
}
