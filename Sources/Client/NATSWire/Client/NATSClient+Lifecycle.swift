#if canImport(Glibc)
    import Glibc
#endif

/// The I/O thread's life: connect (the ``Connector``), run the protocol loop
/// (``ConnectionLoop``), and when it ends for a reason other than `close()`, reconnect.
extension NATSClient: ConnectorHost {
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
            session = try connector.connectFirst(self)
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
            switch connector.reconnect(self, avoiding: avoid, after: reason) {
            case .success(let next):
                reconnectCount.add(1, ordering: .relaxed)
                emit(.reconnected(server: next.address.description))
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
            spinBeforeSleep: options.spinBeforeSleep,
            onInfo: { [self] in self.received($0) },
            onServerError: { [self] in self.receivedServerError($0) },
            onSlowConsumer: { [self] entry in
                self.emit(.slowConsumer(sid: entry.sid, subject: entry.subject))
            })
        let exit = loop.run()
        loop.closeTransport()
        return exit
    }

    // MARK: - What the connector needs

    /// TCP connect, then the handshake, within ``NATSOptions/connectTimeout``.
    func dial(_ address: ServerAddress) throws(NATSError) -> Session {
        let deadline = Deadline.after(options.connectTimeout)
        let socket = try TCPSocket.connect(host: address.host, port: address.port, deadline: deadline)
        let parser = ProtocolParser()
        let handshake = Handshake(options: options, address: address, deadline: deadline)
        let (transport, info) = try handshake.run(transport: socket, parser: parser)
        currentAddress.withLock { $0 = address }
        received(info)
        return Session(transport: transport, parser: parser, address: address)
    }

    var isClosing: Bool { components.stopRequested.load(ordering: .acquiring) }

    func attemptFailed() { _ = components.mux.expire(now: .now) }

    /// Restores the subscriptions in front of what was buffered while disconnected and
    /// marks the connection up. `false` if the owner closed the client meanwhile.
    func resume(_ session: Session) -> Bool {
        guard state.withLock({ $0.connected() }) else { return false }
        let resubscribe = ByteBuffer(capacity: 4096)
        components.registry.encodeResubscribe(into: resubscribe)
        components.writeBuffer.resume(prefix: resubscribe)
        return true
    }

    /// Sleeps `duration` on the wake-up notifier, expiring requests on time. `false` when
    /// the owner closed the client.
    func waitWhileDisconnected(_ duration: Duration) -> Bool {
        let end = Deadline.now.adding(duration)
        var fd = pollfd(fd: components.notifier.fileDescriptor, events: Int16(POLLIN), revents: 0)
        while true {
            components.executor.runJobs()
            if components.stopRequested.load(ordering: .acquiring) { return false }
            let now = Deadline.now
            let nextRequestDeadline = components.mux.expire(now: now)
            if now >= end { return true }
            let wakeAt = min(end, nextRequestDeadline)
            fd.revents = 0
            guard components.executor.prepareToSleep() else { continue }
            if poll(&fd, 1, Int32(clamping: max(1, wakeAt.remainingMilliseconds))) > 0 {
                components.notifier.drain()
            }
            components.executor.markAwake()
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
            let added = connector.pool.withLock { $0.discover(newInfo.connectURLs, current: current) }
            if !added.isEmpty { emit(.discoveredServers(added.map(\.description))) }
        }
        if newInfo.lameDuckMode && previous?.lameDuckMode != true {
            emit(.lameDuckMode)
            // Move before the server goes, if there is anywhere to go.
            if options.reconnect.enabled && connector.pool.withLock({ $0.count > 1 }) {
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
        components.executor.shutDown()
        let waiters = terminationWaiters.withLock { t in
            t.finished = true
            defer { t.waiters.removeAll() }
            return t.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
