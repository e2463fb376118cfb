import BlockingCalls
import Dispatch
import Synchronization

/// The batch span processor: finished spans wait in a bounded queue and are exported by one
/// thread of their own, in batches, every `OTEL_BSP_SCHEDULE_DELAY` or as soon as a batch is
/// full. A request only appends to the queue; when the queue is full (the collector is slow
/// or gone) spans are dropped and counted, never waited for.
final class SpanBatcher: Sendable {
    private struct Queue {
        var spans: [FinishedSpan] = []
        var dropped = 0
        var exported = 0
        var failedExports = 0
        var stopping = false
    }

    private let queue = Mutex(Queue())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let settings: TraceSettings
    private let export: @Sendable ([FinishedSpan]) -> Bool

    /// `export` sends one batch and says whether the collector took it.
    init(settings: TraceSettings, export: @escaping @Sendable ([FinishedSpan]) -> Bool) {
        self.settings = settings
        self.export = export
    }

    /// Starts the export thread.
    func start() -> Bool {
        NativeThread.start(name: "otlp-export") { [self] in run() }
    }

    func add(_ span: FinishedSpan) {
        let full = queue.withLock { queue -> Bool in
            guard queue.spans.count < settings.maxQueueSize else {
                queue.dropped += 1
                return false
            }
            queue.spans.append(span)
            return queue.spans.count == settings.maxExportBatchSize
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

    /// Spans dropped because the queue was full, batches exported and failed: for metrics.
    var counts: (dropped: Int, exported: Int, failedExports: Int) {
        queue.withLock { ($0.dropped, $0.exported, $0.failedExports) }
    }

    private func run() {
        while true {
            _ = wake.wait(timeout: .now() + .milliseconds(settings.scheduleDelayMilliseconds))
            while true {
                let (batch, stopping) = queue.withLock { queue in
                    let count = min(queue.spans.count, settings.maxExportBatchSize)
                    let batch = Array(queue.spans.prefix(count))
                    queue.spans.removeFirst(count)
                    return (batch, queue.stopping)
                }
                if !batch.isEmpty {
                    let accepted = export(batch)
                    queue.withLock { queue in
                        if accepted { queue.exported += batch.count } else { queue.failedExports += 1 }
                    }
                }
                if batch.count < settings.maxExportBatchSize {
                    if stopping {
                        finished.signal()
                        return
                    }
                    break
                }
            }
        }
    }
}
