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

/// One libpq connection in pipeline mode, non-blocking: any task sends a statement on it
/// (under its lock) and waits; the poller reads results in order and resumes each waiter.
/// Every statement is followed by its own Sync, so each is its own implicit transaction:
/// one failing never rolls back or aborts another.
final class PostgresConnection: Sendable {
    typealias Waiter = CheckedContinuation<PostgresResultSet, any Error>

    /// What the connection expects back, in the order it was sent.
    private enum Expected {
        case prepare(String)
        case statement(Waiter, writes: Bool)
        case sync
    }

    private struct State: ~Copyable {
        var connection: OpaquePointer?
        var socket: Int32 = -1
        var prepared: Set<String> = []
        var expected: [Expected] = []
        var head = 0
        /// The latest result of the statement being read.
        var current: OpaquePointer?
        /// Why a prepare failed: the statement after it is aborted for this reason.
        var prepareError: PostgresError?

        var outstanding: Int { expected.count - head }
    }

    let conninfo: String
    /// Session settings applied on every (re)connect, before the pipeline starts.
    let settings: [PostgresPool.Setting]
    private let poller: PostgresPoller
    private let state = AdaptiveLock(State())
    /// Mirrors of the state that the pool reads for every statement without the lock (which
    /// the poller holds while it reads results).
    private let connected = Atomic<Bool>(false)
    private let statementsOutstanding = Atomic<Int>(0)
    private let writesOutstanding = Atomic<Int>(0)

    init(conninfo: String, settings: [PostgresPool.Setting], poller: PostgresPoller) {
        self.conninfo = conninfo
        self.settings = settings
        self.poller = poller
    }

    deinit {
        state.withLock { state in
            if let current = state.current { PQclear(current) }
            if let connection = state.connection { PQfinish(connection) }
        }
    }

    var isConnected: Bool { connected.load(ordering: .relaxed) }

    /// Statements sent and not yet answered.
    var outstanding: Int { statementsOutstanding.load(ordering: .relaxed) }

    /// Statements sent and not yet answered that may write (and so wait for a commit's flush).
    var outstandingWrites: Int { writesOutstanding.load(ordering: .relaxed) }

    /// Opens the connection if it has none (blocking: the pool calls it on a thread of its
    /// own). Failing to connect throws `unavailable` with `whileConnecting`.
    func connectIfNeeded() throws {
        if isConnected { return }
        guard let fresh = PQconnectdb(conninfo) else {
            throw PostgresError(kind: .unavailable, message: "out of memory connecting")
        }
        guard PQstatus(fresh) == CONNECTION_OK, Self.apply(settings, to: fresh),
            PQsetnonblocking(fresh, 1) == 0, PQenterPipelineMode(fresh) == 1
        else {
            let message = Self.message(PQerrorMessage(fresh))
            PQfinish(fresh)
            var error = PostgresError(kind: .unavailable, message: message)
            error.whileConnecting = true
            throw error
        }
        let socket = PQsocket(fresh)
        let handOver = HandOver(pointer: fresh)
        let installed = state.withLock { state -> Bool in
            guard state.connection == nil else { return false }
            state.connection = handOver.pointer
            state.socket = socket
            poller.watch(socket, self)
            connected.store(true, ordering: .relaxed)
            return true
        }
        if !installed { PQfinish(fresh) }
    }

    /// Sets each setting for the session (blocking, before non-blocking mode); `false` with
    /// the connection's error message set if one is refused.
    private static func apply(_ settings: [PostgresPool.Setting], to connection: OpaquePointer) -> Bool {
        for setting in settings {
            let result = setting.name.withCString { name in
                setting.value.withCString { value in
                    let values: [UnsafePointer<CChar>?] = [name, value]
                    return PQexecParams(
                        connection, "SELECT set_config($1, $2, false)", 2, nil, values, nil, nil, 0)
                }
            }
            let succeeded = PQresultStatus(result) == PGRES_TUPLES_OK
            PQclear(result)
            if !succeeded { return false }
        }
        return true
    }

    /// Sends one statement and waits for its result. With `preparedName`, the statement is
    /// prepared once per connection (in the same pipeline) and executed by name.
    func execute(_ sql: String, _ parameters: [String?], preparedName: String?) async throws
        -> PostgresResultSet
    {
        try await withCheckedThrowingContinuation { (waiter: Waiter) in
            if let error = send(
                sql, parameters, preparedName: preparedName, writes: !Self.isQuery(sql), waiter: waiter)
            {
                waiter.resume(throwing: error)
            }
        }
    }

