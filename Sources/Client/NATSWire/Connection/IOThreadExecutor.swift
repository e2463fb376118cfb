import Synchronization

/// Runs tasks on the client's I/O thread, between its reads and writes.
///
/// A reply resumes its request on the thread that read it: for a task that prefers this
/// executor no second thread has to wake up (with the spin before sleep, the thread that
/// sends the next request is already running). Jobs run in order, one at a time, between
/// socket turns; a job that blocks holds up the connection's reading and writing meanwhile.
///
/// Once the client is closed, jobs go to the global concurrent executor.
final class IOThreadExecutor: TaskExecutor, Sendable {
    private struct Queue {
        var jobs: [UnownedJob] = []
        /// The emptied array of the last batch, kept so taking a batch allocates nothing.
        var spare: [UnownedJob] = []
        /// The I/O thread is about to wait in `poll`: the next job must signal it.
        var wakeNeeded = false
        /// The I/O thread has ended: jobs run elsewhere.
        var closed = false
    }

    private let queue = Mutex(Queue())
    private let notifier: EventNotifier

    init(notifier: EventNotifier) {
        self.notifier = notifier
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        enum After { case nothing, wake, elsewhere }
        let after = queue.withLock { q -> After in
            if q.closed { return .elsewhere }
            q.jobs.append(unowned)
            guard q.wakeNeeded else { return .nothing }
            q.wakeNeeded = false
            return .wake
        }
        switch after {
        case .nothing: break
        case .wake: notifier.signal()
        case .elsewhere: globalConcurrentExecutor.enqueue(ExecutorJob(unowned))
        }
    }

    /// I/O thread: runs the jobs enqueued so far, and those they enqueue, until none is left.
    func runJobs() {
        while true {
            var batch = queue.withLock { q -> [UnownedJob] in
                if q.jobs.isEmpty { return [] }
                var taken = q.spare
                q.spare = []
                swap(&taken, &q.jobs)
                return taken
            }
            if batch.isEmpty { return }
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            batch.removeAll(keepingCapacity: true)
            queue.withLock { $0.spare = batch }
        }
    }

    /// I/O thread: before waiting, asks to be signalled by the next job. `false` if a job is
    /// already waiting to run.
    func prepareToSleep() -> Bool {
        queue.withLock { q in
            if !q.jobs.isEmpty { return false }
            q.wakeNeeded = true
            return true
        }
    }

    /// The I/O thread is awake: enqueuers need not signal.
    func markAwake() {
        queue.withLock { $0.wakeNeeded = false }
    }

    /// The I/O thread is ending: what is queued, and every later job, runs on the global
    /// concurrent executor.
    func shutDown() {
        let stranded = queue.withLock { q -> [UnownedJob] in
            q.closed = true
            defer { q.jobs = [] }
            return q.jobs
        }
        for job in stranded { globalConcurrentExecutor.enqueue(ExecutorJob(job)) }
    }
}
