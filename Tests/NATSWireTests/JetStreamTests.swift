import Foundation
import NATSWire
import Synchronization
import TestHarness
import Testing

/// A nats-server with JetStream (file storage in its own folder), one client.
func withJetStream(_ body: (NATSClient, JetStream) async throws -> Void) async throws {
    let storage = FileManager.default.temporaryDirectory.appendingPathComponent(
        "js-\(UUID().uuidString.prefix(8))")
    defer { try? FileManager.default.removeItem(at: storage) }
    let server = try NATSServer(arguments: ["-js", "-sd", storage.path])
    defer { server.stop() }
    let nats = try await NATSClient.connect(url: server.url)
    do {
        try await body(nats, nats.jetStream())
    } catch {
        await nats.close()
        throw error
    }
    await nats.close()
}

/// JetStream streams and publishing with acknowledgements, against a live nats-server -js.
@Suite(.timeLimit(.minutes(3))) struct JetStreamTests {
    @Test func everyJetStreamCallRepliesUnderTheClientsInboxPrefix() async throws {
        // A user allowed replies only under its own prefix (as the system's services and
        // gateway are): fetch, the ordered consumer, requests and the asynchronous publisher
        // all work, so none of them subscribes under the default _INBOX.
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent(
            "js-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: storage) }
        let config = """
            authorization { users: [
              { user: app, password: secret, permissions: {
                  publish: { allow: ["work.>", "$JS.API.>"] }
                  subscribe: { allow: ["_INBOX.app.>"] } } }
            ] }
            """
        let server = try NATSServer(config: config, arguments: ["-js", "-sd", storage.path])
        defer { server.stop() }
        var options = NATSOptions(url: "nats://app:secret@127.0.0.1:\(server.port)")
        options.inboxPrefix = "_INBOX.app"
        let nats = try await NATSClient.connect(options)
        let violations = Mutex<[String]>([])
        let watcher = Task {
            for await event in nats.events() {
                if case .serverError(let error) = event { violations.withLock { $0.append("\(error)") } }
            }
        }
        let js = nats.jetStream()
        _ = try await js.addStream(StreamConfig(name: "WORK", subjects: ["work.>"], storage: .memory))
        let publisher = try js.asyncPublisher()
        for i in 0..<3 { _ = try await publisher.publish(Array("m\(i)".utf8), to: "work.a") }
        try await publisher.complete()
        _ = try await js.addConsumer("WORK", ConsumerConfig(durableName: "pull"))
        #expect(try await js.fetch("WORK", "pull", batch: 3).count == 3)
        var ordered = js.orderedConsumer("WORK").makeAsyncIterator()
        for i in 0..<3 { #expect(try await ordered.next()?.payload == Array("m\(i)".utf8)) }
        watcher.cancel()
        #expect(violations.withLock { $0 }.isEmpty, "\(violations.withLock { $0 })")
        await nats.close()
    }

    @Test func streamsAreCreatedReadUpdatedListedAndDeleted() async throws {
        try await withJetStream { _, js in
            let created = try await js.addStream(
                StreamConfig(name: "ORDERS", subjects: ["orders.>"], storage: .memory, maxAge: .seconds(3600))
            )
            #expect(created.config.name == "ORDERS" && created.config.subjects == ["orders.>"])
            #expect(created.config.maxAgeNanoseconds == 3_600_000_000_000 && created.state.messages == 0)
            // The same configuration again is fine; another one under the name is not.
            _ = try await js.addStream(
                StreamConfig(name: "ORDERS", subjects: ["orders.>"], storage: .memory, maxAge: .seconds(3600))
            )
            do {
                _ = try await js.addStream(
                    StreamConfig(name: "ORDERS", subjects: ["other.>"], storage: .memory))
                Issue.record("a second stream of the same name was accepted")
            } catch let error as JetStreamError {
                #expect(error.errorCode == JetStreamError.Code.streamNameInUse)
            }
            var changed = created.config
            changed.subjects = ["orders.>", "refunds.>"]
            let updated = try await js.updateStream(changed)
            #expect(updated.config.subjects == ["orders.>", "refunds.>"])
            _ = try await js.addStream(StreamConfig(name: "AUDIT", subjects: ["audit.*"], storage: .memory))
            #expect(Set(try await js.streamNames()) == ["ORDERS", "AUDIT"])
            #expect(try await js.streamNames(subject: "refunds.x") == ["ORDERS"])
            try await js.deleteStream("AUDIT")
            do {
                _ = try await js.streamInfo("AUDIT")
                Issue.record("a deleted stream has info")
            } catch let error as JetStreamError {
                #expect(error.code == 404 && error.errorCode == JetStreamError.Code.streamNotFound)
            }
            await #expect(throws: NATSError.self) { _ = try await js.streamInfo("bad.name") }
        }
    }

    @Test func publishingIsAcknowledgedDeduplicatedAndChecked() async throws {
        try await withJetStream { _, js in
            _ = try await js.addStream(StreamConfig(name: "EVENTS", subjects: ["events.>"]))
            let first = try await js.publish("one", to: "events.a", options: .init(messageID: "m-1"))
            #expect(first.stream == "EVENTS" && first.sequence == 1 && !first.duplicate)
            let again = try await js.publish("one", to: "events.a", options: .init(messageID: "m-1"))
            #expect(again.duplicate && again.sequence == 1)
            let second = try await js.publish(
                "two", to: "events.b", options: .init(expectedStream: "EVENTS", expectedLastSequence: 1))
            #expect(second.sequence == 2)
            // A wrong expectation stores nothing.
            do {
                _ = try await js.publish("three", to: "events.b", options: .init(expectedLastSequence: 1))
                Issue.record("a publish with a wrong last sequence was stored")
            } catch let error as JetStreamError {
                #expect(error.errorCode == JetStreamError.Code.wrongLastSequence)
            }
            do {
                _ = try await js.publish("x", to: "events.a", options: .init(expectedLastSubjectSequence: 2))
                Issue.record("a publish with a wrong subject sequence was stored")
            } catch let error as JetStreamError {
                #expect(error.code == 400)
            }
            #expect(try await js.streamInfo("EVENTS").state.messages == 2)
            // Nothing captures this subject.
            await #expect(throws: JetStreamError.self) { _ = try await js.publish("x", to: "nowhere") }
        }
    }

    @Test func messagesAreReadBackAndPurged() async throws {
        try await withJetStream { _, js in
            _ = try await js.addStream(StreamConfig(name: "KV", subjects: ["kv.>"]))
            var headers = NATSHeaders()
            headers.append("yes", for: "X-Trace")
            for (index, subject) in ["kv.a", "kv.b", "kv.a", "kv.c"].enumerated() {
                _ = try await js.publish(Array("v\(index)".utf8), to: subject, headers: headers)
            }
            let third = try await js.message("KV", sequence: 3)
            #expect(
                third.subject == "kv.a" && third.payload == Array("v2".utf8)
                    && third.headers?["X-Trace"] == "yes")
            let lastA = try await js.lastMessage("KV", subject: "kv.a")
            #expect(lastA.sequence == 3)
            do {
                _ = try await js.message("KV", sequence: 99)
                Issue.record("a missing message was found")
            } catch let error as JetStreamError {
                #expect(error.errorCode == JetStreamError.Code.messageNotFound)
            }
            #expect(try await js.purgeStream("KV", subject: "kv.a") == 2)
            #expect(try await js.purgeStream("KV", keep: 1) == 1)
            let state = try await js.streamInfo("KV").state
            #expect(state.messages == 1 && state.lastSequence == 4)
            #expect(try await js.purgeStream("KV") == 1)
        }
    }

    @Test func withoutJetStreamTheErrorSaysSo() async throws {
        try await withNATSServer { server in
            let nats = try await NATSClient.connect(url: server.url)
            do {
                _ = try await nats.jetStream().streamNames()
                Issue.record("a server without JetStream answered")
            } catch let error as JetStreamError {
                #expect(error.code == 503 && error.description.contains("not enabled"))
            }
            await nats.close()
        }
    }
}

/// Pull consumers: fetching, metadata, acknowledgements and redelivery.
@Suite(.timeLimit(.minutes(3))) struct JetStreamConsumerTests {
    @Test func aDurablePullConsumerFetchesAcksAndRedelivers() async throws {
        try await withJetStream { _, js in
            _ = try await js.addStream(StreamConfig(name: "WORK", subjects: ["work.>"], storage: .memory))
            for index in 1...10 {
                _ = try await js.publish("job \(index)", to: "work.\(index % 2 == 0 ? "even" : "odd")")
            }
            let created = try await js.addConsumer(
                "WORK", ConsumerConfig(durableName: "workers", ackPolicy: .explicit, ackWait: .seconds(30)))
            #expect(created.name == "workers" && created.pending == 10)
            #expect(try await js.consumerNames("WORK") == ["workers"])

            let first = try await js.fetch("WORK", "workers", batch: 4)
            #expect(
                first.map { String(decoding: $0.payload, as: UTF8.self) } == [
                    "job 1", "job 2", "job 3", "job 4",
                ])
            #expect(first.map(\.metadata.streamSequence) == [1, 2, 3, 4])
            #expect(first[0].metadata.stream == "WORK" && first[0].metadata.consumer == "workers")
            #expect(first[0].metadata.delivered == 1 && first[3].metadata.pending == 6)
            for message in first.dropLast() { try message.ack() }
            try await first[3].doubleAck()
            // Plain acks are applied when the server gets to them.
            #expect(await eventually { (try? await js.consumerInfo("WORK", "workers").ackPending) == 0 })

            // A nak comes back at once, delivered a second time; a term never does.
            let next = try await js.fetch("WORK", "workers", batch: 2)
            #expect(next.map(\.metadata.streamSequence) == [5, 6])
            try next[0].nak()
            try next[1].term()
            // The server applies acks on its own schedule: 5 comes back, a second time, among
            // the others; 6 never does.
            var redelivered: JetStreamMessage?
            var others: [UInt64] = []
            while redelivered == nil {
                guard let message = try await js.fetch("WORK", "workers", batch: 1).first else { break }
                if message.metadata.streamSequence == 5 {
                    redelivered = message
                } else {
                    others.append(message.metadata.streamSequence)
                    try await message.doubleAck()
                }
            }
            #expect(redelivered?.metadata.delivered == 2)
            try await redelivered?.doubleAck()
            let rest = try await js.fetch("WORK", "workers", batch: 10, expires: .milliseconds(300))
            for message in rest { try await message.doubleAck() }
            #expect((others + rest.map(\.metadata.streamSequence)).sorted() == [7, 8, 9, 10])
            // Nothing left: the pull ends empty when it expires.
            #expect(try await js.fetch("WORK", "workers", batch: 5, expires: .milliseconds(200)).isEmpty)
            let info = try await js.consumerInfo("WORK", "workers")
            #expect(info.pending == 0 && info.ackPending == 0)
            try await js.deleteConsumer("WORK", "workers")
            #expect(try await js.consumerNames("WORK").isEmpty)
        }
    }

    @Test func aFilteredEphemeralConsumerStartingAtASequence() async throws {
        try await withJetStream { _, js in
            _ = try await js.addStream(StreamConfig(name: "LOG", subjects: ["log.*"], storage: .memory))
            for level in ["info", "error", "info", "error", "error"] {
                _ = try await js.publish(level, to: "log.\(level)")
            }
            let consumer = try await js.addConsumer(
                "LOG",
                ConsumerConfig(
                    deliverPolicy: .byStartSequence, startSequence: 3, ackPolicy: .none,
                    filterSubject: "log.error",
                    inactiveThreshold: .seconds(30)))
            let messages = try await js.fetch("LOG", consumer.name, batch: 10, expires: .milliseconds(300))
            #expect(messages.map(\.metadata.streamSequence) == [4, 5])
            #expect(messages.allSatisfy { $0.subject == "log.error" })
        }
    }

    @Test func ackSubjectsOfBothFormsAreRead() {
        let v1 = JetStreamMetadata(replySubject: "$JS.ACK.ORDERS.workers.2.15.7.1700000000000000000.3")
        #expect(v1?.stream == "ORDERS" && v1?.delivered == 2 && v1?.streamSequence == 15 && v1?.pending == 3)
        let v2 = JetStreamMetadata(
            replySubject: "$JS.ACK.hub.ACCHASH.ORDERS.workers.1.16.8.1700000000000000000.0.rnd")
        #expect(v2?.stream == "ORDERS" && v2?.consumerSequence == 8)
        #expect(JetStreamMetadata(replySubject: "_INBOX.x.y") == nil)
        #expect(JetStreamMetadata(replySubject: "$JS.ACK.S.C.x.1.1.1.1") == nil)
        #expect(JetStreamMetadata(replySubject: "$JS.ACK.S.C.1..1.1.1") == nil)
        #expect(JetStreamMetadata(replySubject: "$JS.ACKS.S.C.1.1.1.1.1") == nil)
        #expect(JetStreamMetadata(replySubject: "$JS.ACK.S.C.1.1.1.1.99999999999999999999") == nil)
        let sixteen = "$JS.ACK.hub.ACCHASH.ORDERS.workers.1.16.8.1700000000000000000.0.a.b.c.d.e"
        #expect(JetStreamMetadata(replySubject: sixteen)?.streamSequence == 16)
        #expect(JetStreamMetadata(replySubject: sixteen + ".f") == nil, "at most 16 tokens")
        #expect(JetStreamMetadata(replySubject: "") == nil)
    }
}

