import Foundation
import NATSWire
import Synchronization
import TestHarness
import Testing

/// Sends a request and gathers the replies: until `expecting` have come, or every reply
/// within `window` when none is expected.
func gather(
    _ nats: NATSClient, _ subject: String, expecting: Int? = nil, window: Duration = .milliseconds(300)
) async throws -> [NATSMessage] {
    try await nats.requestMany(
        [], to: subject, timeout: expecting == nil ? window : .seconds(10), maxReplies: expecting)
}

@Suite("Services API (ADR-32) against a live server", .timeLimit(.minutes(5)))
struct ServiceTests {
    static func echoService(_ nats: NATSClient, name: String = "echo") throws -> NATSService {
        let service = try nats.addService(
            ServiceConfig(
                name: name, version: "1.2.3-beta.1", description: "echoes", metadata: ["team": "core"]))
        try service.addEndpoint("say", subject: "\(name).say", metadata: ["kind": "echo"]) { request in
            ServiceReply(request.payload)
        }
        try service.addEndpoint("fail", subject: "\(name).fail") { request in
            if request.payload.isEmpty { throw ServiceError(code: 400, message: "payload required") }
            throw CancellationError()  // not a ServiceError: becomes a 500
        }
        return service
    }

    @Test func discoveryRepliesValidateAgainstTheSchemas() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            let service = try Self.echoService(nats)
            try await nats.flush()
            _ = try await nats.request("hi", to: "echo.say")
            let failed = try await nats.request([UInt8](), to: "echo.fail")
            #expect(ServiceError(reply: failed)?.code == 400)

            let client = try await connect(server.url)
            let ping = try await client.request([UInt8](), to: "$SRV.PING.echo")
            let info = try await client.request([UInt8](), to: "$SRV.INFO.echo.\(service.id)")
            let stats = try await client.request([UInt8](), to: "$SRV.STATS")
            let verdict = try validateAgainstMicroSchema([
                ("ping_response.json", ping.payload), ("info_response.json", info.payload),
                ("stats_response.json", stats.payload),
            ])
            #expect(verdict == "valid")

