import Foundation
import NATSWire
import Synchronization
import TestHarness
import Testing

@Suite("Conformance against a live nats-server", .timeLimit(.minutes(5)))
struct ConformanceTests {
    @Test func handshakeAndInfo() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url) { $0.name = "conformance" }
            let info = try #require(nats.serverInfo)
            #expect(!info.serverID.isEmpty)
            #expect(info.version.hasPrefix("2."))
            #expect(info.proto >= 1)
            #expect(info.headers)
            #expect(info.maxPayload == 1_048_576)
            #expect(nats.status == .connected)
            try await nats.flush()
            await nats.close()
            #expect(nats.status == .closed)
            #expect(nats.closeReason == nil)
        }
    }

    @Test func connectToNothingFailsQuickly() async throws {
        // A port that was free a moment ago: the server bound it, then stopped.
        let server = try NATSServer()
        let url = server.url
        server.stop()
        var options = NATSOptions(url: url)
        options.connectTimeout = .seconds(60)
        let start = ContinuousClock.now
        do {
            _ = try await NATSClient.connect(options)
            Issue.record("connected to a closed port")
        } catch {
            #expect(error.kind == .connectionFailed)
        }
        // Refused, not waited out: far below the 60 s connect timeout even on a busy machine.
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func publishSubscribeWithAndWithoutHeaders() async throws {
        try await withNATSServer { server in
            let publisher = try await connect(server.url)
            let subscriber = try await connect(server.url)
            let subscription = try subscriber.subscribe(to: "orders.>")
            try await subscriber.flush()

            var headers = NATSHeaders()
            headers.append("one", for: "X-Multi")
            headers.append("two", for: "X-Multi")
            headers.append("Keep", for: "CaSe-Kept")
            try publisher.publish("plain", to: "orders.new")
            try publisher.publish(
                "with headers", to: "orders.eu.new", replyTo: "answers.here", headers: headers)
            try publisher.publish([UInt8](), to: "orders.empty")
            try await publisher.flush()

            let messages = try await collect(subscription, count: 3)
            #expect(
                messages[0].subject == "orders.new" && messages[0].string == "plain"
                    && messages[0].headers == nil)
            #expect(messages[1].subject == "orders.eu.new" && messages[1].replyTo == "answers.here")
            #expect(messages[1].headers?.values(for: "X-Multi") == ["one", "two"])
            #expect(messages[1].headers?.fields.contains { $0.name == "CaSe-Kept" } == true)
            #expect(messages[2].payload.isEmpty)

            let stats = subscriber.statistics
            #expect(stats.inMessages == 3)
            #expect(stats.inBytes == UInt64("plain".utf8.count + "with headers".utf8.count))
            #expect(publisher.statistics.outMessages == 3)
            await publisher.close()
            await subscriber.close()
        }
    }

    @Test func queueGroupSharesMessagesExactly() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            let a = try nats.subscribe(to: "work", queue: "workers")
            let b = try nats.subscribe(to: "work", queue: "workers")
            let all = try nats.subscribe(to: "work")
            try await nats.flush()
            let total = 1000
            for i in 0..<total { try nats.publish("job \(i)", to: "work") }
            try await nats.flush()

            let everything = try await collect(all, count: total)
            #expect(everything.count == total)
            try a.unsubscribe()
            try b.unsubscribe()
            var countA = 0
            var countB = 0
            var seen = Set<String>()
            for try await message in a { countA += 1; seen.insert(message.string) }
            for try await message in b { countB += 1; seen.insert(message.string) }
            #expect(countA + countB == total)
            #expect(seen.count == total)
            #expect(countA > 0 && countB > 0)
            await nats.close()
        }
    }

    @Test func unsubscribeAfterMaxDeliversExactlyMax() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            let subscription = try nats.subscribe(to: "limited")
            try subscription.unsubscribe(after: 5)
            try await nats.flush()
            for i in 0..<20 { try nats.publish("\(i)", to: "limited") }
            try await nats.flush()
            var received: [String] = []
            for try await message in subscription { received.append(message.string) }  // ends by itself
            #expect(received == ["0", "1", "2", "3", "4"])
            await nats.close()
        }
    }

    @Test func requestReply() async throws {
        try await withNATSServer { server in
            let responder = try await connect(server.url)
            let requester = try await connect(server.url)
            try responder.subscribe(to: "math.double") { message in
                let value = Int(message.string) ?? 0
                try? responder.reply(to: message, with: Array(String(value * 2).utf8))
            }
            try await responder.flush()
            let answer = try await requester.request("21", to: "math.double")
            #expect(answer.string == "42")
            await responder.close()
            await requester.close()
        }
    }

    @Test func thousandConcurrentRequestsGetTheirOwnAnswers() async throws {
        try await withNATSServer { server in
            let responder = try await connect(server.url)
            let requester = try await connect(server.url)
            // An async responder this time: the AsyncSequence path.
            let subscription = try responder.subscribe(to: "echo.id")
            let serving = Task {
                for try await message in subscription {
                    try responder.reply(to: message, with: Array(("re:" + message.string).utf8))
                }
            }
            try await responder.flush()
            let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<1000 {
                    group.addTask {
                        let reply = try await requester.request("\(i)", to: "echo.id", timeout: .seconds(10))
                        return (i, reply.string)
                    }
                }
                var out: [Int: String] = [:]
                for try await (i, text) in group { out[i] = text }
                return out
            }
            #expect(answers.count == 1000)
            #expect(answers.allSatisfy { $0.value == "re:\($0.key)" })
            serving.cancel()
            await responder.close()
            await requester.close()
        }
    }

    @Test func noRespondersFailsAtOnce() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            try await nats.flush()
            let start = ContinuousClock.now
            do {
                _ = try await nats.request("x", to: "nobody.home", timeout: .seconds(30))
                Issue.record("request without responders succeeded")
            } catch let error as NATSError {
                #expect(error.kind == .noResponders)
            }
            let elapsed = ContinuousClock.now - start
            // The server's 503 ends it: far sooner than the 30 s timeout. (How soon is measured
            // by the benchmark, not asserted here: a loaded CI machine would make it flaky.)
            #expect(elapsed < .seconds(5), "no responders took \(elapsed)")
            await nats.close()
        }
    }

    @Test func requestTimesOut() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            let silent = try nats.subscribe(to: "silent")  // receives, never answers
            try await nats.flush()
            let start = ContinuousClock.now
            do {
                _ = try await nats.request("x", to: "silent", timeout: .milliseconds(250))
                Issue.record("request to a silent subscriber succeeded")
            } catch let error as NATSError {
                #expect(error.kind == .timeout)
            }
            let elapsed = ContinuousClock.now - start
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(10), "timeout after \(elapsed)")
            #expect(silent.pendingCount == 1)
            // The connection is still fine afterwards.
            try await nats.flush()
            await nats.close()
        }
    }

    @Test func requestManyGathersRepliesUntilEnoughOrTheDeadline() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            var responders: [NATSSubscription] = []
            for index in 0..<3 {
                let subscription = try nats.subscribe(to: "many")
                responders.append(subscription)
                Task {
                    for try await message in subscription {
                        try nats.reply(to: message, with: Array("r\(index)".utf8))
                    }
                }
            }
            try await nats.flush()
            // Returns as soon as two came, long before the deadline.
            let two = try await nats.requestMany([], to: "many", timeout: .seconds(30), maxReplies: 2)
            #expect(two.count == 2)
            // All three within a deadline.
            let all = try await nats.requestMany([], to: "many", timeout: .seconds(2))
            #expect(Set(all.map(\.string)) == ["r0", "r1", "r2"])
            // Nobody listening: no replies, not an error.
            #expect(try await nats.requestMany([], to: "nobody", timeout: .milliseconds(200)).isEmpty)
            for subscription in responders { try subscription.unsubscribe() }
            await nats.close()
        }
    }

    @Test func cancelledRequestEndsPromptly() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            let slow = try nats.subscribe(to: "slow")
            try await nats.flush()
            let task = Task { try await nats.request("x", to: "slow", timeout: .seconds(30)) }
            // Cancelled once the request is on its way (it arrived here), not before.
            _ = try await collect(slow, count: 1)
            task.cancel()
            let result = await task.result
            #expect(throws: CancellationError.self) { try result.get() }
            await nats.close()
        }
    }

    @Test func echoOff() async throws {
        try await withNATSServer { server in
            let quiet = try await connect(server.url) { $0.echo = false }
            let other = try await connect(server.url)
            let own = try quiet.subscribe(to: "chatter")
            let foreign = try other.subscribe(to: "chatter")
            try await quiet.flush()
            try await other.flush()
            try quiet.publish("from quiet", to: "chatter")
            try other.publish("from other", to: "chatter")
            try await quiet.flush()
            try await other.flush()
            let seenByOther = try await collect(foreign, count: 2)
            #expect(Set(seenByOther.map(\.string)) == ["from quiet", "from other"])
            let seenByQuiet = try await collect(own, count: 1)
            #expect(seenByQuiet.map(\.string) == ["from other"])
            // An echo of its own message would come before the answer to this ping.
            try await quiet.flush()
            #expect(own.pendingCount == 0)
            await quiet.close()
            await other.close()
        }
    }

    static let permissionsConfig = """
        authorization {
          users = [
            { user: "limited", password: "pw", permissions: {
                publish: { allow: ["public.>", "_INBOX.>"] },
                subscribe: { allow: ["public.>", "_INBOX.>"] } } }
          ]
        }
        """

    @Test func permissionViolations() async throws {
        try await withNATSServer(config: Self.permissionsConfig) { server in
            let nats = try await connect("nats://limited:pw@127.0.0.1:\(server.port)")
            let events = nats.events()
            let denied = try nats.subscribe(to: "secret.stuff")
            do {
                for try await _ in denied { Issue.record("message on a denied subscription") }
                Issue.record("denied subscription ended without an error")
            } catch let error as NATSError {
                #expect(error.kind == .permissionsViolation)
                #expect(error.message.contains("secret.stuff"))
            }
            try nats.publish("x", to: "secret.publish")
            var sawPublishViolation = false
            for await event in events {
                if case .serverError(let error) = event, error.kind == .permissionsViolation,
                    error.message.contains("secret.publish")
                {
                    sawPublishViolation = true
                    break
                }
            }
            #expect(sawPublishViolation)
            // The connection survives: allowed traffic still flows.
            let allowed = try nats.subscribe(to: "public.news")
            try await nats.flush()
            try nats.publish("ok", to: "public.news")
            #expect(try await collect(allowed, count: 1).first?.string == "ok")
            #expect(nats.status == .connected)
            await nats.close()
        }
    }

    @Test func wrongCredentialsFailConnect() async throws {
        try await withNATSServer(config: Self.permissionsConfig) { server in
            do {
                _ = try await NATSClient.connect(url: "nats://limited:wrong@127.0.0.1:\(server.port)")
                Issue.record("connected with a wrong password")
            } catch let error as NATSError {
                #expect(error.kind == .authorizationViolation)
                #expect(error.message.lowercased().contains("authorization"))
            }
        }
    }

    @Test func maxPayloadIsEnforcedBeforeSending() async throws {
        try await withNATSServer(config: "max_payload: 1024") { server in
            let nats = try await connect(server.url)
            #expect(nats.serverInfo?.maxPayload == 1024)
            let before = nats.statistics.outBytes
            do {
                try nats.publish([UInt8](repeating: 1, count: 1025), to: "big")
                Issue.record("oversized publish accepted")
            } catch let error as NATSError {
                #expect(error.kind == .maxPayloadExceeded)
            }
            #expect(nats.statistics.outBytes == before)
            try nats.publish([UInt8](repeating: 1, count: 1024), to: "big")
            try await nats.flush()
            #expect(nats.status == .connected)
            await nats.close()
        }
    }

    @Test func invalidSubjectsAreRefusedLocally() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            for subject in ["", "a..b", "a b", "a.>", "*"] {
                #expect(throws: NATSError.self) { try nats.publish("x", to: subject) }
            }
            #expect(throws: NATSError.self) { try nats.subscribe(to: "a.>.b") }
            #expect(throws: NATSError.self) { try nats.subscribe(to: "ok", queue: "bad queue") }
            try await nats.flush()
            await nats.close()
        }
    }

    @Test func serverKilledMidStreamGivesAClearErrorWithoutReconnect() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let nats = try await connect(server.url) { $0.reconnect = .disabled }
        let subscription = try nats.subscribe(to: "stream")
        try await nats.flush()
        let pending = Task { try await nats.request("x", to: "stream", timeout: .seconds(30)) }
        let (received, receivedContinuation) = AsyncStream<Void>.makeStream()
        let consumer = Task { () -> NATSError? in
            do {
                for try await _ in subscription { receivedContinuation.yield() }
                return nil
            } catch let error as NATSError {
                return error
            } catch {
                return nil
            }
        }
        // The request is on its way (the consumer has it) when the server dies.
        for await _ in received { break }
        let start = ContinuousClock.now
        server.kill()
        let error = await consumer.value
        #expect(error?.kind == .connectionClosed)
        await #expect(throws: NATSError.self) { try await pending.value }
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(await eventually { nats.status == .closed })
        #expect(nats.closeReason?.kind == .connectionClosed)
        #expect(throws: NATSError.self) { try nats.publish("late", to: "stream") }
        await nats.close()
    }

    @Test func answersServerPings() async throws {
        // The server pings every 100 ms and drops clients that miss 2 in a row.
        try await withNATSServer(config: "ping_interval: \"100ms\"\nping_max: 2") { server in
            let nats = try await connect(server.url)
            // Five pings answered: a client that did not answer would have been dropped after two.
            #expect(await eventually(timeout: .seconds(30)) { nats.statistics.serverPings >= 5 })
            #expect(nats.status == .connected && nats.statistics.reconnects == 0)
            try await nats.flush()
            await nats.close()
        }
    }

    @Test func staleConnectionIsDetected() async throws {
        let server = try NATSServer()
        defer {
            kill(server.pid, SIGCONT)
            server.stop()
        }
        let nats = try await connect(server.url) {
            $0.reconnect = .disabled
            $0.pingInterval = .milliseconds(50)
            $0.maxPingsOutstanding = 2
        }
        try await nats.flush()
        kill(server.pid, SIGSTOP)  // the server stops answering, the socket stays open
        #expect(await eventually(timeout: .seconds(10)) { nats.status == .closed })
        #expect(nats.closeReason?.kind == .staleConnection)
        await nats.close()
    }
}