/// Key-value buckets over JetStream (the KV ADR's layout).
@Suite(.timeLimit(.minutes(3))) struct KeyValueTests {
    @Test func putGetUpdateCreateDeleteAndPurge() async throws {
        try await withJetStream { _, js in
            let kv = try await js.createKeyValue(
                KeyValueConfig(bucket: "settings", history: 5, storage: .memory))
            #expect(try await js.streamInfo("KV_settings").config.subjects == ["$KV.settings.>"])
            #expect(try await kv.get("theme") == nil)
            let first = try await kv.put("theme", Array("dark".utf8))
            let entry = try #require(try await kv.get("theme"))
            #expect(entry.value == Array("dark".utf8) && entry.revision == first && entry.operation == .put)

            // Optimistic locking: an update with a stale revision changes nothing.
            let second = try await kv.update("theme", Array("light".utf8), revision: first)
            do {
                _ = try await kv.update("theme", Array("blue".utf8), revision: first)
                Issue.record("an update with a stale revision was stored")
            } catch let error as JetStreamError {
                #expect(error.errorCode == JetStreamError.Code.wrongLastSequence)
            }
            #expect(try await kv.get("theme")?.revision == second)

            // create: only when the key has no value, or was deleted.
            await #expect(throws: JetStreamError.self) { try await kv.create("theme", Array("x".utf8)) }
            try await kv.create("font", Array("mono".utf8))
            #expect(try await kv.keys() == ["font", "theme"])
            try await kv.delete("font")
            #expect(try await kv.get("font") == nil)
            #expect(try await kv.keys() == ["theme"])
            try await kv.create("font", Array("serif".utf8))
            #expect(try await kv.get("font")?.value == Array("serif".utf8))
            #expect(try await kv.history("font").map(\.operation) == [.put, .delete, .put])

            try await kv.purge("theme")
            #expect(try await kv.get("theme") == nil)
            #expect(try await kv.history("theme").map(\.operation) == [.purge])
            await #expect(throws: NATSError.self) { try await kv.put("bad key", []) }
        }
    }

    @Test func historyIsBoundedAndBucketsAreFoundAndDeleted() async throws {
        try await withJetStream { _, js in
            let kv = try await js.createKeyValue(
                KeyValueConfig(bucket: "counters", history: 3, storage: .memory))
            for value in 1...6 { try await kv.put("hits", Array(String(value).utf8)) }
            #expect(
                try await kv.history("hits").map { String(decoding: $0.value, as: UTF8.self) } == [
                    "4", "5", "6",
                ])
            let again = try await js.keyValue("counters")
            #expect(try await again.get("hits")?.value == Array("6".utf8))
            try await js.deleteKeyValue("counters")
            await #expect(throws: JetStreamError.self) { _ = try await js.keyValue("counters") }
            await #expect(throws: NATSError.self) {
                _ = try await js.createKeyValue(KeyValueConfig(bucket: "no.dots"))
            }
        }
    }
}

