#if Server
    import ArgumentParser
    #if canImport(FoundationEssentials)
        import FoundationEssentials
    #else
        import Foundation
    #endif
    import NATSWire

    @main
    enum Main {
        static func main() async {
            await NATSWireCommand.main(
                globalOptionsMovedAfterSubcommand(Array(CommandLine.arguments.dropFirst())))
        }

        /// Connection options that may come before the subcommand.
        static let globalOptions: Set<String> = [
            "--server", "--creds", "--nkey", "--tls-ca", "--tls-cert", "--tls-key",
        ]

        /// `natswire --server URL --nkey FILE pub ...` is the documented form; ArgumentParser
        /// wants options after the subcommand that declares them, so move them to the end.
        static func globalOptionsMovedAfterSubcommand(_ arguments: [String]) -> [String] {
            var global: [String] = []
            var rest = arguments[...]
            while let first = rest.first, first.hasPrefix("--"),
                let name = first.split(separator: "=", maxSplits: 1).first.map(String.init),
                globalOptions.contains(name)
            {
                rest = rest.dropFirst()
                global.append(first)
                if !first.contains("="), let value = rest.first {
                    global.append(value)
                    rest = rest.dropFirst()
                }
            }
            guard !global.isEmpty, !rest.isEmpty else { return arguments }
            // After everything, so it reaches nested subcommands (`micro stats NAME`) too.
            return Array(rest) + global
        }
    }

    struct NATSWireCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "natswire",
            abstract: "A NATS command-line client built on NATSWire.",
            subcommands: [
                Publish.self, Subscribe.self, Request.self, Reply.self, Bench.self, Micro.self,
                NKeyCommand.self, StreamCommand.self, ConsumerCommand.self, JetStreamCommand.self,
                KeyValueCommand.self, ObjectCommand.self,
            ])
    }

    /// `--server`, shared by the commands that talk to one server.
    struct ServerOptions: ParsableArguments {
        @Option(
            name: .long,
            help:
                "Server URL, or several separated by commas (default: $NATS_URL, then nats://127.0.0.1:4222)."
        )
        var server: String?
        @Option(name: .long, help: "Credentials file (user JWT + NKey seed) for operator mode.")
        var creds: String?
        @Option(name: .long, help: "File holding an NKey seed (SU...).")
        var nkey: String?
        @Option(name: .customLong("tls-ca"), help: "CA certificates (PEM) to verify the server; implies TLS.")
        var tlsCA: String?
        @Option(name: .customLong("tls-cert"), help: "Client certificate (PEM); implies TLS.")
        var tlsCert: String?
        @Option(name: .customLong("tls-key"), help: "Private key (PEM) of --tls-cert.")
        var tlsKey: String?

        var url: String {
            server ?? ProcessInfo.processInfo.environment["NATS_URL"] ?? "nats://127.0.0.1:4222"
        }

        func connect(name: String) async throws -> NATSClient {
            try await NATSClient.connect(options(name: name))
        }

        /// The connection options these flags describe: servers, credentials, TLS.
        func options(name: String) throws -> NATSOptions {
            var options = NATSOptions(servers: url.split(separator: ",").map { String($0) })
            options.name = name
            options.credentialsFile = creds
            if let nkey {
                options.nkeySeed = try String(contentsOfFile: nkey, encoding: .utf8)
            }
            if tlsCA != nil || tlsCert != nil {
                options.tls = TLSOptions(caFile: tlsCA, certificateFile: tlsCert, keyFile: tlsKey)
            }
            return options
        }
    }

    /// Turns `Key:Value` arguments into headers.
    func parseHeaders(_ items: [String]) throws -> NATSHeaders? {
        guard !items.isEmpty else { return nil }
        var headers = NATSHeaders()
        for item in items {
            guard let colon = item.firstIndex(of: ":"), colon != item.startIndex else {
                throw ValidationError("header \(item.debugDescription) is not KEY:VALUE")
            }
            let value = TextOutput.trimmed(item[item.index(after: colon)...])
            headers.append(value, for: String(item[..<colon]))
        }
        return headers
    }

    func describe(_ message: NATSMessage) -> String {
        var text = "[\(message.subject)]"
        if let reply = message.replyTo { text += " reply=\(reply)" }
        if let headers = message.headers {
            if let status = headers.status { text += " status=\(status)" }
            for field in headers { text += " \(field.name)=\(field.value)" }
        }
        return text + " " + message.string
    }
#else
    @main
    enum Main {
        static func main() {
            print("natswire was built without the Server trait; rebuild with default traits.")
        }
    }
#endif
