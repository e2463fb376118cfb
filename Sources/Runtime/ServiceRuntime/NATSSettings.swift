import NATSWire

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// How a process reaches NATS: the servers, its own identity, TLS. Shared by every service
/// and the gateway so that they all read the same variables.
public struct NATSSettings: Sendable {
    public var servers: [String]
    public var user: String?
    public var password: String?
    public var nkeySeedFile: String?
    public var credentialsFile: String?
    public var tls: TLSOptions?
    /// Prefix of this process's reply subjects (its permissions may allow only these).
    public var inboxPrefix: String
    /// A file a service keeps fresh while it serves and NATS answers (``HealthFile``), for
    /// process supervisors that probe files (Kubernetes exec probes); `nil`: none.
    public var healthFile: String?
    /// How long the NATS I/O thread polls before it sleeps (``NATSOptions/spinBeforeSleep``).
    public var spinBeforeSleep: Duration

    public static let variables: [ConfigVariable] = [
        ConfigVariable(
            "NATS_URL", help: "NATS server URL(s), comma-separated", default: "nats://127.0.0.1:4222"),
        ConfigVariable("NATS_USER", help: "NATS user (with NATS_PASSWORD)"),
        ConfigVariable("NATS_PASSWORD", help: "NATS password", secret: true),
        ConfigVariable("NATS_NKEY_SEED_FILE", help: "file with this process's NKey seed (SU...)"),
        ConfigVariable("NATS_CREDS", help: "credentials file (user JWT + seed) for operator mode"),
        ConfigVariable("NATS_TLS_CA", help: "CA file (PEM) to verify NATS with; turns TLS on"),
        ConfigVariable("NATS_TLS_CERT", help: "client certificate (PEM) for NATS TLS"),
        ConfigVariable("NATS_TLS_KEY", help: "private key (PEM) of NATS_TLS_CERT"),
        ConfigVariable("NATS_INBOX_PREFIX", help: "prefix of reply subjects", default: "_INBOX"),
        ConfigVariable(
            "NATS_SPIN_MICROSECONDS",
            help:
                "microseconds the NATS I/O thread polls before sleeping: lower latency for more CPU (0: sleep at once)",
            default: "0"),
        ConfigVariable(
            "HEALTH_FILE",
            help:
                "a service touches this file every 10 s while it serves and a NATS round trip succeeds, and removes it otherwise (for exec probes)"
        ),
    ]

    public init(_ reader: SettingsReader) {
        let urls = reader.string("NATS_URL", default: "nats://127.0.0.1:4222") ?? ""
        servers = urls.split(separator: ",").map { String($0.trimmedSpaces) }.filter {
            !$0.isEmpty
        }
        for url in servers where (try? ServerAddress(parsing: url)) == nil {
            reader.problem("NATS_URL: \(url.debugDescription) is not a NATS URL")
        }
        if servers.isEmpty { reader.problem("NATS_URL is empty") }
        user = reader.string("NATS_USER")
        password = reader.string("NATS_PASSWORD")
        nkeySeedFile = reader.string("NATS_NKEY_SEED_FILE")
        credentialsFile = reader.string("NATS_CREDS")
        for (name, path) in [("NATS_NKEY_SEED_FILE", nkeySeedFile), ("NATS_CREDS", credentialsFile)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                reader.problem("\(name): cannot read \(path)")
            }
        }
        let ca = reader.string("NATS_TLS_CA")
        let cert = reader.string("NATS_TLS_CERT")
        if ca != nil || cert != nil {
            tls = TLSOptions(caFile: ca, certificateFile: cert, keyFile: reader.string("NATS_TLS_KEY"))
        }
        inboxPrefix = reader.string("NATS_INBOX_PREFIX", default: "_INBOX") ?? "_INBOX"
        healthFile = reader.string("HEALTH_FILE")
        spinBeforeSleep = .microseconds(reader.int("NATS_SPIN_MICROSECONDS", default: 0, range: 0...100_000))
    }

    /// Client options for a connection named `name`: reconnecting forever (a service
    /// outlives NATS restarts), with this process's credentials.
    public func options(name: String) throws -> NATSOptions {
        var options = NATSOptions(servers: servers)
        options.name = name
        options.user = user
        options.password = password
        if let nkeySeedFile {
            options.nkeySeed = try String(contentsOfFile: nkeySeedFile, encoding: .utf8)
        }
        options.credentialsFile = credentialsFile
        options.tls = tls
        options.inboxPrefix = inboxPrefix
        options.spinBeforeSleep = spinBeforeSleep
        options.reconnect.maxAttemptsPerServer = nil
        options.reconnect.maxWait = .seconds(2)
        options.reconnect.initialWait = .milliseconds(250)
        // The trace context of the calling task goes with every request and publish.
        if ProcessTracing.isEnabled { options.traceContextInjector = CurrentTraceInjector() }
        return options
    }

    /// The servers, for logs.
    public var description: String { servers.joined(separator: ",") }
}
