import Logging
import Metrics
import NATSWire
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How a process's metrics leave it. Services have no HTTP port: each instance answers a
/// request on ``subject`` (and `natswire.metrics.<service>`) with its metrics in the
/// Prometheus text format, labelled `service` and `service_instance`; the gateway gathers
/// every instance's answer for its `/metrics/services`.
public enum MetricsExport {
    /// Where every service instance listens for metrics requests (no queue group: all answer).
    public static let subject = "natswire.metrics"

    /// The header of an answer that names the service.
    public static let serviceHeader = "Natswire-Service"

    /// The subjects one service's instances listen on.
    public static func subjects(service: String) -> [String] { [subject, "\(subject).\(service)"] }

    /// Samples `nats`'s counters and connection state into the process's metrics at each
    /// scrape.
    public static func observe(_ nats: NATSClient, in metrics: ProcessMetrics = .shared) {
        let reconnects = CounterMirror(label: MetricCatalog.natsReconnects)
        let inMessages = CounterMirror(label: MetricCatalog.natsInMessages)
        let outMessages = CounterMirror(label: MetricCatalog.natsOutMessages)
        let inBytes = CounterMirror(label: MetricCatalog.natsInBytes)
        let outBytes = CounterMirror(label: MetricCatalog.natsOutBytes)
        let dropped = CounterMirror(label: MetricCatalog.natsDropped)
        let pending = Gauge(label: MetricCatalog.natsPendingBytes)
        let connected = Gauge(label: MetricCatalog.natsConnected)
        metrics.addSampler { [weak nats] in
            guard let nats else { return }
            let statistics = nats.statistics
            reconnects.sample(statistics.reconnects)
            inMessages.sample(statistics.inMessages)
            outMessages.sample(statistics.outMessages)
            inBytes.sample(statistics.inBytes)
            outBytes.sample(statistics.outBytes)
            dropped.sample(statistics.droppedMessages)
            pending.record(Int64(clamping: statistics.pendingBytes))
            connected.record(nats.status == .connected ? 1 : 0)
        }
    }

    /// Samples the process's resident memory, CPU time and threads (from `/proc/self/stat`).
    public static func observeProcess(in metrics: ProcessMetrics = .shared) {
        let resident = Gauge(label: MetricCatalog.processResident)
        let threads = Gauge(label: MetricCatalog.processThreads)
        let cpu = FloatingPointCounter(label: MetricCatalog.processCPU)
        let lastCPU = Mutex<Double>(0)
        metrics.addSampler {
            guard let stat = ProcessStat.current() else { return }
            resident.record(stat.residentBytes)
            threads.record(stat.threads)
            let grown = lastCPU.withLock { last -> Double in
                defer { last = max(last, stat.cpuSeconds) }
                return max(0, stat.cpuSeconds - last)
            }
            if grown > 0 { cpu.increment(by: grown) }
        }
    }

    /// What a database pool is doing, as its sampler reads it.
    public struct PoolSample: Sendable {
        public var size: Int
        public var open: Int
        public var busy: Int
        public var waiting: Int
        public var connectFailures: UInt64

        public init(size: Int, open: Int, busy: Int, waiting: Int, connectFailures: UInt64) {
            self.size = size
            self.open = open
            self.busy = busy
            self.waiting = waiting
            self.connectFailures = connectFailures
        }
    }

    /// Samples a database pool (labelled `pool="name"`) at each scrape.
    public static func observePool(
        _ name: String, in metrics: ProcessMetrics = .shared, _ read: @escaping @Sendable () -> PoolSample
    ) {
        let dimensions = [("pool", name)]
        let size = Gauge(label: MetricCatalog.poolSize, dimensions: dimensions)
        let open = Gauge(label: MetricCatalog.poolOpen, dimensions: dimensions)
        let busy = Gauge(label: MetricCatalog.poolBusy, dimensions: dimensions)
        let waiting = Gauge(label: MetricCatalog.poolWaiting, dimensions: dimensions)
        let failures = CounterMirror(label: MetricCatalog.poolConnectErrors, dimensions: dimensions)
        metrics.addSampler {
            let sample = read()
            size.record(sample.size)
            open.record(sample.open)
            busy.record(sample.busy)
            waiting.record(sample.waiting)
            failures.sample(sample.connectFailures)
        }
    }

