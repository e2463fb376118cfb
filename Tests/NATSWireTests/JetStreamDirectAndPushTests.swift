import Foundation
import NATSWire
import Synchronization
import TestHarness
import Testing

/// Direct get and push consumers against `nats-server -js`.
@Suite(.timeLimit(.minutes(3))) struct JetStreamDirectGetTests {
    @Test func directGetReadsWhatTheStreamAPIReads() async throws {
        try await withJetStream { nats, js in
            _ = try await js.addStream(
                StreamConfig(name: "DOCS", subjects: ["docs.>"], storage: .memory, allowDirect: true))
            var headers = NATSHeaders()
            headers.append("yes", for: "X-Kept")
            try nats.publish(Array("first".utf8), to: "docs.a", headers: headers)
            for (subject, text) in [("docs.b", "second"), ("docs.a", "third"), ("docs.b", "fourth")] {
                _ = try await js.publish(text, to: subject)
            }
            #expect(await eventually { (try? await js.streamInfo("DOCS").state.messages) == 4 })

            for sequence: UInt64 in 1...4 {
                let direct = try await js.directMessage("DOCS", sequence: sequence)
                let viaAPI = try await js.message("DOCS", sequence: sequence)
                #expect(direct == viaAPI, "sequence \(sequence)")
            }
            #expect(try await js.directMessage("DOCS", sequence: 1).headers?["X-Kept"] == "yes")
            let last = try await js.directLastMessage("DOCS", subject: "docs.a")
            #expect(last.sequence == 3 && String(decoding: last.payload, as: UTF8.self) == "third")
            #expect(try await js.directNextMessage("DOCS", subject: "docs.b", from: 3).sequence == 4)

            do {
                _ = try await js.directMessage("DOCS", sequence: 99)
                Issue.record("a missing sequence was found")
            } catch let error as JetStreamError {
                #expect(error.errorCode == JetStreamError.Code.messageNotFound)
            }
            do {
                _ = try await js.directLastMessage("DOCS", subject: "docs.none")
                Issue.record("a subject without messages was found")
            } catch let error as JetStreamError {
                #expect(error.errorCode == JetStreamError.Code.messageNotFound)
            }
        }
    }

    @Test func aStreamWithoutDirectAccessSaysSo() async throws {
        try await withJetStream { nats, js in
            _ = try await js.addStream(StreamConfig(name: "PLAIN", subjects: ["plain.>"], storage: .memory))
            _ = try await js.publish("x", to: "plain.a")
            do {
                // Nobody answers: the request times out (a short timeout keeps the test short).
                _ = try await nats.jetStream(timeout: .milliseconds(300)).directMessage("PLAIN", sequence: 1)
                Issue.record("direct get answered without allow_direct")
            } catch let error as JetStreamError {
                #expect(error.description.contains("allow_direct"))
            }
            // The stream API still reads it.
            #expect(try await js.message("PLAIN", sequence: 1).subject == "plain.a")
        }
    }

    @Test func keyValueReadsGoDirect() async throws {
        try await withJetStream { _, js in
            let kv = try await js.createKeyValue(KeyValueConfig(bucket: "direct", storage: .memory))
            #expect(try await js.streamInfo("KV_direct").config.allowDirect == true)
            let revision = try await kv.put("k", Array("v1".utf8))
            let entry = try await kv.get("k")
            #expect(
                entry?.value == Array("v1".utf8) && entry?.revision == revision && entry?.operation == .put)
            try await kv.delete("k")
            #expect(try await kv.get("k") == nil)
            #expect(try await kv.get("never") == nil)
            let bound = try await js.keyValue("direct")
            _ = try await bound.put("k", Array("v2".utf8))
            #expect(try await bound.get("k")?.value == Array("v2".utf8))
        }
    }
}

