import Foundation
import NATSWire
import TestHarness
import Testing

/// The code of the NATSWire documentation (`Sources/Client/NATSWire/NATSWire.docc`), compiled
/// and run here against a live nats-server. Each `// snippet: NAME` … `// end snippet` region
/// is what an article shows, word for word: `DocumentationArticleTests` fails when an
/// article's Swift block matches no region, so the docs cannot drift from code that works.
/// `url` stands for the reader's server.
@Suite("Documentation snippets run", .serialized, .timeLimit(.minutes(3)))
struct DocumentationSnippetTests {
    @Test func gettingStarted() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let url = server.url
        // snippet: getting-started
        let nats = try await NATSClient.connect(url: url)

        let greetings = try nats.subscribe(to: "greet.*")
        try nats.publish("hello", to: "greet.joe")
        try await nats.flush()

        for try await message in greetings {
            print(message.subject, message.string)  // greet.joe hello
            break
        }
        await nats.close()
        // end snippet
        #expect(nats.status == .closed)
    }

    @Test func requestReply() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let nats = try await NATSClient.connect(url: server.url)
        defer { Task { await nats.close() } }
        // snippet: request-reply
        // The responder: a handler on the connection's I/O thread (quick, never blocking).
        try nats.subscribe(to: "math.double", queue: "math") { request in
            let number = Int(request.string) ?? 0
            try? nats.reply(to: request, with: Array(String(2 * number).utf8))
        }

        // The requester: one shared inbox; no responders fails at once, not at the timeout.
        let answer = try await nats.request("21", to: "math.double", timeout: .seconds(2))
        print(answer.string)  // 42
        // end snippet
        #expect(answer.string == "42")
        // snippet: scatter-gather
        // Every reply that arrives within the deadline (here: every service instance's ping).
        let pongs = try await nats.requestMany([], to: "$SRV.PING", timeout: .milliseconds(300))
        print("\(pongs.count) service instances answered")
        // end snippet
        #expect(pongs.isEmpty)
    }

    @Test func headersAndQueueGroups() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let nats = try await NATSClient.connect(url: server.url)
        defer { Task { await nats.close() } }
        // snippet: headers-queue
        // Members of one queue group share the messages: each goes to one of them.
        let workers = try nats.subscribe(to: "orders.>", queue: "workers")

        var headers = NATSHeaders()
        headers.append("order-42", for: "Nats-Msg-Id")
        try nats.publish("paid", to: "orders.eu.42", headers: headers)

        for try await order in workers {
            print(order.headers?["Nats-Msg-Id"] ?? "-", order.string)  // order-42 paid
            break
        }
        // end snippet
    }

    @Test func traceContext() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let nats = try await NATSClient.connect(url: server.url)
        defer { Task { await nats.close() } }
        // snippet: trace-context
        // The tracing library's side: the current span's context (here a fixed one).
        struct CurrentTrace: NATSTraceContextInjector {
            func inject(into headers: inout NATSHeaders) {
                NATSTraceContext(
                    traceIDHigh: 0x4bf9_2f35_77b3_4da6, traceIDLow: 0xa3ce_929d_0e0e_4736,
                    spanID: 0x00f0_67aa_0ba9_02b7
                )
                .write(into: &headers)
            }
        }
        var options = NATSOptions(url: server.url)
        options.traceContextInjector = CurrentTrace()
        let traced = try await NATSClient.connect(options)

        let inbox = try nats.subscribe(to: "traced.>")
        try await nats.flush()
        try traced.publish("hello", to: "traced.hello")
        for try await message in inbox {
            print(message.traceContext?.traceIDHex ?? "-")  // 4bf92f3577b34da6a3ce929d0e0e4736
            break
        }
        // end snippet
        await traced.close()
    }

    @Test func services() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let nats = try await NATSClient.connect(url: server.url)
        defer { Task { await nats.close() } }
        // snippet: services
        let service = try nats.addService(
            ServiceConfig(name: "greeter", version: "1.0.0", description: "says hello"))
        try service.addEndpoint("hello", subject: "greeter.hello") { request in
            guard !request.payload.isEmpty else {
                // An error reply: Nats-Service-Error-Code and Nats-Service-Error headers.
                throw ServiceError(code: 400, message: "a name is required")
            }
            return ServiceReply("hello, " + String(decoding: request.payload, as: UTF8.self))
        }

        let reply = try await nats.request("Ann", to: "greeter.hello")
        print(reply.string)  // hello, Ann
        // Discovery and statistics: $SRV.PING, $SRV.INFO and $SRV.STATS (ADR-32).
        let stats = try await nats.request([], to: "$SRV.STATS.greeter")
        print(stats.string)  // {"endpoints":[{"name":"hello","num_requests":1,...

        await service.stop()  // stops taking requests and waits for those in flight
        // end snippet
        #expect(reply.string == "hello, Ann")
        #expect(stats.string.contains("\"num_requests\":1"))
    }

    @Test func stayingConnected() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let url = server.url
        // snippet: staying-connected
        var options = NATSOptions(servers: [url])
        options.name = "billing"
        options.reconnect = ReconnectPolicy(
            initialWait: .seconds(2), maxWait: .seconds(30), jitter: .milliseconds(100),
            maxAttemptsPerServer: 60)  // the defaults
        options.reconnectBufferSize = 8 << 20  // publishes kept while disconnected
        let nats = try await NATSClient.connect(options)

        // connected, disconnected, reconnected, discoveredServers, lameDuckMode,
        // serverError, slowConsumer, closed
        let events = Task {
            for await event in nats.events() { print(event) }
        }

        let work = try nats.subscribe(to: "jobs")
        let worker = Task {
            for try await job in work { print(job.string) }  // one
        }
        try nats.publish("one", to: "jobs")
        // Unsubscribes, waits until what was sent before has arrived and been taken, closes.
        try await nats.drain()
        try await worker.value  // the subscription ended with the drain
        events.cancel()
        // end snippet
        #expect(nats.status == .closed)
    }

    @Test func security() async throws {
        // A test key of its own, made with `natswire nkey gen --kind user`.
        let seed = "SUAGMTM2XUP45BXZCL623OFOSYEBQIL2HZJLWGXGDTZF67LFCKBPQJAWKA"
        let server = try NATSServer(
            config: """
                authorization { users: [ { nkey: UCASO6G2IILTHRNZZJGNQEXYWE4OQ5TJ3HU74HO7PL6VJB4VNPDJKO3N } ] }
                """)
        defer { server.stop() }
        let url = server.url
        // snippet: security-nkey
        var options = NATSOptions(url: url)
        options.nkeySeed = seed  // signs the server's nonce with Ed25519; the seed never leaves
        // Or: options.credentialsFile = "/etc/nats/app.creds" (operator mode: JWT and seed),
        //     options.token = "…", options.user = "alice"; options.password = "…",
        //     options.tls = TLSOptions(caFile: "ca.pem") with a tls:// URL.
        let nats = try await NATSClient.connect(options)
        // end snippet
        #expect(nats.status == .connected)
        await nats.close()
    }

    @Test func jetStream() async throws {
        try await withJetStream { nats, _ in
            try await jetStreamSnippets(nats)
        }
    }

    private func jetStreamSnippets(_ nats: NATSClient) async throws {
        // snippet: jetstream
        let js = nats.jetStream()
        _ = try await js.addStream(
            StreamConfig(name: "ORDERS", subjects: ["orders.>"], duplicateWindow: .seconds(120)))

        // Acknowledged by the stream; the same Nats-Msg-Id within the window is stored once.
        let ack = try await js.publish("paid", to: "orders.42", options: .init(messageID: "order-42-paid"))
        print(ack.stream, ack.sequence)  // ORDERS 1

        _ = try await js.addConsumer("ORDERS", ConsumerConfig(durableName: "billing", ackWait: .seconds(30)))
        for message in try await js.fetch("ORDERS", "billing", batch: 100, expires: .seconds(1)) {
            print(message.subject, message.string)  // orders.42 paid
            try await message.doubleAck()  // waits for the server to confirm the ack
        }
        // end snippet
        #expect(ack.sequence == 1)
        // snippet: key-value
        let settings = try await js.createKeyValue(KeyValueConfig(bucket: "settings", history: 5))
        let revision = try await settings.put("theme", Array("dark".utf8))
        let entry = try await settings.get("theme")
        print(revision, entry.map { String(decoding: $0.value, as: UTF8.self) } ?? "-")  // 1 dark
        print(try await settings.keys())  // ["theme"]
        // end snippet
        #expect(revision == 1)
    }
}

