#if canImport(Glibc)
    import Glibc
#endif

/// The I/O thread's life: connect, run the protocol loop, and when it ends for a reason
/// other than `close()`, reconnect under the ``ReconnectPolicy`` with the ``ServerPool``.
extension NATSClient {
    /// One established connection.
    struct Session {
        let transport: any Transport
        let parser: ProtocolParser
        let address: ServerAddress
    }

    func start() async throws(NATSError) {
        let result: Result<Void, NATSError> = await withCheckedContinuation { continuation in
            do throws(NATSError) {
                try IOThread.start(name: "natswire-io") { [self] in
                    self.runConnection(onFirstConnect: continuation)
                }
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        try result.get()
    }

    private func runConnection(onFirstConnect: CheckedContinuation<Result<Void, NATSError>, Never>) {
        components.writeBuffer.ioThread.store(IOThread.current, ordering: .relaxed)
        var session: Session
        do {
            session = try connectFirst()
        } catch {
            finish(reason: error)
            onFirstConnect.resume(returning: .failure(error))
            return
        }
        guard state.withLock({ $0.connected() }) else {
            session.transport.close()
            finish(reason: nil)
            onFirstConnect.resume(returning: .failure(NATSError(.closed, "closed while connecting")))
            return
        }
        emit(.connected(server: session.address.description))
        onFirstConnect.resume(returning: .success(()))

        while true {
            let exit = runLoop(session)
            let avoid: ServerAddress?
            let reason: NATSError
            switch exit {
            case .stopped:
                finish(reason: nil)
                return
            case .failed(let error):
                avoid = nil
                reason = error
            case .migrating:
                avoid = session.address
                reason = NATSError(.connectionClosed, "\(session.address) entered lame duck mode")
            }
            guard options.reconnect.enabled, state.withLock({ $0.status == .connected }) else {
                state.withLock { $0.disconnected(willReconnect: false) }
                emit(.disconnected(reason: reason))
                finish(reason: components.stopRequested.load(ordering: .acquiring) ? nil : reason)
                return
            }
            state.withLock { $0.disconnected(willReconnect: true) }
            let stillBuffered = components.writeBuffer.suspend()
            components.pongs.connectionLost(keepingNewest: stillBuffered, reason)
            emit(.disconnected(reason: reason))
            switch reconnect(avoiding: avoid, after: reason) {
            case .success(let next):
                session = next
            case .failure(let final):
                finish(reason: final.kind == .closed ? nil : final)
                return
            }
        }
    }

    private func runLoop(_ session: Session) -> ConnectionLoop.Exit {
        currentAddress.withLock { $0 = session.address }
        components.migrateRequested.store(false, ordering: .releasing)
        let loop = ConnectionLoop(
            transport: session.transport, parser: session.parser, components: components,
            pingInterval: options.pingInterval, maxPingsOutstanding: options.maxPingsOutstanding,
            onInfo: { [self] in self.received($0) },
            onServerError: { [self] in self.receivedServerError($0) },
            onSlowConsumer: { [self] entry in
                self.emit(.slowConsumer(sid: entry.sid, subject: entry.subject))
            })
        let exit = loop.run()
        loop.closeTransport()
        return exit
    }

    // MARK: - Connecting

    /// The first connect: one pass over the pool, no waiting. A refused credential ends it
    /// at once, since every server of a deployment would refuse it alike.
    private func connectFirst() throws(NATSError) -> Session {
        pool.withLock { $0.startPass() }
        var lastError = NATSError(.connectionFailed, "no server")
        while let address = pool.withLock({ $0.nextInPass() }) {
            do {
                return try open(address)
            } catch {
                if error.kind == .authorizationViolation { throw error }
                lastError = error
            }
        }
        throw lastError
    }

    /// TCP connect, then the handshake, within ``NATSOptions/connectTimeout``.
    private func open(_ address: ServerAddress) throws(NATSError) -> Session {
        let deadline = Deadline.after(options.connectTimeout)
        let socket = try TCPSocket.connect(host: address.host, port: address.port, deadline: deadline)
        let parser = ProtocolParser()
        let handshake = Handshake(options: options, address: address, deadline: deadline)
        let (transport, info) = try handshake.run(transport: socket, parser: parser)
        currentAddress.withLock { $0 = address }
        received(info)
        return Session(transport: transport, parser: parser, address: address)
    }

    /// Tries the pool pass after pass, waiting between passes as the policy says, until a
    /// server takes the connection, the pool is used up or the owner closes the client.
    /// Meanwhile requests still time out at their deadlines.
    private func reconnect(avoiding avoid: ServerAddress?, after reason: NATSError) -> Result<
        Session, NATSError
    > {
        var lastError = reason
        var pass = 0
        while true {
            let wait = options.reconnect.wait(beforePass: pass, random: Double.random(in: 0...1))
            if !sleepWhileDisconnected(wait) {
                return .failure(NATSError(.closed, "closed while reconnecting"))
            }
            pool.withLock { $0.startPass(avoiding: pass == 0 ? avoid : nil) }
            while let address = pool.withLock({ $0.nextInPass() }) {
                if components.stopRequested.load(ordering: .acquiring) {
                    return .failure(NATSError(.closed, "closed while reconnecting"))
                }
                do {
                    let session = try open(address)
                    pool.withLock { $0.succeeded(address) }
                    guard resumeSession() else {
                        session.transport.close()
                        return .failure(NATSError(.closed, "closed while reconnecting"))
                    }
                    reconnectCount.add(1, ordering: .relaxed)
                    emit(.reconnected(server: address.description))
                    return .success(session)
                } catch {
                    lastError = error
                    pool.withLock {
                        _ = $0.failed(address, authorization: error.kind == .authorizationViolation)
                    }
                }
                _ = components.mux.expire(now: .now)
            }
            if pool.withLock({ $0.isEmpty }) {
                let kind: NATSError.Kind =
                    lastError.kind == .authorizationViolation ? .authorizationViolation : .connectionClosed
                return .failure(
                    NATSError(kind, "reconnecting failed on every server; last error: \(lastError.message)"))
            }
            pass += 1
        }
    }

    /// Restores the subscriptions in front of what was buffered while disconnected and
    /// marks the connection up. `false` if the owner closed the client meanwhile.
    private func resumeSession() -> Bool {
        guard state.withLock({ $0.connected() }) else { return false }
        let resubscribe = ByteBuffer(capacity: 4096)
        components.registry.encodeResubscribe(into: resubscribe)
        components.writeBuffer.resume(prefix: resubscribe)
        return true
    }

    /// Sleeps `duration` on the wake-up notifier, expiring requests on time. `false` when
    /// the owner closed the client.
    private func sleepWhileDisconnected(_ duration: Duration) -> Bool {
        let end = Deadline.now.adding(duration)
        var fd = pollfd(fd: components.notifier.fileDescriptor, events: Int16(POLLIN), revents: 0)
        while true {
            if components.stopRequested.load(ordering: .acquiring) { return false }
            let now = Deadline.now
            let nextRequestDeadline = components.mux.expire(now: now)
            if now >= end { return true }
            let wakeAt = min(end, nextRequestDeadline)
            fd.revents = 0
            if poll(&fd, 1, Int32(clamping: max(1, wakeAt.remainingMilliseconds))) > 0 {
                components.notifier.drain()
            }
        }
    }

    // MARK: - What the server says

    func received(_ newInfo: ServerInfo) {
        let previous = info.withLock { current in
            defer { current = newInfo }
            return current
        }
        maxPayload.store(newInfo.maxPayload, ordering: .relaxed)
        if !newInfo.connectURLs.isEmpty && !options.ignoreDiscoveredServers,
            let current = currentAddress.withLock({ $0 })
        {
            let added = pool.withLock { $0.discover(newInfo.connectURLs, current: current) }
            if !added.isEmpty { emit(.discoveredServers(added.map(\.description))) }
        }
        if newInfo.lameDuckMode && previous?.lameDuckMode != true {
            emit(.lameDuckMode)
            // Move before the server goes, if there is anywhere to go.
            if options.reconnect.enabled && pool.withLock({ $0.count > 1 }) {
                components.migrateRequested.store(true, ordering: .releasing)
                components.notifier.signal()
            }
        }
    }

    func receivedServerError(_ error: NATSError) {
        if error.kind == .permissionsViolation, let subject = Self.quotedSubject(in: error.message),
            error.message.lowercased().contains("subscription")
        {
            // The server refused a SUB: end that subscription with the server's reason.
            for entry in components.registry.entries(subject: subject) {
                components.registry.remove(entry.sid)
                if case .queue(let queue) = entry.sink { queue.finish(error) }
            }
        }
        emit(.serverError(error))
    }

    /// The subject in `Permissions Violation for Subscription to "foo"`.
    static func quotedSubject(in text: String) -> String? {
        guard let open = text.firstIndex(of: "\""),
            let close = text[text.index(after: open)...].firstIndex(of: "\"")
        else { return nil }
        return String(text[text.index(after: open)..<close])
    }

    // MARK: - The end

    /// Tears everything down once; wakes `close()` callers.
    func finish(reason: NATSError?) {
        let failure = reason ?? NATSError(.closed, "the connection was closed")
        components.writeBuffer.fail(failure)
        components.pongs.fail(failure)
        components.mux.failAll(failure, permanently: true)
        for entry in components.registry.removeAll() {
            if case .queue(let queue) = entry.sink { queue.finish(reason) }
        }
        state.withLock { $0.closed(reason: reason) }
        emit(.closed(reason: reason))
        finishEventStreams()
        let waiters = terminationWaiters.withLock { t in
            t.finished = true
            defer { t.waiters.removeAll() }
            return t.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