/// Publishing without waiting for each acknowledgement.
@Suite(.timeLimit(.minutes(3))) struct JetStreamAsyncPublisherTests {
    /// A full window reopens a quarter at a time (at least one): the smallest windows too.
    @Test(arguments: [1, 2, 16])
    func aBoundedWindowOfAcknowledgementsInOrder(window: Int) async throws {
        try await withJetStream { _, js in
            _ = try await js.addStream(StreamConfig(name: "BULK", subjects: ["bulk"], storage: .memory))
            let publisher = try js.asyncPublisher(maxPending: window)
            var futures: [PubAckFuture] = []
            var mostPending = 0
            for index in 0..<1000 {
                futures.append(try await publisher.publish(Array("m\(index)".utf8), to: "bulk"))
                mostPending = max(mostPending, publisher.pendingCount)
            }
            try await publisher.complete()
            #expect(mostPending <= window && publisher.pendingCount == 0)
            var sequences: [UInt64] = []
            for future in futures { sequences.append(try await future.value.sequence) }
            #expect(sequences == Array(1...1000))
            #expect(try await js.streamInfo("BULK").state.messages == 1000)
            publisher.close()
        }
    }

    @Test func failuresArriveOnTheirFutures() async throws {
        try await withJetStream { nats, _ in
            let js = nats.jetStream(timeout: .milliseconds(300))
            _ = try await js.addStream(StreamConfig(name: "CHECKED", subjects: ["checked"], storage: .memory))
            // A subject only a plain subscriber listens on: nobody acknowledges.
            let silent = try nats.subscribe(to: "silent")
            try await nats.flush()
            let publisher = try js.asyncPublisher(maxPending: 4)
            let ok = try await publisher.publish(Array("a".utf8), to: "checked")
            let wrong = try await publisher.publish(
                Array("b".utf8), to: "checked", options: .init(expectedLastSequence: 7))
            let nowhere = try await publisher.publish(Array("c".utf8), to: "nowhere")
            let unanswered = try await publisher.publish(Array("d".utf8), to: "silent")
            #expect(try await ok.value.sequence == 1)
            await #expect {
                _ = try await wrong.value
            } throws: { ($0 as? JetStreamError)?.errorCode == JetStreamError.Code.wrongLastSequence }
            await #expect { _ = try await nowhere.value } throws: { ($0 as? JetStreamError)?.code == 503 }
            await #expect { _ = try await unanswered.value } throws: { ($0 as? NATSError)?.kind == .timeout }
            try await publisher.complete()
            publisher.close()
            await #expect(throws: NATSError.self) { _ = try await publisher.publish([], to: "checked") }
            try silent.unsubscribe()
        }
    }
}

