import BlockingCalls
import Dispatch

/// The batch span processor: finished spans, already in OTLP's wire format, wait in batches
/// of at most `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` and are exported by one thread of their own,
/// every `OTEL_BSP_SCHEDULE_DELAY` or as soon as a batch is full. A request only copies its
/// span's bytes into the open batch; when `OTEL_BSP_MAX_QUEUE_SIZE` spans wait (the collector
/// is slow or gone) spans are dropped and counted, never waited for.
final class SpanBatcher: Sendable {
    /// Spans as an export request carries them: each a `ScopeSpans.spans` field.
    private struct Batch {
        var spans = ProtobufWriter()
        var count = 0
    }

    private struct Queue {
        var open = Batch()
        var full: [Batch] = []
        var queued = 0
        /// Exported batches' storage, kept for the next batches.
        var spare: [ProtobufWriter] = []
        var dropped = 0
        var exported = 0
        var failedExports = 0
        var stopping = false

        /// Closes the open batch and opens one on spare storage.
        mutating func takeOpen() -> Batch {
            let batch = open
            open = Batch(spans: spare.popLast() ?? ProtobufWriter())
            return batch
        }
    }

    /// Spun on rather than slept on: every thread that ends a span meets here.
    private let queue = AdaptiveLock(Queue())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let settings: TraceSettings
    private let framing: OTLPProtobuf.Framing
    private let export: @Sendable ([UInt8]) -> Bool

    /// `export` sends one request body and says whether the collector took it.
    init(
        settings: TraceSettings, framing: OTLPProtobuf.Framing, export: @escaping @Sendable ([UInt8]) -> Bool
    ) {
        self.settings = settings
        self.framing = framing
        self.export = export
    }

    /// Starts the export thread.
    func start() -> Bool {
        NativeThread.start(name: "otlp-export") { [self] in run() }
    }

    /// Queues one finished span (a `Span` message's bytes).
    func add(_ span: [UInt8]) {
        let full = queue.withLock { queue -> Bool in
            guard queue.queued < settings.maxQueueSize else {
                queue.dropped += 1
                return false
            }
            queue.open.spans.bytes(2, span)  // ScopeSpans.spans
            queue.open.count += 1
            queue.queued += 1
            guard queue.open.count >= settings.maxExportBatchSize else { return false }
            queue.full.append(queue.takeOpen())
            return true
        }
        if full { wake.signal() }
    }

    /// Exports what is queued without waiting for the schedule.
    func flushSoon() { wake.signal() }

    /// Exports what is queued, then stops the thread; waits at most `timeout`.
    func shutdown(timeout: Duration) {
        queue.withLock { $0.stopping = true }
        wake.signal()
        let (seconds, attoseconds) = timeout.components
        _ = finished.wait(
            timeout: .now() + .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)))
    }

    /// Spans dropped because the queue was full, spans exported, failed exports: for metrics.
    var counts: (dropped: Int, exported: Int, failedExports: Int) {
        queue.withLock { ($0.dropped, $0.exported, $0.failedExports) }
    }

    private func run() {
        // One request body, its storage reused by every export.
        var body = ProtobufWriter()
        while true {
            _ = wake.wait(timeout: .now() + .milliseconds(settings.scheduleDelayMilliseconds))
            while true {
                let (taken, stopping) = queue.withLock { queue -> (Batch?, Bool) in
                    let batch: Batch? =
                        queue.full.isEmpty
                        ? (queue.open.count > 0 ? queue.takeOpen() : nil) : queue.full.removeFirst()
                    queue.queued -= batch?.count ?? 0
                    return (batch, queue.stopping)
                }
                if var batch = taken {
                    body.removeAll()
                    framing.write(spans: batch.spans.bytes, into: &body)
                    let accepted = export(body.bytes)
                    batch.spans.removeAll()
                    queue.withLock { queue in
                        if accepted { queue.exported += batch.count } else { queue.failedExports += 1 }
                        if queue.spare.count < 2 { queue.spare.append(batch.spans) }
                    }
                    if batch.count >= settings.maxExportBatchSize { continue }
                }
                if stopping {
                    finished.signal()
                    return
                }
                break
            }
        }
    }
}
