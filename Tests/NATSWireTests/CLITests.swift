import Foundation
import NATSWire
import Synchronization
import TestHarness
import Testing

/// Runs the `natswire` executable built beside the test bundle to its end (killed after
/// `timeout`): its exit status and what it printed.
private func natswire(_ arguments: [String], timeout: Duration = .seconds(20)) async throws -> (
    status: Int32, output: String
) {
    try await ChildProcess.run(cliExecutable().path, arguments, errorsToo: false, timeout: timeout)
}

private func cliExecutable() throws -> URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("natswire")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    throw HarnessError(
        "natswire executable not found near \(CommandLine.arguments[0]); run swift build first")
}

@Suite("natswire CLI against a live server", .timeLimit(.minutes(5)))
struct CLITests {
    @Test func requestAndReply() async throws {
        try await withNATSServer { server in
            let printed = FileManager.default.temporaryDirectory.appendingPathComponent(
                "cli-reply-\(UUID().uuidString.prefix(8)).out")
            defer { try? FileManager.default.removeItem(at: printed) }
            let replier = try ChildProcess(
                cliExecutable().path,
                ["--server", server.url, "reply", "cli.hello", "hi there", "--count", "1"], output: printed)
            defer { replier.stop(grace: .seconds(5)) }
            // The replier says so once the server has its subscription.
            #expect(
                await eventually(timeout: .seconds(20)) {
                    replier.output.contains("answering on cli.hello") || !replier.isRunning
                })
            let (status, answer) = try await natswire(["request", "cli.hello", "x", "--server", server.url])
            #expect(status == 0)
            #expect(answer.contains("hi there"))
        }
    }

    @Test func publishAndSubscribeWithHeaders() async throws {
        try await withNATSServer { server in
            let printed = FileManager.default.temporaryDirectory.appendingPathComponent(
                "cli-sub-\(UUID().uuidString.prefix(8)).out")
            defer { try? FileManager.default.removeItem(at: printed) }
            let subscriber = try ChildProcess(
                cliExecutable().path, ["sub", "cli.news", "--count", "2", "--server", server.url],
                output: printed)
            defer { subscriber.stop(grace: .seconds(5)) }
            // The subscriber says so once the server has its subscription.
            #expect(
                await eventually(timeout: .seconds(20)) {
                    subscriber.output.contains("listening on cli.news") || !subscriber.isRunning
                })
            #expect(subscriber.output.contains("listening on cli.news"))
            let (status, output) = try await natswire([
                "pub", "cli.news", "extra", "--header", "X-Trace:abc", "--count", "2", "--server", server.url,
            ])
            #expect(status == 0)
            #expect(output.contains("published 2 messages"))
            #expect(await eventually(timeout: .seconds(20)) { !subscriber.isRunning })
            let lines = subscriber.output.split(separator: "\n").filter { !$0.contains("listening on") }
            #expect(lines.count == 2)
            #expect(
                lines.allSatisfy {
                    $0.contains("[cli.news]") && $0.contains("X-Trace=abc") && $0.hasSuffix("extra")
                })
        }
    }

    @Test(arguments: ["pub", "pubsub", "req", "reqpar"])
    func benchPrintsTheSharedResultLine(mode: String) async throws {
        try await withNATSServer { server in
            let (status, output) = try await natswire([
                "bench", "--url", server.url, "--mode", mode, "--msgs", "500", "--size", "32", "--par", "8",
            ])
            #expect(status == 0)
            let last = output.split(separator: "\n").last.map(String.init) ?? ""
            var fields: [String: String] = [:]
            for pair in last.split(separator: " ") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
            }
            #expect(fields["mode"] == mode && fields["msgs"] == "500" && fields["size"] == "32")
            let seconds = try #require(fields["seconds"])
            #expect(seconds.split(separator: ".").last?.count == 6)
            #expect(Int(fields["msgs_per_sec"] ?? "") ?? 0 > 0)
            if mode.hasPrefix("req") {
                #expect(fields["p50_us"]?.split(separator: ".").last?.count == 1)
                #expect(Double(fields["p99_us"] ?? "") ?? 0 >= Double(fields["p50_us"] ?? "") ?? 0)
            }
        }
    }

    @Test(arguments: [("fanout", "each"), ("fanout", "shared"), ("queue", "each")])
    func benchFanOutAndQueueGroups(mode: String, connections: String) async throws {
        try await withNATSServer { server in
            let (status, output) = try await natswire([
                "bench", "--url", server.url, "--mode", mode, "--msgs", "400", "--size", "16", "--subs", "3",
                "--sub-connections", connections,
            ])
            #expect(status == 0, "\(output)")
            let last = output.split(separator: "\n").last.map(String.init) ?? ""
            var fields: [String: String] = [:]
            for pair in last.split(separator: " ") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
            }
            #expect(fields["mode"] == mode && fields["msgs"] == "400" && fields["subs"] == "3")
            #expect(fields["sub_connections"] == connections)
            // The exit status says every subscriber saw all 400 (fan-out), or the group saw each
            // exactly once (queue).
            #expect(
                Int(fields["msgs_per_sec"] ?? "") ?? 0 > 0 && Int(fields["delivered_per_sec"] ?? "") ?? 0 > 0)
        }
    }

    @Test func microCommandsSeeAService() async throws {
        try await withNATSServer { server in
            let nats = try await NATSClient.connect(url: server.url)
            let service = try nats.addService(
                ServiceConfig(name: "clisvc", version: "2.0.0", description: "for the CLI"))
            try service.addEndpoint("hello", subject: "clisvc.hello") { _ in ServiceReply("hi") }
            try await nats.flush()
            let (lsStatus, ls) = try await natswire(["micro", "ls", "--server", server.url])
            #expect(lsStatus == 0)
            #expect(
                ls.contains("clisvc") && ls.contains("2.0.0") && ls.contains(service.id)
                    && ls.contains("for the CLI"))
            let (_, stats) = try await natswire(["--server", server.url, "micro", "stats", "clisvc"])
            #expect(stats.contains("io.nats.micro.v1.stats_response") && stats.contains("clisvc.hello"))
            let (_, info) = try await natswire(["micro", "info", "clisvc", "--server", server.url])
            #expect(info.contains("io.nats.micro.v1.info_response"))
            let (pingStatus, ping) = try await natswire(["micro", "ping", "--server", server.url])
            #expect(pingStatus == 0 && ping.contains("1 answered"))
            let (missingStatus, _) = try await natswire(["micro", "info", "nosuch", "--server", server.url])
            #expect(missingStatus != 0)
            await service.stop()
            await nats.close()
        }
    }

    @Test func benchReachesAServerThatNeedsAnNKey() async throws {
        let user = try NKeyPair.generate(.user)
        let seedFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "bench-seed-\(UUID().uuidString.prefix(8)).nk")
        try user.encodedSeed.write(to: seedFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: seedFile) }
        try await withNATSServer(config: "authorization { users: [ { nkey: \(user.publicKey) } ] }") {
            server in
            let bench = ["bench", "--mode", "req", "--msgs", "50", "--size", "8"]
            let (status, output) = try await natswire(
                bench + ["--server", server.url, "--nkey", seedFile.path])
            #expect(status == 0, "\(output)")
            #expect(output.contains("mode=req msgs=50"))
            let (refused, _) = try await natswire(bench + ["--url", server.url])
            #expect(refused != 0, "without the NKey the server refuses the bench")
        }
    }

    @Test func benchFailsWithoutAServer() async throws {
        let server = try NATSServer()
        let url = server.url
        server.stop()
        let (status, _) = try await natswire([
            "bench", "--url", url, "--mode", "pub", "--msgs", "10", "--size", "1",
        ])
        #expect(status != 0)
    }
}