extension KeyValueTests {
    @Test func concurrentUpdatesAtOneRevisionHaveOneWinner() async throws {
        try await withJetStream { _, js in
            let kv = try await js.createKeyValue(KeyValueConfig(bucket: "race", history: 5, storage: .memory))
            let start = try await kv.put("counter", Array("0".utf8))
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for writer in 0..<20 {
                    group.addTask {
                        do {
                            _ = try await kv.update("counter", Array("w\(writer)".utf8), revision: start)
                            return true
                        } catch let error as JetStreamError
                            where error.errorCode == JetStreamError.Code.wrongLastSequence
                        {
                            return false
                        }
                    }
                }
                var all: [Bool] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            #expect(outcomes.filter { $0 }.count == 1 && outcomes.count == 20)
            #expect(try await kv.history("counter").count == 2)
        }
    }
}

/// NATSWire and an independent client (nats-py, installed by scripts/install-deps.sh) on the
/// same streams and buckets, each reading what the other wrote.
@Suite(.timeLimit(.minutes(3))) struct JetStreamInteropTests {
    @Test func natsPyAndNATSWireReadEachOthersWrites() async throws {
        let python = projectRoot.appendingPathComponent(".state/venv/bin/python")
        let script = projectRoot.appendingPathComponent("Tests/NATSWireTests/Interop/natspy_jetstream.py")
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent(
            "interop-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: storage) }
        let server = try NATSServer(arguments: ["-js", "-sd", storage.path])
        defer { server.stop() }
        let nats = try await NATSClient.connect(url: server.url)
        let js = nats.jetStream()

        let kv = try await js.createKeyValue(KeyValueConfig(bucket: "interop", storage: .memory))
        try await kv.put("from.swift", Array("hello python".utf8))
        _ = try await js.addStream(StreamConfig(name: "INTEROP", subjects: ["interop.>"], storage: .memory))
        for text in ["s-1", "s-2", "s-3"] { _ = try await js.publish(text, to: "interop.swift") }
        let files = try await js.createObjectStore("interop-files", storage: .memory)
        try await files.put("from-swift.txt", Array("chunked by swift".utf8))

        let (status, text) = try await ChildProcess.run(python.path, [script.path, server.url])
        #expect(status == 0, "\(text)")
        #expect(text.contains("kv from.swift=hello python revision=1"), "\(text)")
        #expect(text.contains("stream s-1,s-2,s-3") && text.contains("published py-2 seq=5"), "\(text)")

        #expect(try await kv.get("from.python")?.value == Array("hello swift".utf8))
        #expect(text.contains("object from-swift.txt=chunked by swift size=16"), "\(text)")
        #expect(
            try await files.get("from-python.txt") == [UInt8](repeating: UInt8(ascii: "x"), count: 300_000))
        let fromPython = try await js.addConsumer(
            "INTEROP", ConsumerConfig(durableName: "swift", filterSubject: "interop.py"))
        let messages = try await js.fetch("INTEROP", fromPython.name, batch: 2)
        #expect(messages.map { String(decoding: $0.payload, as: UTF8.self) } == ["py-1", "py-2"])
        #expect(messages.first?.headers?["Nats-Msg-Id"] == "py-1")
        // nats-py acknowledged all three of NATSWire's messages on its consumer.
        let theirs = try await js.consumerInfo("INTEROP", "py")
        #expect(theirs.ackPending == 0 && theirs.pending == 2)
        await nats.close()
    }
}

