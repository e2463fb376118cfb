import Foundation
import Logging
import NATSWire
import ServiceRuntime
import Synchronization
import TestHarness
import Testing

/// The relay over an outbox kept in memory and a real nats-server with JetStream.
@Suite(.timeLimit(.minutes(2))) struct EventRelayTests {
    /// An outbox of `count` waiting events; says when the relay has emptied it.
    final class MemoryOutbox: EventSource {
        let settings = EventSettings(stream: "EVENTS")
        private let waiting: Mutex<[PendingEvent]>
        private let (emptied, emptiedContinuation) = AsyncStream<Void>.makeStream()

        init(count: Int) {
            waiting = Mutex(
                (0..<count).map { index in
                    PendingEvent(
                        reference: String(index), subject: "test.events.created", eventID: IDGenerator.uuid(),
                        document: Array(#"{"n":\#(index)}"#.utf8))
                })
        }

        func holdsLease() async throws -> Bool { true }

        func pending(limit: Int) async throws -> [PendingEvent] {
            waiting.withLock { Array($0.prefix(limit)) }
        }

        func published(_ events: [PendingEvent]) async throws {
            let done = Set(events.map(\.reference))
            let left = waiting.withLock { waiting in
                waiting.removeAll { done.contains($0.reference) }
                return waiting.count
            }
            if left == 0 { emptiedContinuation.yield() }
        }

        func waitUntilEmpty() async {
            for await _ in emptied { return }
        }
    }

    /// A backlog larger than a batch goes out batch after batch: the batch interval spaces
    /// batches that are not full only (before, a relay waited it out after every batch, and
    /// here, with an hour, would have stopped after the first 256 events).
    @Test func aBacklogIsRelayedWithoutWaitingForTheBatchInterval() async throws {
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent(
            "relay-\(IDGenerator.uuid().prefix(8))")
        defer { try? FileManager.default.removeItem(at: storage) }
        let server = try NATSServer(arguments: ["-js", "-sd", storage.path])
        defer { server.stop() }
        let nats = try await NATSClient.connect(url: server.url)
        let outbox = MemoryOutbox(count: 700)
        let relay = EventRelay(source: outbox, logger: Logger(label: "relay-test"))
        let running = Task { await relay.run(nats, gap: .seconds(3600)) }
        await outbox.waitUntilEmpty()
        running.cancel()
        await running.value
        let stored = try await nats.jetStream().streamInfo("EVENTS").state.messages
        #expect(stored == 700)
        await nats.close()
    }
}