            let infoJSON = try JSONSerialization.jsonObject(with: Data(info.payload)) as? [String: Any]
            let endpoints = infoJSON?["endpoints"] as? [[String: Any]]
            #expect(endpoints?.count == 2)
            #expect(endpoints?.first?["queue_group"] as? String == "q")
            #expect(infoJSON?["id"] as? String == service.id)
            let statsJSON = try JSONSerialization.jsonObject(with: Data(stats.payload)) as? [String: Any]
            let endpointStats = (statsJSON?["endpoints"] as? [[String: Any]]) ?? []
            let fail = endpointStats.first { $0["name"] as? String == "fail" }
            #expect(fail?["num_requests"] as? Int == 1)
            #expect(fail?["num_errors"] as? Int == 1)
            #expect((fail?["last_error"] as? String)?.contains("payload required") == true)
            let say = endpointStats.first { $0["name"] as? String == "say" }
            #expect(say?["last_error"] as? String == "")
            #expect((statsJSON?["started"] as? String)?.hasSuffix("Z") == true)
            await service.stop()
            await client.close()
            await nats.close()
        }
    }

    @Test func errorRepliesCarryHeadersAndJSON() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            let service = try Self.echoService(nats)
            try await nats.flush()
            let bad = try await nats.request([UInt8](), to: "echo.fail")
            #expect(bad.headers?["Nats-Service-Error"] == "payload required")
            #expect(bad.headers?["Nats-Service-Error-Code"] == "400")
            let body = try JSONSerialization.jsonObject(with: Data(bad.payload)) as? [String: Any]
            #expect(body?["code"] as? Int == 400 && body?["message"] as? String == "payload required")
            let crashed = try await nats.request("x", to: "echo.fail")
            #expect(crashed.headers?["Nats-Service-Error-Code"] == "500")
            #expect(crashed.headers?["Nats-Service-Error"] == "internal error")
            #expect(service.endpointStatistics["fail"]?.errors == 2)
            await service.stop()
            await nats.close()
        }
    }

    @Test func everyDiscoverySubjectFormAnswers() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            let a = try Self.echoService(nats, name: "alpha")
            let b = try Self.echoService(nats, name: "beta")
            try await nats.flush()
            #expect(try await gather(nats, "$SRV.PING", expecting: 2).count == 2)
            #expect(try await gather(nats, "$SRV.INFO.alpha", expecting: 1).count == 1)
            #expect(try await gather(nats, "$SRV.STATS.beta.\(b.id)", expecting: 1).count == 1)
            #expect(try await gather(nats, "$SRV.PING.beta.\(a.id)").isEmpty)
            await a.stop()
            await b.stop()
            await nats.close()
        }
    }

    @Test func instancesShareRequestsThroughTheQueueGroup() async throws {
        try await withNATSServer { server in
            let one = try await connect(server.url)
            let two = try await connect(server.url)
            let first = try Self.echoService(one)
            let second = try Self.echoService(two)
            try await one.flush()
            try await two.flush()
            let caller = try await connect(server.url)
            for i in 0..<200 { _ = try await caller.request("\(i)", to: "echo.say") }
            let a = first.endpointStatistics["say"]?.requests ?? 0
            let b = second.endpointStatistics["say"]?.requests ?? 0
            #expect(a + b == 200)
            #expect(a > 0 && b > 0)
            await first.stop()
            await second.stop()
            for client in [one, two, caller] { await client.close() }
        }
    }

    @Test func requestsRunConcurrently() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            let service = try nats.addService(ServiceConfig(name: "sleepy", version: "1.0.0"))
            // Each handler waits until all 50 are inside: handled one at a time, none would
            // ever return and the requests would time out.
            let barrier = Barrier(parties: 50)
            try service.addEndpoint("nap", subject: "sleepy.nap") { _ in
                await barrier.arrive()
                return ServiceReply("done")
            }
            try await nats.flush()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<50 {
                    group.addTask { _ = try await nats.request("z", to: "sleepy.nap", timeout: .seconds(30)) }
                }
                try await group.waitForAll()
            }
            #expect(barrier.arrived == 50)
            await service.stop()
            await nats.close()
        }
    }

    @Test func handlersRunOnTheServicesExecutor() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            let executor = ThreadExecutor()
            let service = try nats.addService(
                ServiceConfig(name: "pinned", version: "1.0.0", executor: executor))
            try service.addEndpoint("where", subject: "pinned.where") { _ in
                // After a suspension too: the task comes back to the same thread.
                await Task.yield()
                return ServiceReply(executor.isCurrentThread ? "executor" : "elsewhere")
            }
            try await nats.flush()
            for _ in 0..<5 {
                let reply = try await nats.request("?", to: "pinned.where", timeout: .seconds(5))
                #expect(String(decoding: reply.payload, as: UTF8.self) == "executor")
            }
            await service.stop()
            await nats.close()
            executor.stop()
        }
    }

    @Test func stopDrainsInFlightRequests() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            let service = try nats.addService(ServiceConfig(name: "slow", version: "1.0.0"))
            let started = Atomic<Bool>(false)
            // The handler holds the first request until the test lets it go; later ones (the
            // probes below, until the stop takes the endpoint away) are answered at once.
            let (gate, release) = AsyncStream<Void>.makeStream()
            try service.addEndpoint("work", subject: "slow.work") { _ in
                guard !started.exchange(true, ordering: .acquiringAndReleasing) else {
                    return ServiceReply("late")
                }
                for await _ in gate { break }
                return ServiceReply("finished")
            }
            try await nats.flush()
            let caller = try await connect(server.url)
            let inFlight = Task { try await caller.request("x", to: "slow.work", timeout: .seconds(30)) }
            #expect(await eventually { started.load(ordering: .acquiring) })
            // Stop while the request is inside its handler: the endpoint goes at once (nobody
            // answers a new request), the stop waits for the request it holds.
            let stopped = Atomic<Bool>(false)
            let stopping = Task {
                await service.stop()
                stopped.store(true, ordering: .releasing)
            }
            #expect(
                await eventually(timeout: .seconds(10)) {
                    do {
                        _ = try await caller.request("x", to: "slow.work", timeout: .seconds(1))
                        return false
                    } catch {
                        return (error as? NATSError)?.kind == .noResponders
                    }
                })
            let stoppedEarly = stopped.load(ordering: .acquiring)
            #expect(!stoppedEarly, "stop returned with a request in its handler")
            release.yield()
            release.finish()
            await stopping.value
            #expect(try await inFlight.value.string == "finished")
            #expect(try await gather(caller, "$SRV.PING.slow").isEmpty)
            await caller.close()
            await nats.close()
        }
    }

    @Test func configurationIsValidated() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            #expect(throws: NATSError.self) {
                try nats.addService(ServiceConfig(name: "bad name", version: "1.0.0"))
            }
            #expect(throws: NATSError.self) { try nats.addService(ServiceConfig(name: "ok", version: "1.0")) }
            #expect(throws: NATSError.self) {
                try nats.addService(ServiceConfig(name: "ok", version: "01.0.0"))
            }
            let service = try nats.addService(
                ServiceConfig(name: "ok", version: "1.0.0+build.5", queueGroup: nil))
            #expect(throws: NATSError.self) { try service.addEndpoint("bad.name") { _ in .none } }
            await service.stop()
            await nats.close()
        }
    }
}

/// Holds every arriving task until `parties` have arrived, then lets them all go.
final class Barrier: Sendable {
    private let parties: Int
    private let state = Mutex<(count: Int, waiters: [CheckedContinuation<Void, Never>])>((0, []))

    init(parties: Int) { self.parties = parties }

    var arrived: Int { state.withLock { $0.count } }

    func arrive() async {
        await withCheckedContinuation { continuation in
            let released = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.count += 1
                state.waiters.append(continuation)
                guard state.count >= parties else { return [] }
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in released { waiter.resume() }
        }
    }
}