/// Acknowledged means stored: the server is stopped and restarted (same port and store)
/// while a windowed publisher and a pull consumer run.
///
/// Killed (SIGKILL): every acknowledged publish is in the stream and reaches the reader at
/// least once. What the reader acknowledged may come again: nats-server 2.9 writes a
/// consumer's acknowledgement state to its store in batches, so a kill loses the last ones
/// even after it confirmed them (the double ack's reply). Stopped (SIGTERM): the server
/// writes that state first, and nothing acknowledged comes again.
@Suite(.serialized, .timeLimit(.minutes(3))) struct JetStreamRestartTests {
    @Test(arguments: [true, false])
    func acknowledgedPublishesSurviveARestart(killed: Bool) async throws {
        let (storage, first, nats) = try await Self.restartableServer()
        defer { try? FileManager.default.removeItem(at: storage) }
        let port = first.port
        let js = nats.jetStream(timeout: .seconds(2))
        _ = try await js.addStream(StreamConfig(name: "SAFE", subjects: ["safe"], storage: .file))
        // Long enough that nothing is redelivered for a slow ack while the test runs: what
        // comes again comes because of the restart.
        _ = try await js.addConsumer("SAFE", ConsumerConfig(durableName: "reader", ackWait: .seconds(8)))

        let total = 3000
        let acknowledged = Mutex<Set<Int>>([])
        let publisher = try js.asyncPublisher(maxPending: 256)
        let publishing = Task {
            var futures: [(Int, PubAckFuture)] = []
            for index in 0..<total {
                if let future = try? await publisher.publish(Array(String(index).utf8), to: "safe") {
                    futures.append((index, future))
                }
            }
            try? await publisher.complete()
            for (index, future) in futures where (try? await future.value) != nil {
                _ = acknowledged.withLock { $0.insert(index) }
            }
        }
        // The reader: every message at least once; one it acked (confirmed) never again.
        let confirmed = Mutex<Set<UInt64>>([])
        let redeliveredAfterAck = Mutex<[UInt64]>([])
        // Acks the server confirmed before it went down: the persistence claim is about those.
        let confirmedBeforeStop = Mutex<Set<UInt64>?>(nil)
        let received = Mutex<Set<Int>>([])
        let stopReading = Atomic<Bool>(false)
        let reading = Task {
            while !stopReading.load(ordering: .relaxed) {
                guard
                    let batch = try? await js.fetch("SAFE", "reader", batch: 100, expires: .milliseconds(500))
                else {
                    continue
                }
                for message in batch {
                    let sequence = message.metadata.streamSequence
                    if confirmedBeforeStop.withLock({ $0?.contains(sequence) == true }) {
                        redeliveredAfterAck.withLock { $0.append(sequence) }
                    }
                    if let number = Int(String(decoding: message.payload, as: UTF8.self)) {
                        _ = received.withLock { $0.insert(number) }
                    }
                    if (try? await message.doubleAck(timeout: .seconds(2))) != nil {
                        _ = confirmed.withLock { $0.insert(sequence) }
                    }
                }
            }
        }

        // Kill once part of the work is through, then restart on the same port and store.
        #expect(await eventually(timeout: .seconds(60)) { received.withLock { $0.count } >= 500 })
        confirmedBeforeStop.withLock { $0 = confirmed.withLock { $0 } }
        Self.bringDown(first, killed: killed)
        let second = try NATSServer(port: port, arguments: ["-js", "-sd", storage.path])
        defer { second.stop() }
        await publishing.value
        let stored = acknowledged.withLock { $0 }
        #expect(!stored.isEmpty)
        // Everything acknowledged reaches the reader.
        #expect(await eventually(timeout: .seconds(60)) { stored.isSubset(of: received.withLock { $0 }) })
        stopReading.store(true, ordering: .relaxed)
        await reading.value
        if !killed {
            let again = redeliveredAfterAck.withLock { $0 }
            #expect(
                again.isEmpty,
                "\(again.count) came again after their acks were confirmed\(Self.lastWords(of: first))")
        }
        // And it is in the stream.
        let check = try await js.addConsumer(
            "SAFE", ConsumerConfig(ackPolicy: ConsumerConfig.AckPolicy.none, inactiveThreshold: .seconds(30)))
        var inStream = Set<Int>()
        while true {
            let batch = try await js.fetch("SAFE", check.name, batch: 500, expires: .milliseconds(500))
            if batch.isEmpty { break }
            for message in batch {
                if let n = Int(String(decoding: message.payload, as: UTF8.self)) { inStream.insert(n) }
            }
        }
        #expect(
            stored.isSubset(of: inStream),
            "\(stored.subtracting(inStream).count) acknowledged publishes are missing")
        publisher.close()
        await nats.close()
    }
}

