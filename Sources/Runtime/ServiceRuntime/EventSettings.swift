import NATSWire

/// The domain events a service publishes: on or off, and the JetStream stream that keeps
/// them. The stream captures every service's `<service>.events.>`; whichever service starts
/// first creates it, the others find it.
public struct EventSettings: Sendable {
    /// Events written with each change and relayed to the stream; off: neither (for
    /// measuring what the outbox costs, or a deployment without JetStream).
    public var enabled: Bool
    public var stream: String
    public var maxAgeSeconds: Int
    /// The stream's size limit in bytes (`nil`: none); the oldest events go first.
    public var maxBytes: Int64?
    /// Under a stream of changes, the relay starts a batch at most this often: longer
    /// batches cost less per event (each costs a select, a subscription and a delete),
    /// events reach the stream up to this much later. A change after a quiet spell goes at
    /// once.
    public var batchInterval: Duration = .milliseconds(Self.defaultBatchMilliseconds)
    /// 200 ms: side by side, events cost 18.4 % of a create's CPU against 20.9 % at 50 ms.
    static let defaultBatchMilliseconds = 200

    public static let variables: [ConfigVariable] = [
        ConfigVariable(
            "EVENTS", help: "write domain events with every change and publish them (on|off)", default: "on"),
        streamVariable,
        ConfigVariable(
            "EVENTS_MAX_AGE", help: "seconds the stream keeps an event (when it creates the stream)",
            default: "604800"),
        ConfigVariable(
            "EVENTS_MAX_BYTES",
            help:
                "bytes the stream keeps at most, oldest events dropped first (0: no limit; when it creates the stream)",
            default: "0"),
        ConfigVariable(
            "EVENTS_BATCH_INTERVAL",
            help: "milliseconds between the relay's batches under a stream of changes (1-10000)",
            default: String(defaultBatchMilliseconds)),
    ]

    /// The stream's name: also what the gateway reads `GET /events` from.
    public static let streamVariable = ConfigVariable(
        "EVENTS_STREAM", help: "JetStream stream of the events", default: "EVENTS")

    public static func stream(_ reader: SettingsReader) -> String {
        reader.string("EVENTS_STREAM", default: "EVENTS") ?? "EVENTS"
    }

    public init(_ reader: SettingsReader) {
        enabled = reader.oneOf("EVENTS", ["on", "off"], default: "on") == "on"
        stream = Self.stream(reader)
        maxAgeSeconds = reader.int("EVENTS_MAX_AGE", default: 604_800, range: 1...(10 * 365 * 86_400))
        let bytes = reader.int("EVENTS_MAX_BYTES", default: 0, range: 0...Int(Int64.max))
        maxBytes = bytes > 0 ? Int64(bytes) : nil
        batchInterval = .milliseconds(
            reader.int(
                "EVENTS_BATCH_INTERVAL", default: Self.defaultBatchMilliseconds, range: 1...10_000))
    }

    public init(enabled: Bool = true, stream: String = "EVENTS", maxAgeSeconds: Int = 604_800) {
        self.enabled = enabled
        self.stream = stream
        self.maxAgeSeconds = maxAgeSeconds
    }

    /// The subjects of one service's events.
    public static func subjects(of service: String) -> String { "\(service).events.>" }

    /// The stream's configuration: every service's events, on file, de-duplicated by
    /// `Nats-Msg-Id` (the event id) for two minutes, so a relay that publishes an event again
    /// after a crash does not store it twice.
    public var streamConfig: StreamConfig {
        StreamConfig(
            name: stream, subjects: ["*.events.>"], retention: .limits, storage: .file, maxBytes: maxBytes,
            maxAge: .seconds(maxAgeSeconds), discard: .old, duplicateWindow: .seconds(120),
            description: "Domain events of the NATSWire services")
    }

    /// Makes sure the stream exists: found as it is, or created (another service creating
    /// it at the same moment is fine).
    public func ensureStream(_ jetStream: JetStream) async throws {
        do {
            _ = try await jetStream.streamInfo(stream)
        } catch let error as JetStreamError where error.errorCode == JetStreamError.Code.streamNotFound {
            do {
                _ = try await jetStream.addStream(streamConfig)
            } catch let error as JetStreamError where error.errorCode == JetStreamError.Code.streamNameInUse {
                return
            }
        }
    }
}