@Suite(.timeLimit(.minutes(3))) struct PushConsumerTests {
    static let messageSize = 64 * 1024

    /// A memory stream `name` on `<name>.>` with 128 messages of 64 KiB (8 MiB).
    static func fill(_ js: JetStream, stream name: String) async throws {
        _ = try await js.addStream(StreamConfig(name: name, subjects: ["\(name).>"], storage: .memory))
        let body = [UInt8](repeating: 0x61, count: messageSize)
        let publisher = try js.asyncPublisher(maxPending: 64)
        for _ in 1...128 { _ = try await publisher.publish(body, to: "\(name).item") }
        try await publisher.complete()
    }

    @Test func deliversEveryMessageInOrderWithFlowControl() async throws {
        try await withJetStream { _, js in
            // More than the server sends before it asks for flow control, so the delivery
            // only completes when the consumer answers.
            try await Self.fill(js, stream: "FEED")

            let consumer = try await js.pushConsumer(
                "FEED",
                ConsumerConfig(
                    durableName: "reader", ackPolicy: .explicit, flowControl: true, idleHeartbeat: .seconds(1)
                ))
            #expect(consumer.info.config.flowControl == true)
            var sequences: [UInt64] = []
            for try await message in consumer {
                #expect(message.payload.count == Self.messageSize)
                sequences.append(message.metadata.streamSequence)
                try message.ack()
                if sequences.count == 128 { break }
            }
            #expect(sequences == Array(1...128))
            #expect(await eventually { (try? await js.consumerInfo("FEED", "reader").ackPending) == 0 })
            try consumer.stop()
        }
    }

    @Test func theServerAsksForFlowControlOnTheDeliverSubject() async throws {
        // What PushConsumer answers, seen on a plain subscription: status 100 with a reply.
        try await withJetStream { nats, js in
            try await Self.fill(js, stream: "RAW")
            let inbox = nats.newInbox()
            let subscription = try nats.subscribe(to: inbox)
            _ = try await js.addConsumer(
                "RAW",
                ConsumerConfig(
                    ackPolicy: ConsumerConfig.AckPolicy.none, deliverSubject: inbox,
                    inactiveThreshold: .seconds(30),
                    flowControl: true, idleHeartbeat: .seconds(1)))
            var flowControlRequest: NATSMessage?
            for try await message in subscription where message.status == 100 && message.replyTo != nil {
                flowControlRequest = message
                break
            }
            #expect(flowControlRequest?.payload.isEmpty == true)
            try subscription.unsubscribe()
        }
    }

    @Test func membersOfADeliverGroupShareTheMessages() async throws {
        try await withJetStream { _, js in
            _ = try await js.addStream(StreamConfig(name: "JOBS", subjects: ["jobs.>"], storage: .memory))
            let config = ConsumerConfig(
                durableName: "pool", ackPolicy: .explicit, deliverSubject: "deliver.pool",
                deliverGroup: "workers")
            let first = try await js.pushConsumer("JOBS", config)
            let second = try await js.pushConsumer("JOBS", config)
            for index in 1...40 { _ = try await js.publish("job \(index)", to: "jobs.new") }
            let tally = Tally()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (member, consumer) in [(1, first), (2, second)] {
                    group.addTask {
                        for try await message in consumer {
                            try message.ack()
                            tally.add(message.metadata.streamSequence, by: member)
                        }
                    }
                }
                #expect(await eventually(timeout: .seconds(20)) { tally.total >= 40 })
                try first.stop()
                try second.stop()
                try await group.waitForAll()
            }
            let all = tally.byMember
            #expect(Set(all.values.flatMap { $0 }) == Set(1...40))
            #expect(tally.total == 40)
            #expect(all.count == 2, "each member got some: \(all.mapValues(\.count))")
        }
    }

    @Test func flowControlWithoutAHeartbeatIsRefused() async throws {
        try await withJetStream { _, js in
            _ = try await js.addStream(StreamConfig(name: "FC", subjects: ["fc.>"], storage: .memory))
            await #expect(throws: NATSError.self) {
                _ = try await js.pushConsumer("FC", ConsumerConfig(flowControl: true))
            }
        }
    }
}

/// Deliveries counted per member, from several tasks.
private final class Tally: Sendable {
    private let seen = Mutex<[Int: [UInt64]]>([:])
    func add(_ sequence: UInt64, by member: Int) {
        seen.withLock { $0[member, default: []].append(sequence) }
    }
    var byMember: [Int: [UInt64]] { seen.withLock { $0 } }
    var total: Int { seen.withLock { $0.values.reduce(0) { $0 + $1.count } } }
}

/// The continuous pull of a durable consumer (`js.messages`).
@Suite(.timeLimit(.minutes(3))) struct PullMessagesTests {
    @Test func deliversWhatIsStoredThenWhatComesLater() async throws {
        try await withJetStream { _, js in
            _ = try await js.addStream(StreamConfig(name: "TASKS", subjects: ["tasks.>"], storage: .memory))
            for index in 1...10 { _ = try await js.publish("task \(index)", to: "tasks.new") }
            _ = try await js.addConsumer("TASKS", ConsumerConfig(durableName: "doers", ackPolicy: .explicit))
            var iterator = try js.messages("TASKS", consumer: "doers", batch: 4).makeAsyncIterator()
            var sequences: [UInt64] = []
            while sequences.count < 20, let message = try await iterator.next() {
                sequences.append(message.metadata.streamSequence)
                try message.ack()
                if sequences.count == 10 {
                    for index in 11...20 { _ = try await js.publish("task \(index)", to: "tasks.new") }
                }
            }
            #expect(sequences == Array(1...20))
            #expect(await eventually { (try? await js.consumerInfo("TASKS", "doers").ackPending) == 0 })
        }
    }

    @Test func aMissingConsumerIsAnError() async throws {
        try await withJetStream { _, js in
            _ = try await js.addStream(StreamConfig(name: "NONE", subjects: ["none.>"], storage: .memory))
            var iterator = try js.messages("NONE", consumer: "ghost").makeAsyncIterator()
            do {
                _ = try await iterator.next()
                Issue.record("a missing consumer delivered")
            } catch let error as JetStreamError {
                #expect(error.errorCode == JetStreamError.Code.consumerNotFound)
            }
            #expect(throws: NATSError.self) {
                _ = try js.messages("NONE", consumer: "c", expires: .seconds(1))
            }
        }
    }
}