/// The ordered consumer and the KV watch built on it.
@Suite(.timeLimit(.minutes(3))) struct OrderedConsumerTests {
    @Test func readsInOrderOnceAndSurvivesLosingItsConsumer() async throws {
        try await withJetStream { _, js in
            _ = try await js.addStream(StreamConfig(name: "SEQ", subjects: ["seq"], storage: .memory))
            for index in 1...50 { _ = try await js.publish(String(index), to: "seq") }
            var iterator = js.orderedConsumer("SEQ", batch: 20, wait: .milliseconds(500)).makeAsyncIterator()
            var seen: [Int] = []
            while seen.count < 30, let message = try await iterator.next() {
                seen.append(Int(String(decoding: message.payload, as: UTF8.self)) ?? -1)
            }
            // Someone deletes the reader's consumer: it starts again where it was.
            for name in try await js.consumerNames("SEQ") { try await js.deleteConsumer("SEQ", name) }
            for index in 51...60 { _ = try await js.publish(String(index), to: "seq") }
            while seen.count < 60, let message = try await iterator.next() {
                seen.append(Int(String(decoding: message.payload, as: UTF8.self)) ?? -1)
            }
            #expect(seen == Array(1...60))
            #expect(iterator.resets >= 1)
        }
    }
}

extension KeyValueTests {
    @Test func watchGivesTheLatestValuesThenEveryChange() async throws {
        try await withJetStream { _, js in
            let kv = try await js.createKeyValue(
                KeyValueConfig(bucket: "watched", history: 5, storage: .memory))
            try await kv.put("a", Array("a1".utf8))
            try await kv.put("b", Array("b1".utf8))
            try await kv.put("a", Array("a2".utf8))
            var events = kv.watch().makeAsyncIterator()
            func nextEvent() async throws -> String {
                switch try await events.next() {
                case .entry(let entry)?:
                    return
                        "\(entry.key)=\(String(decoding: entry.value, as: UTF8.self)) \(entry.operation.rawValue)"
                case .initialValuesDone?: return "done"
                case nil: return "end"
                }
            }
            var initial: [String] = []
            while true {
                let event = try await nextEvent()
                if event == "done" { break }
                initial.append(event)
            }
            #expect(initial.sorted() == ["a=a2 PUT", "b=b1 PUT"])
            try await kv.put("b", Array("b2".utf8))
            try await kv.delete("a")
            #expect(try await nextEvent() == "b=b2 PUT")
            #expect(try await nextEvent() == "a= DEL")
        }
    }