    /// Answers metrics requests on `nats` until the task is cancelled or the connection
    /// closes: this process's metrics, labelled with the service's name and instance id.
    public static func answer(on nats: NATSClient, service: String, id: String, logger: Logger) async {
        let subscriptions: [NATSSubscription]
        do {
            subscriptions = try subjects(service: service).map { try nats.subscribe(to: $0) }
        } catch {
            logger.error("cannot answer metrics requests: \(error)")
            return
        }
        var headers = NATSHeaders()
        headers.append(service, for: serviceHeader)
        await withTaskGroup(of: Void.self) { [headers] group in
            for subscription in subscriptions {
                group.addTask {
                    do {
                        for try await request in subscription {
                            guard let replyTo = request.replyTo else { continue }
                            let text = render(service: service, id: id)
                            try? nats.publish(text, to: replyTo, headers: headers)
                        }
                    } catch {
                        // The connection closed: nothing more to answer.
                    }
                }
            }
            await withTaskCancellationHandler {
                await group.waitForAll()
            } onCancel: {
                for subscription in subscriptions { try? subscription.unsubscribe() }
            }
        }
    }

    /// This process's metrics as one service instance's answer.
    public static func render(service: String, id: String, metrics: ProcessMetrics = .shared) -> String {
        metrics.render()
            .labelled([(name: "service", value: service), (name: "service_instance", value: id)])
            .rendered(help: { MetricCatalog.help[$0] })
    }
}

/// The figures of `/proc/self/stat` the metrics use.
struct ProcessStat {
    var cpuSeconds: Double
    var threads: Int
    var residentBytes: Int

    static func current() -> ProcessStat? {
        let fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return parse(buffer[..<count])
    }

    /// The fields after the command name (which may hold spaces and parentheses, so the
    /// split starts after the last `)`): utime and stime are fields 14 and 15, num_threads
    /// 20, rss (pages) 24, counted from 1 as proc(5) does.
    static func parse(_ bytes: ArraySlice<UInt8>) -> ProcessStat? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state).
        func field(_ number: Int) -> Int? {
            let position = number - 3
            guard fields.indices.contains(position) else { return nil }
            return Int(String(decoding: fields[position], as: UTF8.self))
        }
        guard let user = field(14), let system = field(15), let threads = field(20), let pages = field(24)
        else { return nil }
        let ticks = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
        let pageSize = max(1, sysconf(Int32(_SC_PAGESIZE)))
        return ProcessStat(
            cpuSeconds: Double(user + system) / ticks, threads: threads, residentBytes: pages * pageSize)
    }
}

/// Requests, errors, latency and in-flight of one endpoint, made once when it is registered
/// (a swift-metrics lookup per request would take the factory's lock).
final class EndpointMetrics: Sendable {
    private let endpoint: String
    private let requests: Counter
    private let duration: Metrics.Timer
    private let inFlight: Meter
    private let errors = Mutex<[Int: Counter]>([:])

    init(endpoint: String) {
        self.endpoint = endpoint
        let dimensions = [("endpoint", endpoint)]
        requests = Counter(label: MetricCatalog.serviceRequests, dimensions: dimensions)
        duration = Metrics.Timer(label: MetricCatalog.serviceDuration, dimensions: dimensions)
        inFlight = Meter(label: MetricCatalog.serviceInFlight, dimensions: dimensions)
    }

    func started() -> ContinuousClock.Instant {
        inFlight.increment()
        return .now
    }

    /// One request ended; `errorCode` when it was answered with an error.
    func finished(_ start: ContinuousClock.Instant, errorCode: Int?) {
        inFlight.decrement()
        requests.increment()
        duration.recordInterval(since: start)
        guard let errorCode else { return }
        let counter = errors.withLock { errors in
            if let counter = errors[errorCode] { return counter }
            let counter = Counter(
                label: MetricCatalog.serviceErrors,
                dimensions: [("endpoint", endpoint), ("code", "\(errorCode)")])
            errors[errorCode] = counter
            return counter
        }
        counter.increment()
    }
}

extension Metrics.Timer {
    /// Records the time since `start`.
    public func recordInterval(since start: ContinuousClock.Instant) {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
