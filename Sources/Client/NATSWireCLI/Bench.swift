#if Server
    import ArgumentParser
    #if canImport(FoundationEssentials)
        import FoundationEssentials
    #else
        import Foundation
    #endif
    import NATSWire
    import Synchronization

    /// The benchmark shared with the reference clients in `../shared/bench/nats-peers`: same
    /// flags, same last line, so `run-all.sh` can put NATSWire in the same table.
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Measure publish, pub/sub, fan-out, queue-group and request–reply throughput and latency.")

        enum Mode: String, ExpressibleByArgument, CaseIterable {
            case pub, pubsub, req, reqpar
            /// One publisher, `--subs` subscribers that each get every message.
            case fanout
            /// One publisher, `--subs` subscribers in one queue group: each message to one.
            case queue
            /// JetStream: asynchronous publishes with at most `--par` acks outstanding, until
            /// every ack arrived (stream `BENCH` on `bench.js`, file storage).
            case jspub
            /// JetStream: a durable pull consumer fetches batches of 256 of the stored
            /// messages and acks each, until the last ack is flushed.
            case jsfetch
            case jsconsume
        }

        /// Where the fan-out and queue subscribers live.
        enum SubscriberConnections: String, ExpressibleByArgument, CaseIterable {
            /// One connection each (as separate processes would be).
            case each
            /// All on one connection (the server sends each message once per subscription).
            case shared
        }

        @OptionGroup var server: ServerOptions
        @Option(name: .long, help: "Server URL: the same as --server (the peer benchmark programs' flag).")
        var url: String?
        @Option(name: .long, help: "pub, pubsub, req, reqpar, fanout, queue, jspub, jsfetch or jsconsume.")
        var mode: Mode
        @Option(name: .long, help: "Messages (or requests) in total.") var msgs: Int
        @Option(name: .long, help: "Payload bytes.") var size: Int
        @Option(name: .long, help: "Requests outstanding at once (reqpar).") var par = 64
        @Option(name: .long, help: "Subscribers (fanout, queue).") var subs = 4
        @Option(name: .long, help: "fanout/queue subscribers: each on its own connection, or one shared.")
        var subConnections = SubscriberConnections.each
        @Option(name: .long, help: "Seconds allowed for a flush, a request or the pub/sub wait.")
        var timeout: Double = 60
        @Option(
            name: .long, help: "req/reqpar: send to this subject (a running service) instead of a local echo."
        )
        var subject: String?
        @Option(name: .long, help: "With --subject: the request payload (default: SIZE bytes of 'x').")
        var data: String?
        @Flag(
            name: .long,
            help:
                "req/reqpar: run the requesting tasks on the requester's I/O thread (NATSClient.ioExecutor).")
        var ioExecutor = false
        @Option(
            name: .customLong("spin-us"),
            help:
                "Microseconds each connection's I/O thread polls before it sleeps (NATSOptions.spinBeforeSleep)."
        )
        var spinMicroseconds = 0

        func validate() throws {
            guard msgs > 0 else { throw ValidationError("--msgs must be positive") }
            guard size >= 0 else { throw ValidationError("--size must not be negative") }
            guard (0...100_000).contains(spinMicroseconds) else {
                throw ValidationError("--spin-us must be from 0 to 100000")
            }
            guard par > 0 else { throw ValidationError("--par must be positive") }
            guard (1...1000).contains(subs) else { throw ValidationError("--subs must be from 1 to 1000") }
        }

        var limit: Duration { .milliseconds(Int(timeout * 1000)) }

        func run() async throws {
            let payload = data.map { Array($0.utf8) } ?? [UInt8](repeating: UInt8(ascii: "x"), count: size)
            var latencies: [UInt64] = []
            let seconds: Double
            switch mode {
            case .pub: seconds = try await benchPublish(payload)
            case .pubsub: seconds = try await benchPubSub(payload)
            case .req: (seconds, latencies) = try await benchRequests(payload, parallel: 1)
            case .reqpar: (seconds, latencies) = try await benchRequests(payload, parallel: par)
            case .fanout: seconds = try await benchSubscribers(payload, queue: nil)
            case .queue: seconds = try await benchSubscribers(payload, queue: "bench-queue")
            case .jspub: seconds = try await benchJetStreamPublish(payload)
            case .jsfetch: seconds = try await benchJetStreamFetch(payload)
            case .jsconsume: seconds = try await benchJetStreamConsume(payload)
            }
            var line =
                "mode=\(mode.rawValue) msgs=\(msgs) size=\(size) seconds=\(TextOutput.fixed(seconds, places: 6))"
            line += " msgs_per_sec=\(Int((Double(msgs) / seconds).rounded()))"
            if mode == .fanout || mode == .queue {
                // Every subscriber's messages together (what `nats bench` sums over subscribers).
                let delivered = mode == .fanout ? msgs * subs : msgs
                line += " subs=\(subs) sub_connections=\(subConnections.rawValue)"
                line += " delivered_per_sec=\(Int((Double(delivered) / seconds).rounded()))"
            }
            if !latencies.isEmpty {
                latencies.sort()
                line += " p50_us=\(Self.percentile(latencies, 50)) p99_us=\(Self.percentile(latencies, 99))"
            }
            print(line)
        }

        /// Nearest rank, in microseconds with one decimal.
        static func percentile(_ sorted: [UInt64], _ p: Double) -> String {
            let rank = max(1, Int((p / 100 * Double(sorted.count)).rounded(.up)))
            return TextOutput.fixed(Double(sorted[rank - 1]) / 1000, places: 1)
        }

        private func connect(_ name: String) async throws -> NATSClient {
            var target = server
            if let url { target.server = url }
            var options = try target.options(name: name)
            options.pendingLimits = .unlimited
            options.spinBeforeSleep = .microseconds(spinMicroseconds)
            return try await NATSClient.connect(options)
        }

        private func benchPublish(_ payload: [UInt8]) async throws -> Double {
            let nats = try await connect("bench pub")
            let clock = ContinuousClock()
            let start = clock.now
            for _ in 0..<msgs { try nats.publish(payload, to: "bench") }
            try await nats.flush(timeout: limit)
            let elapsed = clock.now - start
            await nats.close()
            return elapsed.seconds
        }

        private func benchPubSub(_ payload: [UInt8]) async throws -> Double {
            let subscriber = try await connect("bench sub")
            let publisher = try await connect("bench pub")
            let total = msgs
            let done = Countdown(total)
            try subscriber.subscribe(to: "bench") { _ in done.tick() }
            try await subscriber.flush(timeout: limit)
            let clock = ContinuousClock()
            let start = clock.now
            for _ in 0..<msgs { try publisher.publish(payload, to: "bench") }
            try await publisher.flush(timeout: limit)
            guard await done.wait(timeout: limit) else {
                throw ValidationError("subscriber saw \(done.count) of \(total) messages within \(timeout) s")
            }
            let elapsed = done.finishedAt.map { $0 - start } ?? (clock.now - start)
            await publisher.close()
            await subscriber.close()
            return elapsed.seconds
        }

        /// fanout: each of `subs` subscribers gets all `msgs`; queue: the group shares them.
        /// Timed from the first publish until the last delivery.
        private func benchSubscribers(_ payload: [UInt8], queue: String?) async throws -> Double {
            let connections: [NATSClient]
            switch subConnections {
            case .shared: connections = [try await connect("bench subs")]
            case .each:
                var opened: [NATSClient] = []
                for index in 0..<subs { opened.append(try await connect("bench sub \(index)")) }
                connections = opened
            }
            let publisher = try await connect("bench pub")
            let total = queue == nil ? msgs * subs : msgs
            let done = Countdown(total)
            for index in 0..<subs {
                try connections[index % connections.count].subscribe(to: "bench", queue: queue) { _ in
                    done.tick()
                }
            }
            for connection in connections { try await connection.flush(timeout: limit) }
            let clock = ContinuousClock()
            let start = clock.now
            for _ in 0..<msgs { try publisher.publish(payload, to: "bench") }
            try await publisher.flush(timeout: limit)
            guard await done.wait(timeout: limit) else {
                throw ValidationError(
                    "subscribers saw \(done.count) of \(total) messages within \(timeout) s")
            }
            let elapsed = done.finishedAt.map { $0 - start } ?? (clock.now - start)
            // After a round trip on each subscriber connection everything sent has arrived: a
            // queue group that delivered a message twice shows here.
            for connection in connections { try await connection.flush(timeout: limit) }
            guard done.count == total else {
                throw ValidationError("subscribers saw \(done.count) messages, expected \(total)")
            }
            await publisher.close()
            for connection in connections { await connection.close() }
            return elapsed.seconds
        }

        /// (Re)creates the file-storage stream `BENCH` on `bench.js`.
        private func benchStream(_ nats: NATSClient) async throws -> JetStream {
            let js = nats.jetStream(timeout: limit)
            try? await js.deleteStream("BENCH")
            _ = try await js.addStream(StreamConfig(name: "BENCH", subjects: ["bench.js"], storage: .file))
            return js
        }

        /// Publishes `msgs` with at most `par` acknowledgements outstanding; checks the count.
        private func publishAll(_ js: JetStream, _ payload: [UInt8]) async throws {
            let publisher = try js.asyncPublisher(maxPending: par)
            defer { publisher.close() }
            var failures = 0
            var futures: [PubAckFuture] = []
            for _ in 0..<msgs {
                let future = try await publisher.publish(payload, to: "bench.js")
                if future.isDone {
                    if (try? await future.value) == nil { failures += 1 }
                } else {
                    futures.append(future)
                }
            }
            try await publisher.complete()
            for future in futures where (try? await future.value) == nil { failures += 1 }
            let stored = try await js.streamInfo("BENCH").state.messages
            guard failures == 0, stored == UInt64(msgs) else {
                throw ValidationError("\(failures) publishes failed; the stream holds \(stored) of \(msgs)")
            }
        }

        private func benchJetStreamPublish(_ payload: [UInt8]) async throws -> Double {
            let nats = try await connect("bench jspub")
            let js = try await benchStream(nats)
            let clock = ContinuousClock()
            let start = clock.now
            try await publishAll(js, payload)
            let elapsed = clock.now - start
            await nats.close()
            return elapsed.seconds
        }

        private func benchJetStreamFetch(_ payload: [UInt8]) async throws -> Double {
            try await timedConsumption("bench jsfetch", payload) { js in
                var received = 0
                while received < msgs {
                    let batch = try await js.fetch(
                        "BENCH", "bench", batch: min(256, msgs - received), expires: limit)
                    guard !batch.isEmpty else {
                        throw ValidationError("fetch returned nothing after \(received)")
                    }
                    for message in batch { try message.ack() }
                    received += batch.count
                }
            }
        }

        /// Like jsfetch, through the continuous pull (`js.messages`, 256 per pull request, the
        /// next one sent when half of the last has arrived) instead of one fetch at a time.
        private func benchJetStreamConsume(_ payload: [UInt8]) async throws -> Double {
            try await timedConsumption("bench jsconsume", payload) { js in
                try await Self.consume(try js.messages("BENCH", consumer: "bench", batch: 256), count: msgs)
            }
        }

        /// Stores the messages (not timed), makes the durable consumer `bench` with explicit
        /// acks, then times `consume` until its acks are flushed.
        private func timedConsumption(
            _ name: String, _ payload: [UInt8], _ consume: (JetStream) async throws -> Void
        ) async throws -> Double {
            let nats = try await connect(name)
            let js = try await benchStream(nats)
            try await publishAll(js, payload)
            // As the peers' consumer: no limit of unacknowledged messages (the server's default,
            // 1,000, holds a batch back until the acks of the earlier ones are processed).
            _ = try await js.addConsumer(
                "BENCH", ConsumerConfig(durableName: "bench", ackPolicy: .explicit, maxAckPending: -1))
            let clock = ContinuousClock()
            let start = clock.now
            try await consume(js)
            try await nats.flush(timeout: limit)
            let elapsed = clock.now - start
            await nats.close()
            return elapsed.seconds
        }

        /// Takes `count` messages, acknowledging each. A function of its own: written inside
        /// the bench function, the loop crashed swift 6.3's optimizer ("While splitting coroutine").
        static func consume(_ messages: PullMessages, count: Int) async throws {
            var received = 0
            var iterator = messages.makeAsyncIterator()
            while received < count {
                guard let message = try await iterator.next() else { break }
                try message.ack()
                received += 1
            }
        }

        private func benchRequests(_ payload: [UInt8], parallel: Int) async throws -> (Double, [UInt64]) {
            let target = subject ?? "bench.rpc"
            let responder = try await connect("bench responder")
            let requester = try await connect("bench requester")
            if subject == nil {
                try responder.subscribe(to: "bench.rpc") { message in
                    try? responder.reply(to: message, with: message.payload)
                }
                try await responder.flush(timeout: limit)
            }
            let errors = Countdown(Int.max)
            let clock = ContinuousClock()
            let remaining = Countdown(msgs)
            let timeoutLimit = limit
            let start = clock.now
            let executor = ioExecutor ? requester.ioExecutor : nil
            let latencies = try await withThrowingTaskGroup(of: [UInt64].self) { group in
                for _ in 0..<parallel {
                    group.addTask(executorPreference: executor) {
                        var mine: [UInt64] = []
                        while remaining.claim() {
                            let t0 = clock.now
                            let reply = try await requester.request(
                                payload, to: target, timeout: timeoutLimit)
                            if reply.headers?["Nats-Service-Error-Code"] != nil { _ = errors.claim() }
                            mine.append((clock.now - t0).nanoseconds)
                        }
                        return mine
                    }
                }
                var all: [UInt64] = []
                all.reserveCapacity(msgs)
                for try await part in group { all += part }
                return all
            }
            let elapsed = clock.now - start
            await requester.close()
            await responder.close()
            if errors.count > 0 {
                throw ValidationError("\(errors.count) of \(msgs) requests got a service error reply")
            }
            return (elapsed.seconds, latencies)
        }
    }

    /// Counts deliveries on the I/O thread and wakes the benchmark at the last one.
    final class Countdown: Sendable {
        private let target: Int
        private let seen = Atomic<Int>(0)
        private let state = Mutex<
            (finishedAt: ContinuousClock.Instant?, waiter: CheckedContinuation<Void, Never>?)
        >(
            (nil, nil))

        init(_ target: Int) { self.target = target }

        var count: Int { seen.load(ordering: .relaxed) }

        /// Takes one unit of work; `false` once all `target` were taken.
        func claim() -> Bool { seen.add(1, ordering: .relaxed).newValue <= target }
        var finishedAt: ContinuousClock.Instant? { state.withLock { $0.finishedAt } }

        func tick() {
            guard seen.add(1, ordering: .relaxed).newValue == target else { return }
            let now = ContinuousClock.now
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.finishedAt = now
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume()
        }

        /// `false` if the target was not reached in time.
        func wait(timeout: Duration) async -> Bool {
            let timer = Task {
                try? await Task.sleep(for: timeout)
                let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                    defer { s.waiter = nil }
                    return s.waiter
                }
                waiter?.resume()
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { s -> Bool in
                    if s.finishedAt != nil { return true }
                    s.waiter = continuation
                    return false
                }
                if done { continuation.resume() }
            }
            timer.cancel()
            return finishedAt != nil
        }
    }

    extension Duration {
        var seconds: Double {
            let (s, atto) = components
            return Double(s) + Double(atto) / 1e18
        }
        var nanoseconds: UInt64 {
            let (s, atto) = components
            return UInt64(max(0, s)) * 1_000_000_000 + UInt64(max(0, atto) / 1_000_000_000)
        }
    }
#endif
