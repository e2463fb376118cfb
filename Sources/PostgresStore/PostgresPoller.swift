import CPostgres
import Foundation
import Synchronization

/// One thread waiting in `epoll` on every connection's socket: when results arrive it reads
/// them and resumes the requests that wait for them. Statements are sent by the requesting
/// task itself, so a query costs no thread hop on the way out and one wake-up on the way
/// back; under load one wake-up reads many results.
final class PostgresPoller: Sendable {
    private let epoll: Int32
    private let wakeup: Int32
    private let connections = Mutex<[Int32: PostgresConnection]>([:])

    init(name: String) throws {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeup = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard epoll >= 0, wakeup >= 0 else {
            throw PostgresError(kind: .failed, message: "cannot create the poller: errno \(errno)")
        }
        var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: wakeup))
        epoll_ctl(epoll, EPOLL_CTL_ADD, wakeup, &event)
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
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

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            let count = epoll_wait(epoll, &events, Int32(events.count), -1)
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            for event in events.prefix(Int(count)) {
                let socket = event.data.fd
                if socket == wakeup {
                    close(epoll)
                    close(wakeup)
                    return
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