    /// Queues the statement; returns the error instead when it could not be sent.
    private func send(
        _ sql: String, _ parameters: [String?], preparedName: String?, writes: Bool, waiter: Waiter
    )
        -> PostgresError?
    {
        var failed: [Waiter] = []
        var result: PostgresError?
        var wantsWrite = false
        var socket: Int32 = -1
        state.withLock { state in
            guard let connection = state.connection else {
                result = PostgresError(kind: .unavailable, message: "connection lost")
                return
            }
            socket = state.socket
            if let preparedName, !state.prepared.contains(preparedName) {
                guard PQsendPrepare(connection, preparedName, sql, Int32(parameters.count), nil) == 1 else {
                    result = sendFailure(&state, into: &failed)
                    return
                }
                state.prepared.insert(preparedName)
                state.expected.append(.prepare(preparedName))
            }
            let sent = withCStrings(parameters) { pointers in
                if let preparedName {
                    return PQsendQueryPrepared(
                        connection, preparedName, Int32(parameters.count), pointers, nil, nil, 0)
                }
                return PQsendQueryParams(connection, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
            }
            guard sent == 1 else {
                result = sendFailure(&state, into: &failed)
                return
            }
            state.expected.append(.statement(waiter, writes: writes))
            statementsOutstanding.add(1, ordering: .relaxed)
            if writes { writesOutstanding.add(1, ordering: .relaxed) }
            guard PQpipelineSync(connection) == 1 else {
                // The statement is queued with its waiter: failing the connection answers it.
                failed = disconnect(&state)
                return
            }
            state.expected.append(.sync)
            switch PQflush(connection) {
            case 0: break
            case 1: wantsWrite = true
            default: failed = disconnect(&state)
            }
        }
        finish(failed)
        if wantsWrite { poller.setWantsWrite(socket, true) }
        return result
    }

    /// Sends what libpq could not send at once (the poller calls it when the socket is
    /// writable).
    func flush() {
        var failed: [Waiter] = []
        var done = false
        let socket = state.withLock { state -> Int32 in
            guard let connection = state.connection else { return -1 }
            switch PQflush(connection) {
            case 0: done = true
            case 1: break
            default: failed = disconnect(&state)
            }
            return state.socket
        }
        finish(failed)
        if done && socket >= 0 { poller.setWantsWrite(socket, false) }
    }

    /// Reads every complete result that has arrived and resumes its waiter (the poller calls
    /// it when the socket is readable).
    func readResults() {
        var completed: [(Waiter, Result<PostgresResultSet, PostgresError>)] = []
        var failed: [Waiter] = []
        state.withLock { state in
            guard let connection = state.connection else { return }
            guard PQconsumeInput(connection) == 1, PQstatus(connection) == CONNECTION_OK else {
                failed = disconnect(&state)
                return
            }
            var emptyAtSync = 0
            while state.outstanding > 0 && PQisBusy(connection) == 0 {
                let result = PQgetResult(connection)
                switch state.expected[state.head] {
                case .sync:
                    // A Sync answers with PGRES_PIPELINE_SYNC; an empty answer here means
                    // libpq has nothing yet: wait for more input.
                    guard let result else {
                        emptyAtSync += 1
                        if emptyAtSync > 1 { return }
                        continue
                    }
                    let status = PQresultStatus(result)
                    PQclear(result)
                    if status == PGRES_PIPELINE_SYNC { Self.advance(&state) }
                case .prepare(let name):
                    if let result {
                        if PQresultStatus(result) != PGRES_COMMAND_OK {
                            state.prepareError = Self.error(result, connection)
                            state.prepared.remove(name)
                        }
                        PQclear(result)
                    } else {
                        Self.advance(&state)
                    }
                case .statement(let waiter, let writes):
                    if let result {
                        if let current = state.current { PQclear(current) }
                        state.current = result
                        continue
                    }
                    let outcome = Self.outcome(state.current, connection, prepareError: state.prepareError)
                    if case .failure = outcome, let current = state.current { PQclear(current) }
                    state.current = nil
                    state.prepareError = nil
                    Self.advance(&state)
                    statementsOutstanding.subtract(1, ordering: .relaxed)
                    if writes { writesOutstanding.subtract(1, ordering: .relaxed) }
                    completed.append((waiter, outcome))
                }
            }
        }
        for (waiter, outcome) in completed { waiter.resume(with: outcome) }
        finish(failed)
    }

    /// Closes the connection (the pool drops every connection after a server restart).
    func close() {
        let failed = state.withLock { state -> [Waiter] in disconnect(&state) }
        finish(failed)
    }

    /// A statement that only reads: `SELECT` first. Anything else may write, and a write
    /// holds the statements queued behind it on its connection until its commit is flushed.
    static func isQuery(_ sql: String) -> Bool {
        var keyword = sql.utf8.drop(while: { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D })
            .prefix(7).makeIterator()
        for expected in "select".utf8 {
            guard let byte = keyword.next(), byte | 0x20 == expected else { return false }
        }
        guard let after = keyword.next() else { return true }
        return after == 0x20 || after == 0x0A || after == 0x09 || after == 0x0D
    }

    // MARK: - Helpers (called with the lock held)

    private static func advance(_ state: inout State) {
        state.head += 1
        if state.head == state.expected.count {
            state.expected.removeAll(keepingCapacity: true)
            state.head = 0
        }
    }

    private static func outcome(
        _ result: OpaquePointer?, _ connection: OpaquePointer, prepareError: PostgresError?
    )
        -> Result<PostgresResultSet, PostgresError>
    {
        guard let result else { return .failure(PostgresError(kind: .failed, message: "no result")) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK: return .success(PostgresResultSet(result))
        case PGRES_PIPELINE_ABORTED:
            return .failure(prepareError ?? PostgresError(kind: .failed, message: "statement aborted"))
        default: return .failure(error(result, connection))
        }
    }

    private static func error(_ result: OpaquePointer, _ connection: OpaquePointer) -> PostgresError {
        let field = { (code: Character) -> String? in
            PQresultErrorField(result, Int32(code.asciiValue ?? 0)).map { String(cString: $0) }
        }
        return PostgresError(
            sqlState: field("C"), constraint: field("n"), message: message(PQresultErrorMessage(result)))
    }

    /// A send that libpq refused: the connection is broken; every waiter fails.
    private func sendFailure(_ state: inout State, into failed: inout [Waiter]) -> PostgresError {
        let message = state.connection.map { Self.message(PQerrorMessage($0)) } ?? "connection lost"
        failed = disconnect(&state)
        return PostgresError(kind: .unavailable, message: message.isEmpty ? "connection lost" : message)
    }

    /// Drops the connection; returns the waiters to fail. The poller forgets the socket
    /// before libpq closes it, so a reused descriptor number is never confused.
    private func disconnect(_ state: inout State) -> [Waiter] {
        var waiters: [Waiter] = []
        for entry in state.expected[state.head...] {
            if case .statement(let waiter, _) = entry { waiters.append(waiter) }
        }
        state.expected.removeAll()
        state.head = 0
        state.prepared.removeAll()
        state.prepareError = nil
        if let current = state.current { PQclear(current) }
        state.current = nil
        if state.socket >= 0 { poller.forget(state.socket) }
        state.socket = -1
        if let connection = state.connection { PQfinish(connection) }
        state.connection = nil
        connected.store(false, ordering: .relaxed)
        statementsOutstanding.store(0, ordering: .relaxed)
        writesOutstanding.store(0, ordering: .relaxed)
        return waiters
    }

    private func finish(_ failed: [Waiter]) {
        for waiter in failed {
            waiter.resume(throwing: PostgresError(kind: .unavailable, message: "connection lost"))
        }
    }

    static func message(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        var message = String(cString: text)
        while let last = message.last, last.isWhitespace { message.removeLast() }
        return message
    }
}

/// A new PGconn on its way into the locked state.
private struct HandOver: @unchecked Sendable {
    // @unchecked Sendable: only the thread that made the connection holds it until it is
    // stored under the lock (or freed).
    let pointer: OpaquePointer
}

/// Passes Swift strings to C as a `const char * const *` for the duration of `body`.
private func withCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R
{
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeMutableBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return body(nil) }
        return base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
            body($0)
        }
    }
}
