#if Server
    import ArgumentParser
    import Foundation
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

        static func object(_ message: NATSMessage) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(message.payload))) as? [String: Any] ?? [:]
        }

        static func printJSON(_ messages: [NATSMessage]) {
            for message in messages {
                let object = (try? JSONSerialization.jsonObject(with: Data(message.payload))) ?? [:]
                let data =
                    (try? JSONSerialization.data(
                        withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
                print(String(decoding: data, as: UTF8.self))
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "ls", abstract: "List running service instances.")
            @OptionGroup var lookup: Lookup

            func run() async throws {
                let replies = try await lookup.gather("$SRV.INFO").map(Micro.object)
                    .sorted { ($0["name"] as? String ?? "") < ($1["name"] as? String ?? "") }
                print(
                    "NAME".padding(toLength: 20, withPad: " ", startingAt: 0)
                        + "VERSION   ID                      DESCRIPTION")
                for info in replies {
                    let name = (info["name"] as? String ?? "?").padding(
                        toLength: 20, withPad: " ", startingAt: 0)
                    let version = (info["version"] as? String ?? "?").padding(
                        toLength: 10, withPad: " ", startingAt: 0)
                    let id = (info["id"] as? String ?? "?").padding(toLength: 24, withPad: " ", startingAt: 0)
                    print(name + version + id + (info["description"] as? String ?? ""))
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
                        "\(reply["name"] as? String ?? "?") \(reply["version"] as? String ?? "?") \(reply["id"] as? String ?? "?")"
                    )
                }
                print("\(replies.count) answered within \(ContinuousClock.now - start)")
                if replies.isEmpty { throw ExitCode(1) }
            }
        }
    }
#endif
