import BlockingCalls
import Metrics
import NATSWire
import ServiceRuntime
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// bcrypt with admission control. A hash takes tens of milliseconds of a core, so a burst of
/// logins queues up; a login that cannot start within `budget` is refused at once with a
/// 503 (the gateway adds `Retry-After`) instead of answering after the caller gave up. The
/// threads run at a lower priority, so steady traffic keeps its CPU during a burst.
final class PasswordHasher: Sendable {
    private struct Load {
        var waiting = 0
        /// Seconds one hash takes, as an exponential moving average.
        var average: Double
    }

    private let pool: BlockingPool
    private let budget: Double
    private let load: Mutex<Load>
    private let queueLength = Gauge(label: MetricCatalog.bcryptQueue)
    private let refused = Counter(label: MetricCatalog.bcryptRefused)

    init(threads: Int, budget: Duration, initialEstimate: Duration = .milliseconds(70)) {
        pool = BlockingPool(threads: threads, name: "bcrypt", niceness: 10)
        self.budget = Self.seconds(budget)
        load = Mutex(Load(average: Self.seconds(initialEstimate)))
    }

    /// Runs one bcrypt operation, or throws a 503 when the queue is too long to start it in time.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async throws -> T {
        let threads = pool.threadCount
        let budget = self.budget
        let queueLength = self.queueLength
        let admitted = load.withLock { load -> Bool in
            // Full rounds of work ahead of this one, each taking one average hash.
            guard Double(load.waiting / threads) * load.average <= budget else { return false }
            load.waiting += 1
            // Recorded under the lock, so the gauge never shows an older length last.
            queueLength.record(load.waiting)
            return true
        }
        guard admitted else {
            refused.increment()
            throw ServiceError(code: 503, message: "too many logins at once; retry shortly")
        }
        // The estimate can be wrong (the pace changes under load): a hash that has waited past
        // the budget when its turn comes is not started either, so no answer comes late.
        let queued = ContinuousClock.now
        let outcome = try await pool.run { () -> (T, Double)? in
            let start = ContinuousClock.now
            guard Self.seconds(start - queued) <= budget else { return nil }
            let value = body()
            return (value, Self.seconds(ContinuousClock.now - start))
        }
        load.withLock { load in
            load.waiting -= 1
            queueLength.record(load.waiting)
            if let elapsed = outcome?.1 { load.average = load.average * 0.8 + elapsed * 0.2 }
        }
        guard let (value, _) = outcome else {
            refused.increment()
            throw ServiceError(code: 503, message: "too many logins at once; retry shortly")
        }
        return value
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