extension JetStreamRestartTests {
    /// A restart loses the connection and the open pulls. After SIGTERM nothing acked comes
    /// again; a killed server may forget acks it confirmed but had not written yet (as in
    /// the fetch test above), so after SIGKILL only "everything arrives" is checked.
    @Test(arguments: [false, true])
    func aContinuousPullSurvivesARestart(killed: Bool) async throws {
        let (storage, first, nats) = try await Self.restartableServer()
        defer { try? FileManager.default.removeItem(at: storage) }
        let port = first.port
        let js = nats.jetStream(timeout: .seconds(2))
        _ = try await js.addStream(StreamConfig(name: "QUEUE", subjects: ["queue"], storage: .file))
        let publisher = try js.asyncPublisher(maxPending: 256)
        for index in 1...300 { _ = try await publisher.publish(Array(String(index).utf8), to: "queue") }
        try await publisher.complete()
        publisher.close()
        _ = try await js.addConsumer(
            // An ack wait no busy machine reaches: a message still queued here when it ran out
            // would be delivered again, legitimately, after its first copy was acked.
            "QUEUE", ConsumerConfig(durableName: "workers", ackPolicy: .explicit, ackWait: .seconds(60)))

        var iterator = try js.messages(
            "QUEUE", consumer: "workers", batch: 50, expires: .seconds(2), heartbeat: .milliseconds(500)
        ).makeAsyncIterator()
        var received = Set<UInt64>()
        var confirmed = Set<UInt64>()
        var cameAgain: [UInt64] = []
        var second: NATSServer?
        while received.count < 300, let message = try await iterator.next() {
            let sequence = message.metadata.streamSequence
            if confirmed.contains(sequence) { cameAgain.append(sequence) }
            received.insert(sequence)
            // A double ack is confirmed by the server: what it confirmed must never come back.
            if (try? await message.doubleAck(timeout: .seconds(2))) != nil { confirmed.insert(sequence) }
            if received.count == 100, second == nil {
                Self.bringDown(first, killed: killed)
                second = try NATSServer(port: port, arguments: ["-js", "-sd", storage.path])
            }
        }
        #expect(received == Set(1...300))
        if !killed {
            #expect(
                cameAgain.isEmpty,
                "\(cameAgain.count) came again after their acks were confirmed, from \(cameAgain.min() ?? 0) to \(cameAgain.max() ?? 0)\(Self.lastWords(of: first))"
            )
        }
        second?.stop()
        await nats.close()
    }
}

@Suite(.timeLimit(.minutes(3))) struct JetStreamListTests {
    @Test func streamAndConsumerListsGoThroughEveryPage() async throws {
        try await withJetStream { _, js in
            // The server answers 256 streams per page: 260 need two.
            for index in 0..<260 {
                _ = try await js.addStream(
                    StreamConfig(name: "S\(index)", subjects: ["s.\(index)"], storage: .memory))
            }
            let streams = try await js.streams()
            #expect(streams.count == 260)
            #expect(Set(streams.map(\.config.name)) == Set((0..<260).map { "S\($0)" }))
            #expect(try await js.streams(subject: "s.7").map(\.config.name) == ["S7"])

            _ = try await js.publish("x", to: "s.1")
            for name in ["a", "b", "c"] {
                _ = try await js.addConsumer("S1", ConsumerConfig(durableName: name, ackPolicy: .explicit))
            }
            let consumers = try await js.consumers("S1")
            #expect(consumers.map(\.name).sorted() == ["a", "b", "c"])
            #expect(consumers.allSatisfy { $0.stream == "S1" && $0.pending == 1 })

            // An update changes what the server allows to change, and refuses the rest.
            var config = ConsumerConfig(durableName: "a", ackPolicy: .explicit, ackWait: .seconds(90))
            config.maxAckPending = 10
            let updated = try await js.updateConsumer("S1", config)
            #expect(updated.config.ackWaitNanoseconds == 90_000_000_000 && updated.config.maxAckPending == 10)
            await #expect(throws: JetStreamError.self) {
                _ = try await js.updateConsumer(
                    "S1", ConsumerConfig(durableName: "a", ackPolicy: .explicit, filterSubject: "s.other"))
            }
            await #expect(throws: NATSError.self) { _ = try await js.updateConsumer("S1", ConsumerConfig()) }
        }
    }
}