/// Every Swift block of every article in the DocC catalog is one of the regions above.
@Suite("Documentation articles show tested code")
struct DocumentationArticleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test func everySwiftBlockIsATestedSnippet() throws {
        let source = try String(
            contentsOf: Self.root.appendingPathComponent("Tests/NATSWireTests/DocumentationSnippets.swift"),
            encoding: .utf8)
        let snippets = Self.regions(in: source)
        #expect(snippets.count >= 9)
        let catalog = Self.root.appendingPathComponent("Sources/Client/NATSWire/NATSWire.docc")
        let articles = try FileManager.default.contentsOfDirectory(atPath: catalog.path).filter {
            $0.hasSuffix(".md")
        }
        #expect(articles.count >= 7)
        var shown = Set<String>()
        for article in articles {
            let text = try String(contentsOf: catalog.appendingPathComponent(article), encoding: .utf8)
            for block in Self.swiftBlocks(in: text) {
                let match = snippets.first { $0.value == block }
                #expect(match != nil, "\(article): a Swift block that no test runs:\n\(block)")
                if let match { shown.insert(match.key) }
            }
        }
        #expect(
            shown == Set(snippets.keys), "snippets no article shows: \(Set(snippets.keys).subtracting(shown))"
        )
    }

    /// Every public declaration of the library carries a doc comment (the DocC catalog
    /// lists them; `scripts/docs.sh` prints docc's coverage, which also counts members the
    /// compiler synthesizes).
    @Test func everyPublicDeclarationIsDocumented() throws {
        let sources = Self.root.appendingPathComponent("Sources/Client/NATSWire")
        let files = try #require(FileManager.default.enumerator(atPath: sources.path)).compactMap {
            $0 as? String
        }
        .filter { $0.hasSuffix(".swift") }
        #expect(files.count > 40)
        var undocumented: [String] = []
        for file in files {
            let lines = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() {
                var declaration = line.drop { $0 == " " }
                while declaration.hasPrefix("@"), let space = declaration.firstIndex(of: " ") {
                    declaration = declaration[declaration.index(after: space)...]
                }
                guard declaration.hasPrefix("public "), !declaration.hasPrefix("public extension"),
                    !declaration.hasPrefix("public import")
                else { continue }
                var above = index - 1
                while above >= 0, lines[above].drop(while: { $0 == " " }).hasPrefix("@") { above -= 1 }
                if above < 0 || !lines[above].drop(while: { $0 == " " }).hasPrefix("///") {
                    undocumented.append("\(file):\(index + 1): \(declaration.prefix(80))")
                }
            }
        }
        #expect(undocumented.isEmpty, "\(undocumented.joined(separator: "\n"))")
    }

    /// `// snippet: NAME` … `// end snippet`, dedented.
    static func regions(in source: String) -> [String: String] {
        var regions: [String: String] = [:]
        var name: String?
        var lines: [Substring] = []
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("// snippet: ") {
                name = String(trimmed.dropFirst("// snippet: ".count))
                lines = []
            } else if trimmed == "// end snippet", let current = name {
                regions[current] = dedent(lines)
                name = nil
            } else if name != nil {
                lines.append(line)
            }
        }
        return regions
    }

    /// The contents of each ```swift fence, dedented.
    static func swiftBlocks(in markdown: String) -> [String] {
        var blocks: [String] = []
        var lines: [Substring]?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if lines == nil, line.drop(while: { $0 == " " }) == "```swift" {
                lines = []
            } else if let current = lines, line.drop(while: { $0 == " " }) == "```" {
                blocks.append(dedent(current))
                lines = nil
            } else if lines != nil {
                lines?.append(line)
            }
        }
        return blocks
    }

    static func dedent(_ lines: [Substring]) -> String {
        let indent =
            lines.filter { !$0.allSatisfy { $0 == " " } }.map { $0.prefix { $0 == " " }.count }.min() ?? 0
        return lines.map { $0.allSatisfy { $0 == " " } ? "" : String($0.dropFirst(indent)) }
            .joined(separator: "\n").trimmingCharacters(in: .newlines)
    }
}
