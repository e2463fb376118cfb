import BlockingCalls
import CPostgres
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// One thread waiting in `epoll` on every connection's socket: when results arrive it reads
/// them and resumes the requests that wait for them. Statements are sent by the requesting
/// task itself, so a query costs no thread hop on the way out and one wake-up on the way
/// back; under load one wake-up reads many results.
///
/// The thread is also a task executor: tasks that prefer it (a service's request handlers)
/// run between polls, so a result resumes its request on the thread that read it, with no
/// second thread to wake.
final class PostgresPoller: TaskExecutor, Sendable {
    private let epoll: Int32
    private let wakeup: Int32
    /// Signalled when a job is enqueued while the thread waits in `epoll`.
    private let jobsReady: Int32
    private let connections = Mutex<[Int32: PostgresConnection]>([:])
    private let jobs = Mutex<[UnownedJob]>([])
    /// The thread is in (or about to enter) `epoll_wait` and must be woken for a new job.
    private let waiting = Atomic<Bool>(false)

    init(name: String) throws {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeup = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        jobsReady = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard epoll >= 0, wakeup >= 0, jobsReady >= 0 else {
            throw PostgresError(kind: .failed, message: "cannot create the poller: errno \(errno)")
        }
        for fd in [wakeup, jobsReady] {
            var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: fd))
            epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event)
        }
        guard NativeThread.start(name: name, { [self] in run() }) else {
            throw PostgresError(kind: .failed, message: "cannot start the poller thread")
        }
    }

    /// Ends the thread (connections are closed by the pool).
    func stop() {
        var one: UInt64 = 1
        _ = write(wakeup, &one, 8)
    }

    func watch(_ socket: Int32, _ connection: PostgresConnection) {
        connections.withLock { $0[socket] = connection }
        var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: socket))
        epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event)
    }

    /// Also wakes for writability while libpq has output it could not send at once.
    func setWantsWrite(_ socket: Int32, _ wantsWrite: Bool) {
        var event = epoll_event(
            events: EPOLLIN.rawValue | (wantsWrite ? EPOLLOUT.rawValue : 0), data: epoll_data_t(fd: socket))
        epoll_ctl(epoll, EPOLL_CTL_MOD, socket, &event)
    }

    /// Called before the socket is closed, so a reused descriptor number is never confused.
    func forget(_ socket: Int32) {
        epoll_ctl(epoll, EPOLL_CTL_DEL, socket, nil)
        _ = connections.withLock { $0.removeValue(forKey: socket) }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        if waiting.exchange(false, ordering: .acquiringAndReleasing) {
            var one: UInt64 = 1
            _ = write(jobsReady, &one, 8)
        }
    }

    /// Runs the jobs enqueued so far (and those they enqueue) until none is left.
    private func runJobs() {
        while true {
            let batch = jobs.withLock { jobs -> [UnownedJob] in
                defer { jobs.removeAll(keepingCapacity: true) }
                return jobs
            }
            if batch.isEmpty { return }
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            runJobs()
            waiting.store(true, ordering: .sequentiallyConsistent)
            // A job enqueued between the last run and the flag is run now, not after a wait.
            let pending = jobs.withLock { !$0.isEmpty }
            let count = epoll_wait(epoll, &events, Int32(events.count), pending ? 0 : -1)
            waiting.store(false, ordering: .sequentiallyConsistent)
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            for event in events.prefix(Int(count)) {
                let socket = event.data.fd
                if socket == wakeup {
                    close(epoll)
                    close(wakeup)
                    close(jobsReady)
                    return
                }
                if socket == jobsReady {
                    var value: UInt64 = 0
                    _ = read(jobsReady, &value, 8)
                    continue
                }
                guard let connection = connections.withLock({ $0[socket] }) else { continue }
                if event.events & EPOLLOUT.rawValue != 0 { connection.flush() }
                if event.events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                    connection.readResults()
                }
            }
        }
    }
}