    @Test func watchingAnEmptyBucketSaysSoAtOnce() async throws {
        try await withJetStream { _, js in
            let kv = try await js.createKeyValue(KeyValueConfig(bucket: "empty", storage: .memory))
            var events = kv.watch().makeAsyncIterator()
            #expect(try await events.next() == .initialValuesDone)
            try await kv.put("k", Array("v".utf8))
            guard case .entry(let entry)? = try await events.next() else {
                Issue.record("no entry after the first put")
                return
            }
            #expect(entry.key == "k" && entry.value == Array("v".utf8))
        }
    }
}

extension JetStreamRestartTests {
    /// A JetStream server with its own store folder (kept for a restart on the same port) and
    /// a client that reconnects quickly.
    static func restartableServer() async throws -> (storage: URL, server: NATSServer, client: NATSClient) {
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent(
            "restart-\(UUID().uuidString.prefix(8))")
        let server = try NATSServer(arguments: ["-js", "-sd", storage.path])
        var options = NATSOptions(url: server.url)
        options.reconnect = ReconnectPolicy(
            initialWait: .milliseconds(50), maxWait: .milliseconds(200), jitter: .zero)
        return (storage, server, try await NATSClient.connect(options))
    }

    /// Kills the server (SIGKILL) or stops it (SIGTERM, with a minute to write its state: a
    /// busy machine's disk can take seconds). A stop that still needed SIGKILL is recorded,
    /// since what the test checks next assumes a server that exited by itself.
    static func bringDown(_ server: NATSServer, killed: Bool) {
        if killed {
            server.kill()
            return
        }
        let status = server.stop(grace: .seconds(60))
        #expect(
            status != 128 + SIGKILL, "nats-server did not exit within 60 s of SIGTERM\(lastWords(of: server))"
        )
    }

    /// The end of a server's log, for a failure's message: how it went down.
    static func lastWords(of server: NATSServer) -> String {
        "; its log ends:\n" + server.log.split(separator: "\n").suffix(12).joined(separator: "\n")
    }

    @Test func theOrderedConsumerReadsEverythingOnceInOrderAcrossAKill() async throws {
        let (storage, first, nats) = try await Self.restartableServer()
        defer { try? FileManager.default.removeItem(at: storage) }
        let port = first.port
        let js = nats.jetStream(timeout: .seconds(2))
        _ = try await js.addStream(StreamConfig(name: "LEDGER", subjects: ["ledger"], storage: .file))
        let publisher = try js.asyncPublisher(maxPending: 256)
        for index in 1...2000 { _ = try await publisher.publish(Array(String(index).utf8), to: "ledger") }
        try await publisher.complete()
        publisher.close()

        var iterator = js.orderedConsumer("LEDGER", batch: 50, wait: .milliseconds(500)).makeAsyncIterator()
        var sequences: [UInt64] = []
        var second: NATSServer?
        while sequences.count < 2000, let message = try await iterator.next() {
            sequences.append(message.metadata.streamSequence)
            if sequences.count == 700 {
                first.kill()
                second = try NATSServer(port: port, arguments: ["-js", "-sd", storage.path])
            }
        }
        #expect(sequences == Array(1...2000))
        second?.stop()
        await nats.close()
    }
}

