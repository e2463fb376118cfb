#if Server
    import ArgumentParser
    #if canImport(FoundationEssentials)
        import FoundationEssentials
    #else
        import Foundation
    #endif
    import NATSWire

    /// `natswire nkey gen|pub`: NKeys for server configs (the seed stays with the client).
    struct NKeyCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "nkey", abstract: "Create NKeys and show their public keys.",
            subcommands: [Generate.self, Public.self])

        struct Generate: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "gen",
                abstract: "Write a new seed to a file (mode 0600) and print its public key.")
            @Option(name: .long, help: "user, account or operator.") var kind = "user"
            @Option(name: .long, help: "File for the seed; must not exist.") var out: String

            func run() throws {
                let kinds: [String: NKeyPair.Kind] = [
                    "user": .user, "account": .account, "operator": .operator,
                ]
                guard let kind = kinds[kind] else {
                    throw ValidationError("--kind must be user, account or operator")
                }
                guard !FileManager.default.fileExists(atPath: out) else {
                    throw ValidationError("\(out) exists; not overwriting a seed")
                }
                let key = try NKeyPair.generate(kind)
                guard
                    FileManager.default.createFile(
                        atPath: out, contents: Data((key.encodedSeed + "\n").utf8),
                        attributes: [.posixPermissions: 0o600])
                else { throw ValidationError("cannot write \(out)") }
                print(key.publicKey)
            }
        }

        struct Public: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "pub", abstract: "Print the public key of the seed in a file.")
            @Argument(help: "File holding a seed.") var seedFile: String

            func run() throws {
                print(try NKeyPair(seed: try String(contentsOfFile: seedFile, encoding: .utf8)).publicKey)
            }
        }
    }
#endif
