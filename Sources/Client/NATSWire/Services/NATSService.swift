import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A service on the NATS services API (ADR-32, micro v1): named, versioned endpoints that
/// share requests across instances through a queue group, and answer `$SRV.PING`,
/// `$SRV.INFO` and `$SRV.STATS` so standard NATS tooling can discover and watch them.
///
/// ```swift
/// let service = try nats.addService(ServiceConfig(name: "greeter", version: "1.0.0"))
/// try service.addEndpoint("hello", subject: "greet.hello") { request in
///     ServiceReply("hello, " + String(decoding: request.payload, as: UTF8.self))
/// }
/// ...
/// await service.stop()  // finishes in-flight requests, takes no new ones
/// ```
public final class NATSService: Sendable {
    /// What the service was added with.
    public let config: ServiceConfig
    /// This instance's unique id (a NUID).
    public let id: String
    let client: NATSClient
    let started: Date

    private struct Endpoint: Sendable {
        let name: String
        let subject: String
        let queueGroup: String?
        let metadata: [String: String]
        let subscription: NATSSubscription
        let statistics: EndpointStatistics
        let worker: Task<Void, Never>
    }

    private struct State {
        var endpoints: [Endpoint] = []
        var discovery: [NATSSubscriptionHandle] = []
        var stopped = false
    }

    private let state = Mutex(State())

    init(client: NATSClient, config: ServiceConfig) throws(NATSError) {
        try config.validate()
        self.client = client
        self.config = config
        self.id = NUID.generate()
        self.started = Date()
        var handles: [NATSSubscriptionHandle] = []
        do throws(NATSError) {
            for verb in ServiceDiscovery.Verb.allCases {
                for subject in ServiceDiscovery.subjects(verb, name: config.name, id: id) {
                    handles.append(
                        try client.subscribe(to: subject) { [weak self] message in
                            self?.answerDiscovery(verb, message)
                        })
                }
            }
        } catch {
            for handle in handles { try? handle.unsubscribe() }
            throw error
        }
        state.withLock { $0.discovery = handles }
    }

    /// Adds an endpoint listening on `subject` (default: its name) in the service's queue
    /// group. Each request runs in its own task, at most
    /// ``ServiceConfig/maxConcurrentRequests`` at once per endpoint.
    public func addEndpoint(
        _ name: String, subject: String? = nil, metadata: [String: String] = [:],
        handler: @escaping ServiceHandler
    ) throws(NATSError) {
        guard ServiceConfig.isValidName(name) else {
            throw NATSError(
                .invalidArgument, "endpoint name \(name.debugDescription) must match ^[A-Za-z0-9_-]+$")
        }
        let subject = subject ?? name
        let queueGroup = config.queueGroup
        let subscription = try client.subscribe(to: subject, queue: queueGroup, pendingLimits: .unlimited)
        let statistics = EndpointStatistics()
        let limiter = AsyncLimiter(limit: config.maxConcurrentRequests)
        let client = self.client
        let executor = config.executor
        let worker = Task(executorPreference: executor) {
            await withDiscardingTaskGroup { group in
                do {
                    for try await message in subscription {
                        await limiter.acquire()
                        group.addTask(executorPreference: executor) {
                            await Self.handle(
                                message, endpoint: name, handler: handler, client: client,
                                statistics: statistics)
                            limiter.release()
                        }
                    }
                } catch {
                    statistics.noteFailure("subscription ended: \(error)")
                }
            }
        }
        let endpoint = Endpoint(
            name: name, subject: subject, queueGroup: queueGroup, metadata: metadata,
            subscription: subscription,
            statistics: statistics, worker: worker)
        let added = state.withLock { s -> Bool in
            guard !s.stopped else { return false }
            s.endpoints.append(endpoint)
            return true
        }
        if !added {
            try? subscription.unsubscribe()
            throw NATSError(.closed, "service \(config.name) is stopped")
        }
    }

    /// Stops taking requests: unsubscribes every endpoint, lets the requests already
    /// received finish and their replies go out, then leaves discovery.
    public func stop() async {
        let (endpoints, discovery) = state.withLock { s -> ([Endpoint], [NATSSubscriptionHandle]) in
            guard !s.stopped else { return ([], []) }
            s.stopped = true
            return (s.endpoints, s.discovery)
        }
        // Drain: requests the server already delivered are still answered.
        await withTaskGroup(of: Void.self) { group in
            for endpoint in endpoints {
                group.addTask { try? await endpoint.subscription.drain(timeout: .seconds(10)) }
            }
        }
        for endpoint in endpoints { await endpoint.worker.value }
        for handle in discovery { try? handle.unsubscribe() }
        try? await client.flush(timeout: .seconds(5))
    }

    // MARK: - Requests