/// Object store buckets (the object-store ADR's layout).
@Suite(.timeLimit(.minutes(3))) struct ObjectStoreTests {
    @Test func objectsArePutReadReplacedListedAndDeleted() async throws {
        try await withJetStream { nats, js in
            var store = try await js.createObjectStore("files", storage: .memory)
            store.chunkSize = 1000
            let big = (0..<10_500).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let info = try await store.put("reports/2026.bin", big, description: "yearly")
            #expect(info.size == 10_500 && info.chunks == 11 && info.digest.hasPrefix("SHA-256="))
            #expect(info.description == "yearly" && info.modified != nil)
            #expect(try await store.get("reports/2026.bin") == big)

            // A new version replaces the old one, whose chunks go.
            let small = Array("small".utf8)
            _ = try await store.put("reports/2026.bin", small)
            #expect(try await store.get("reports/2026.bin") == small)
            #expect(try await js.streamInfo("OBJ_files").state.messages == 2)  // one chunk, one description

            _ = try await store.put("empty", [])
            #expect(try await store.get("empty") == [])
            #expect(try await store.list().map(\.name) == ["empty", "reports/2026.bin"])
            try await store.delete("empty")
            #expect(try await store.list().map(\.name) == ["reports/2026.bin"])
            await #expect(throws: JetStreamError.self) { _ = try await store.get("empty") }
            await #expect(throws: JetStreamError.self) { _ = try await store.get("never") }

            // A description whose digest does not match the chunks: the read says so.
            var forged = try await store.info("reports/2026.bin")
            forged.digest = "SHA-256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
            _ = try await js.publish(
                Array(try JSONEncoder().encode(forged)),
                to: "$O.files.M."
                    + Data("reports/2026.bin".utf8).base64EncodedString().replacing("+", with: "-")
                    .replacing("/", with: "_"))
            await #expect(throws: NATSError.self) { _ = try await store.get("reports/2026.bin") }
            _ = nats
        }
    }
}
