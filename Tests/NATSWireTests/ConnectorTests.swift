import Synchronization
import Testing

@testable import NATSWire

#if canImport(Glibc)
    import Glibc
#endif

/// A scripted owner for the connector: which servers answer, what each attempt did, the
/// waits asked for (never slept: the tests take no time).
final class ScriptedHost: ConnectorHost, @unchecked Sendable {
    // @unchecked Sendable: used by one test at a time, from the test's own thread.
    enum Answer {
        case accept
        case refuse
        case refuseCredentials
    }

    /// What each server does, by port; servers absent here refuse.
    var answers: [Int: Answer] = [:]
    /// Changes the answers before a given pass's first attempt (a server coming back).
    var answersBeforeAttempt: [Int: [Int: Answer]] = [:]
    private(set) var attempts: [Int] = []
    private(set) var waits: [Duration] = []
    var closing = false
    var acceptsResume = true
    private(set) var resumed: [Int] = []
    private(set) var failedAttempts = 0

    func dial(_ address: ServerAddress) throws(NATSError) -> Session {
        if let changed = answersBeforeAttempt[attempts.count] { answers = changed }
        attempts.append(address.port)
        switch answers[address.port] ?? .refuse {
        case .accept:
            var pair: [Int32] = [0, 0]
            _ = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair)
            close(pair[1])
            return Session(
                transport: TCPSocket.adopting(connected: pair[0]), parser: ProtocolParser(), address: address)
        case .refuse: throw NATSError(.connectionFailed, "connection refused by \(address.port)")
        case .refuseCredentials: throw NATSError(.authorizationViolation, "Authorization Violation")
        }
    }

    func waitWhileDisconnected(_ duration: Duration) -> Bool {
        waits.append(duration)
        return !closing
    }

    var isClosing: Bool { closing }

    func attemptFailed() { failedAttempts += 1 }

    func resume(_ session: Session) -> Bool {
        resumed.append(session.address.port)
        return acceptsResume
    }
}

/// The connector alone: which servers it tries, in what order, how long it waits between
/// passes and when it gives up. No sockets to servers, no time spent.
@Suite(.timeLimit(.minutes(5))) struct ConnectorTests {
    private func connector(_ ports: [Int], policy: ReconnectPolicy = .default) throws -> Connector {
        let addresses = try ports.map { try ServerAddress(parsing: "nats://10.0.0.\($0 % 250):\($0)") }
        return Connector(
            pool: ServerPool(
                addresses: addresses, randomize: false, maxAttemptsPerServer: policy.maxAttemptsPerServer),
            policy: policy, random: { 0.5 })
    }

    @Test func theFirstConnectTriesEachServerOnceInOrder() throws {
        let host = ScriptedHost()
        host.answers = [4223: .accept]
        let session = try connector([4222, 4223, 4224]).connectFirst(host)
        #expect(session.address.port == 4223)
        #expect(host.attempts == [4222, 4223])
        #expect(host.waits.isEmpty)

        let nobody = ScriptedHost()
        #expect(throws: NATSError.self) { try connector([4222, 4223]).connectFirst(nobody) }
        #expect(nobody.attempts == [4222, 4223])
    }

    @Test func refusedCredentialsEndTheFirstConnectAtOnce() throws {
        let host = ScriptedHost()
        host.answers = [4222: .refuseCredentials, 4223: .accept]
        do {
            _ = try connector([4222, 4223]).connectFirst(host)
            Issue.record("connected although the credentials were refused")
        } catch {
            #expect((error as? NATSError)?.kind == .authorizationViolation)
        }
        #expect(host.attempts == [4222])
    }

    @Test func reconnectingTriesAtOnceThenBacksOffWithJitter() throws {
        let policy = ReconnectPolicy(
            initialWait: .seconds(2), maxWait: .seconds(5), multiplier: 2, jitter: .milliseconds(100),
            maxAttemptsPerServer: nil)
        let host = ScriptedHost()
        // Both servers down for four passes; the second is back for the fifth.
        host.answersBeforeAttempt = [8: [4223: .accept]]
        let result = try connector([4222, 4223], policy: policy).reconnect(
            host, avoiding: nil, after: NATSError(.connectionClosed, "lost"))
        guard case .success(let session) = result else {
            Issue.record("did not reconnect: \(result)")
            return
        }
        #expect(session.address.port == 4223 && host.resumed == [4223])
        #expect(host.attempts == [4222, 4223, 4222, 4223, 4222, 4223, 4222, 4223, 4222, 4223])
        // At once, then 2 s, 4 s, 5 s (the cap), 5 s; each with half the jitter.
        #expect(
            host.waits == [
                .zero, .milliseconds(2050), .milliseconds(4050), .milliseconds(5050), .milliseconds(5050),
            ])
        #expect(host.failedAttempts == 9)
    }

    @Test func aServerGoingAwayIsTriedLastInTheFirstPass() throws {
        let host = ScriptedHost()
        host.answers = [4222: .accept, 4223: .accept]
        let leaving = try ServerAddress(parsing: "nats://10.0.0.222:4222")
        let result = try connector([4222, 4223]).reconnect(
            host, avoiding: leaving, after: NATSError(.connectionClosed, "lame duck"))
        guard case .success(let session) = result else {
            Issue.record("did not reconnect")
            return
        }
        #expect(session.address.port == 4223 && host.attempts == [4223])
    }

    @Test func givesUpWhenEveryServerUsedUpItsAttempts() throws {
        let host = ScriptedHost()
        let policy = ReconnectPolicy(initialWait: .milliseconds(1), jitter: .zero, maxAttemptsPerServer: 3)
        let result = try connector([4222, 4223], policy: policy).reconnect(
            host, avoiding: nil, after: NATSError(.connectionClosed, "lost"))
        guard case .failure(let error) = result else {
            Issue.record("reconnected to servers that refuse")
            return
        }
        #expect(error.kind == .connectionClosed && error.message.contains("every server"))
        #expect(host.attempts.count == 6 && host.waits.count == 3)
    }

    @Test func refusedCredentialsTwiceDropAServer() throws {
        let host = ScriptedHost()
        host.answers = [4222: .refuseCredentials]
        let policy = ReconnectPolicy(initialWait: .milliseconds(1), jitter: .zero, maxAttemptsPerServer: nil)
        let result = try connector([4222], policy: policy).reconnect(
            host, avoiding: nil, after: NATSError(.connectionClosed, "lost"))
        guard case .failure(let error) = result else {
            Issue.record("reconnected with refused credentials")
            return
        }
        #expect(error.kind == .authorizationViolation && host.attempts == [4222, 4222])
    }

    @Test func closingStopsReconnecting() throws {
        let waiting = ScriptedHost()
        waiting.closing = true
        let whileWaiting = try connector([4222]).reconnect(
            waiting, avoiding: nil, after: NATSError(.connectionClosed, "lost"))
        #expect(whileWaiting.failureKind == .closed && waiting.attempts.isEmpty)

        let resuming = ScriptedHost()
        resuming.answers = [4222: .accept]
        resuming.acceptsResume = false
        let afterConnecting = try connector([4222]).reconnect(
            resuming, avoiding: nil, after: NATSError(.connectionClosed, "lost"))
        #expect(afterConnecting.failureKind == .closed && resuming.resumed == [4222])
    }
}

extension Result where Failure == NATSError {
    fileprivate var failureKind: NATSError.Kind? {
        if case .failure(let error) = self { error.kind } else { nil }
    }
}
