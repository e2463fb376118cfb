#if Server
    import ArgumentParser
    #if canImport(FoundationEssentials)
        import FoundationEssentials
    #else
        import Foundation
    #endif
    import NATSWire

    /// `natswire micro ...`: discover and inspect services on the NATS services API.
    struct Micro: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Discover and inspect NATS services (ADR-32).",
            subcommands: [List.self, Info.self, Stats.self, Ping.self])

        struct Lookup: ParsableArguments {
            @OptionGroup var server: ServerOptions
            @Option(name: .long, help: "Seconds to wait for answers.") var wait: Double = 0.5

            /// Publishes to `subject` and returns every reply that arrives in time.
            func gather(_ subject: String) async throws -> [NATSMessage] {
                let nats = try await server.connect(name: "natswire micro")
                let replies = try await nats.requestMany(
                    [], to: subject, timeout: .milliseconds(Int(wait * 1000)))
                await nats.close()
                return replies
            }
        }

        static func object(_ message: NATSMessage) -> AnyJSON {
            AnyJSON.decode(message.payload) ?? .object([:])
        }

        static func printJSON(_ messages: [NATSMessage]) {
            for message in messages { print(object(message).pretty) }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "ls", abstract: "List running service instances.")
            @OptionGroup var lookup: Lookup

            func run() async throws {
                let replies = try await lookup.gather("$SRV.INFO").map(Micro.object)
                    .sorted { ($0["name"] ?? "") < ($1["name"] ?? "") }
                print(TextOutput.column("NAME", 20) + "VERSION   ID                      DESCRIPTION")
                for info in replies {
                    print(
                        TextOutput.column(info["name"] ?? "?", 20)
                            + TextOutput.column(info["version"] ?? "?", 10)
                            + TextOutput.column(info["id"] ?? "?", 24) + (info["description"] ?? ""))
                }
                if replies.isEmpty { print("(no services answered)") }
            }
        }

        struct Info: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show the INFO of every instance of a service.")
            @OptionGroup var lookup: Lookup
            @Argument var name: String

            func run() async throws {
                let replies = try await lookup.gather("$SRV.INFO.\(name)")
                guard !replies.isEmpty else { throw ValidationError("no instance of \(name) answered") }
                Micro.printJSON(replies)
            }
        }

        struct Stats: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show the STATS of every instance of a service.")
            @OptionGroup var lookup: Lookup
            @Argument var name: String

            func run() async throws {
                let replies = try await lookup.gather("$SRV.STATS.\(name)")
                guard !replies.isEmpty else { throw ValidationError("no instance of \(name) answered") }
                Micro.printJSON(replies)
            }
        }

        struct Ping: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Ping all services, or those of one name.")
            @OptionGroup var lookup: Lookup
            @Argument var name: String?

            func run() async throws {
                let start = ContinuousClock.now
                let replies = try await lookup.gather(name.map { "$SRV.PING.\($0)" } ?? "$SRV.PING")
                for reply in replies.map(Micro.object) {
                    print(
                        "\(reply["name"] ?? "?") \(reply["version"] ?? "?") \(reply["id"] ?? "?")"
                    )
                }
                print("\(replies.count) answered within \(ContinuousClock.now - start)")
                if replies.isEmpty { throw ExitCode(1) }
            }
        }
    }
#endif
