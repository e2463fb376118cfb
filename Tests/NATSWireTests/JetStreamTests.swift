import Foundation
import NATSWire
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
@Suite struct JetStreamTests {
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