/// The JetStream commands against nats-server -js.
@Suite(.timeLimit(.minutes(3))) struct JetStreamCLITests {
    @Test(arguments: ["jspub", "jsfetch", "jsconsume"])
    func jetStreamBenchModesPrintTheSharedLine(mode: String) async throws {
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cli-bench-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: storage) }
        let server = try NATSServer(arguments: ["-js", "-sd", storage.path])
        defer { server.stop() }
        let (status, output) = try await natswire([
            "bench", "--url", server.url, "--mode", mode, "--msgs", "600", "--size", "16", "--par", "64",
        ])
        #expect(status == 0, "\(output)")
        let last = output.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("mode=\(mode) msgs=600 size=16 seconds="), "\(last)")
        #expect(last.contains("msgs_per_sec="))
    }

    @Test func followAStreamAndWatchABucket() async throws {
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cli-follow-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: storage) }
        let server = try NATSServer(arguments: ["-js", "-sd", storage.path])
        defer { server.stop() }
        let url = server.url
        func run(_ arguments: [String]) async throws -> String {
            let (status, output) = try await natswire(arguments + ["--server", url])
            #expect(status == 0, "\(arguments): \(output)")
            return output
        }
        _ = try await run(["stream", "add", "LOG", "--subject", "log.>", "--storage", "memory"])
        for index in 1...3 { _ = try await run(["js", "pub", "log.app", "line \(index)"]) }
        let all = try await run(["stream", "follow", "LOG", "--count", "3"])
        #expect(all.contains("#1 [log.app] line 1") && all.contains("#3 [log.app] line 3"), "\(all)")
        let later = try await run(["stream", "follow", "LOG", "--from", "2", "--count", "2"])
        #expect(!later.contains("line 1") && later.contains("#2 [log.app] line 2"), "\(later)")

        _ = try await run(["kv", "add", "cfg", "--storage", "memory"])
        _ = try await run(["kv", "put", "cfg", "mode", "one"])
        // The watch prints the current value, then exits after one change; changes are made
        // until it has seen one (it may start after some of them).
        let finished = Atomic<Bool>(false)
        let watching = Task.detached {
            defer { finished.store(true, ordering: .releasing) }
            return try await natswire(["kv", "watch", "cfg", "--count", "1", "--server", url])
        }
        let nats = try await NATSClient.connect(url: url)
        let kv = try await nats.jetStream().keyValue("cfg")
        var value = 1
        let changed = await eventually(timeout: .seconds(30)) {
            if finished.load(ordering: .acquiring) { return true }
            value += 1
            _ = try? await kv.put("mode", Array("v\(value)".utf8))
            return false
        }
        #expect(changed)
        let (status, output) = try await watching.value
        // The current value (whichever it was when the watch began), the marker, one change.
        let lines = output.split(separator: "\n").map(String.init)
        let marker = lines.firstIndex { $0.hasPrefix("-- current values") }
        #expect(status == 0 && marker != nil, "\(output)")
        if let marker {
            #expect(lines[..<marker].contains { $0.hasPrefix("mode PUT revision") }, "\(output)")
            #expect(lines[(marker + 1)...].contains { $0.hasPrefix("mode PUT revision") }, "\(output)")
        }
        await nats.close()
    }

    @Test func streamsConsumersPublishingAndKeyValue() async throws {
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cli-js-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: storage) }
        let server = try NATSServer(arguments: ["-js", "-sd", storage.path])
        defer { server.stop() }
        func run(_ arguments: [String]) async throws -> String {
            let (status, output) = try await natswire(arguments + ["--server", server.url])
            #expect(status == 0, "\(arguments): \(output)")
            return output
        }
        #expect(
            try await run([
                "stream", "add", "ORDERS", "--subject", "orders.>", "--storage", "memory", "--allow-direct",
            ])
            .contains(
                "stream ORDERS"))
        #expect(try await run(["stream", "ls"]).contains("ORDERS"))
        #expect(
            try await run(["js", "pub", "orders.new", "first", "--msg-id", "o-1"]).contains(
                "stored in ORDERS as #1"))
        #expect(try await run(["js", "pub", "orders.new", "first", "--msg-id", "o-1"]).contains("duplicate"))
        _ = try await run(["js", "pub", "orders.paid", "second"])
        #expect(try await run(["stream", "info", "ORDERS"]).contains("messages 2"))
        let stored = try await run(["stream", "get", "ORDERS", "--last-for", "orders.paid"])
        #expect(stored.contains("#2 [orders.paid]") && stored.contains("second"))
        let direct = try await run(["stream", "get", "ORDERS", "--sequence", "2", "--direct"])
        #expect(direct == stored, "direct get and the stream API print the same")
        #expect(
            try await run(["consumer", "add", "ORDERS", "billing", "--filter", "orders.>"]).contains(
                "pending 2"))
        #expect(try await run(["consumer", "ls", "ORDERS"]).contains("billing"))
        let next = try await run(["consumer", "next", "ORDERS", "billing", "--count", "2", "--wait", "2"])
        #expect(next.contains("#1 [orders.new]") && next.contains("#2 [orders.paid]"))
        #expect(
            try await run(["consumer", "info", "ORDERS", "billing"]).contains("pending 0, waiting for ack 0"))
        _ = try await run(["consumer", "rm", "ORDERS", "billing"])
        #expect(try await run(["stream", "purge", "ORDERS"]).contains("purged 2 messages"))
        _ = try await run(["stream", "rm", "ORDERS"])
        // A missing stream is a clear error and a failure status.
        let (status, _) = try await natswire(["stream", "info", "ORDERS", "--server", server.url])
        #expect(status == 1)

        _ = try await run(["kv", "add", "config", "--history", "3", "--storage", "memory"])
        #expect(try await run(["kv", "put", "config", "mode", "fast"]).contains("mode revision 1"))
        _ = try await run(["kv", "put", "config", "mode", "safe"])
        #expect(try await run(["kv", "get", "config", "mode"]).contains("safe"))
        #expect(try await run(["kv", "ls", "config"]).contains("mode"))
        let history = try await run(["kv", "history", "config", "mode"])
        #expect(history.contains("revision 1 PUT fast") && history.contains("revision 2 PUT safe"))
        _ = try await run(["kv", "del", "config", "mode"])
        let (getStatus, _) = try await natswire(["kv", "get", "config", "mode", "--server", server.url])
        #expect(getStatus == 1)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cli-obj-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = folder.appendingPathComponent("photo.bin")
        let bytes = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 13) })
        try bytes.write(to: original)
        _ = try await run(["object", "add", "media", "--storage", "memory"])
        #expect(
            try await run(["object", "put", "media", original.path]).contains(
                "photo.bin: 300000 bytes in 3 chunks")
        )
        #expect(try await run(["object", "ls", "media"]).contains("photo.bin\t300000"))
        let copy = folder.appendingPathComponent("copy.bin")
        _ = try await run(["object", "get", "media", "photo.bin", "--out", copy.path])
        #expect(try Data(contentsOf: copy) == bytes)
        _ = try await run(["object", "rm", "media", "photo.bin"])
        #expect(try await run(["object", "ls", "media"]).contains("(no objects)"))
    }
}
