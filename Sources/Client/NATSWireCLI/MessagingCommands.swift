#if Server
    import ArgumentParser
    #if canImport(FoundationEssentials)
        import FoundationEssentials
    #else
        import Foundation
    #endif
    import NATSWire

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "pub", abstract: "Publish a message.")
        @OptionGroup var server: ServerOptions
        @Argument var subject: String
        @Argument var data: String
        @Option(name: .long, help: "A header, KEY:VALUE (repeatable).") var header: [String] = []
        @Option(name: .long, help: "How many times to publish.") var count = 1

        func run() async throws {
            guard count > 0 else { throw ValidationError("--count must be positive") }
            let headers = try parseHeaders(header)
            let nats = try await server.connect(name: "natswire pub")
            for _ in 0..<count { try nats.publish(data, to: subject, headers: headers) }
            try await nats.flush()
            await nats.close()
            print("published \(count) message\(count == 1 ? "" : "s") to \(subject)")
        }
    }

    struct Subscribe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sub", abstract: "Print the messages of a subject until interrupted or --count.")
        @OptionGroup var server: ServerOptions
        @Argument var subject: String
        @Option(name: .long, help: "Queue group.") var queue: String?
        @Option(name: .long, help: "Exit after this many messages.") var count: Int?

        func run() async throws {
            let nats = try await server.connect(name: "natswire sub")
            let subscription = try nats.subscribe(to: subject, queue: queue)
            if let count { try subscription.unsubscribe(after: count) }
            try await nats.flush()
            TextOutput.error("listening on \(subject)")
            for try await message in subscription {
                print(describe(message))
                TextOutput.flush()
            }
            await nats.close()
        }
    }

    struct Request: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "request", abstract: "Send a request and print the reply.")
        @OptionGroup var server: ServerOptions
        @Argument var subject: String
        @Argument var data: String
        @Option(name: .long, help: "A header, KEY:VALUE (repeatable).") var header: [String] = []
        @Option(name: .long, help: "Seconds to wait for the reply.") var timeout: Double = 5

        func run() async throws {
            let headers = try parseHeaders(header)
            let nats = try await server.connect(name: "natswire request")
            do {
                let reply = try await nats.request(
                    data, to: subject, headers: headers, timeout: .milliseconds(Int(timeout * 1000)))
                print(describe(reply))
            } catch {
                await nats.close()
                throw error
            }
            await nats.close()
        }
    }

    struct Reply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reply", abstract: "Answer every request on a subject with DATA.")
        @OptionGroup var server: ServerOptions
        @Argument var subject: String
        @Argument var data: String
        @Option(name: .long, help: "Queue group.") var queue: String?
        @Option(name: .long, help: "Exit after this many requests.") var count: Int?

        func run() async throws {
            let nats = try await server.connect(name: "natswire reply")
            let subscription = try nats.subscribe(to: subject, queue: queue)
            if let count { try subscription.unsubscribe(after: count) }
            try await nats.flush()
            TextOutput.error("answering on \(subject)")
            for try await message in subscription {
                print(describe(message))
                if message.replyTo != nil { try nats.reply(to: message, with: Array(data.utf8)) }
            }
            try await nats.flush()
            await nats.close()
        }
    }
#endif