    private static func handle(
        _ message: NATSMessage, endpoint: String, handler: ServiceHandler, client: NATSClient,
        statistics: EndpointStatistics
    ) async {
        let start = ContinuousClock.now
        var reply = ServiceReply.none
        var failure: ServiceError?
        var recorded: String?
        do {
            reply = try await handler(ServiceRequest(message: message, endpoint: endpoint))
        } catch let error as ServiceError {
            failure = error
            recorded = "\(error.code):\(error.message)"
        } catch {
            failure = ServiceError(code: 500, message: "internal error")
            recorded = "500:\(error)"
        }
        statistics.record(elapsed: ContinuousClock.now - start, error: recorded)
        guard let replyTo = message.replyTo else { return }
        if let failure {
            var headers: NATSHeaders?
            if failure.sendsErrorHeaders {
                var errorHeaders = NATSHeaders()
                errorHeaders.append(failure.message, for: ServiceError.errorHeader)
                errorHeaders.append(String(failure.code), for: ServiceError.errorCodeHeader)
                headers = errorHeaders
            }
            let body =
                failure.replyBody
                ?? ServiceDiscovery.encode(ErrorBody(code: failure.code, message: failure.message))
            Self.sendReply(body, to: replyTo, headers: headers, client: client)
        } else if reply.isSent {
            Self.sendReply(reply.payload, to: replyTo, headers: reply.headers, client: client)
        }
    }

    /// Written from the handler's thread when the I/O thread is idle, as a request is: a
    /// reply then costs no wake-up of the I/O thread. Under load the I/O thread is busy and
    /// replies coalesce in its buffer as before.
    private static func sendReply(
        _ payload: [UInt8], to replyTo: String, headers: NATSHeaders?, client: NATSClient
    ) {
        payload.withUnsafeBytes { raw in
            try? client.publish(bytes: raw, to: replyTo, replyTo: nil, headers: headers, writeNow: true)
        }
    }

    private struct ErrorBody: Encodable {
        let code: Int
        let message: String
    }

    // MARK: - Discovery

    private func answerDiscovery(_ verb: ServiceDiscovery.Verb, _ message: NATSMessage) {
        guard let replyTo = message.replyTo else { return }
        let body: [UInt8]
        switch verb {
        case .ping: body = ServiceDiscovery.encode(ping)
        case .info: body = ServiceDiscovery.encode(info)
        case .stats: body = ServiceDiscovery.encode(stats)
        }
        try? client.publish(body, to: replyTo)
    }

    var ping: ServiceDiscovery.Ping {
        ServiceDiscovery.Ping(name: config.name, id: id, version: config.version, metadata: config.metadata)
    }

    var info: ServiceDiscovery.Info {
        let endpoints = state.withLock { $0.endpoints }
        return ServiceDiscovery.Info(
            name: config.name, id: id, version: config.version, metadata: config.metadata,
            description: config.description,
            endpoints: endpoints.map {
                ServiceDiscovery.EndpointInfo(
                    name: $0.name, subject: $0.subject, queue_group: $0.queueGroup, metadata: $0.metadata)
            })
    }

    var stats: ServiceDiscovery.Stats {
        let endpoints = state.withLock { $0.endpoints }
        return ServiceDiscovery.Stats(
            name: config.name, id: id, version: config.version, metadata: config.metadata,
            started: ServiceDiscovery.timestamp(started),
            endpoints: endpoints.map { endpoint in
                let snapshot = endpoint.statistics.snapshot
                return ServiceDiscovery.EndpointStats(
                    name: endpoint.name, subject: endpoint.subject, queue_group: endpoint.queueGroup,
                    num_requests: snapshot.requests, num_errors: snapshot.errors,
                    last_error: snapshot.lastError,
                    processing_time: snapshot.processingNanoseconds,
                    average_processing_time: snapshot.requests > 0
                        ? snapshot.processingNanoseconds / snapshot.requests : 0)
            })
    }

    /// Statistics of each endpoint, as `$SRV.STATS` reports them.
    public var endpointStatistics: [String: EndpointStatistics.Snapshot] {
        let endpoints = state.withLock { $0.endpoints }
        return Dictionary(
            endpoints.map { ($0.name, $0.statistics.snapshot) }, uniquingKeysWith: { a, _ in a })
    }
}

/// Counters of one endpoint.
public final class EndpointStatistics: Sendable {
    /// An endpoint's counters at one moment.
    public struct Snapshot: Sendable, Equatable {
        /// Requests handled.
        public var requests: Int64 = 0
        /// Requests answered with an error.
        public var errors: Int64 = 0
        /// The last error's text (`code: message`).
        public var lastError = ""
        /// Time spent handling requests, in total.
        public var processingNanoseconds: Int64 = 0
    }

    private let state = Mutex(Snapshot())

    func record(elapsed: Duration, error: String?) {
        let (seconds, attoseconds) = elapsed.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        state.withLock { s in
            s.requests += 1
            s.processingNanoseconds += nanoseconds
            if let error {
                s.errors += 1
                s.lastError = error
            }
        }
    }

    func noteFailure(_ text: String) {
        state.withLock { s in
            s.errors += 1
            s.lastError = text
        }
    }

    /// The counters now.
    public var snapshot: Snapshot { state.withLock { $0 } }
}

extension NATSClient {
    /// Starts a service on this connection; add endpoints to it with
    /// ``NATSService/addEndpoint(_:subject:metadata:handler:)``.
    public func addService(_ config: ServiceConfig) throws(NATSError) -> NATSService {
        try NATSService(client: self, config: config)
    }
}
