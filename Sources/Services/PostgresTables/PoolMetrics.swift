import PostgresStore
import ServiceRuntime

extension MetricsExport {
    /// Samples a PostgreSQL pool as `pool="postgres"`: a statement queued behind another on
    /// a pipelined connection counts as waiting.
    public static func observe(_ pool: PostgresPool, in metrics: ProcessMetrics = .shared) {
        observePool("postgres", in: metrics) { [weak pool] in
            guard let statistics = pool?.statistics else {
                return PoolSample(size: 0, open: 0, busy: 0, waiting: 0, connectFailures: 0)
            }
            return PoolSample(
                size: statistics.size, open: statistics.open, busy: statistics.busy,
                waiting: statistics.inFlight - statistics.busy, connectFailures: statistics.connectFailures)
        }
    }
}
