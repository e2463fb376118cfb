#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The JSON documents of `$SRV.PING`, `$SRV.INFO` and `$SRV.STATS` (micro v1).
enum ServiceDiscovery {
    enum Verb: String, CaseIterable {
        case ping = "PING"
        case info = "INFO"
        case stats = "STATS"
    }

    /// `$SRV.VERB`, `$SRV.VERB.name`, `$SRV.VERB.name.id`.
    static func subjects(_ verb: Verb, name: String, id: String) -> [String] {
        ["$SRV.\(verb.rawValue)", "$SRV.\(verb.rawValue).\(name)", "$SRV.\(verb.rawValue).\(name).\(id)"]
    }

    struct Ping: Codable, Equatable {
        var type = "io.nats.micro.v1.ping_response"
        var name: String
        var id: String
        var version: String
        var metadata: [String: String]
    }

    struct EndpointInfo: Codable, Equatable {
        var name: String
        var subject: String
        var queue_group: String?
        var metadata: [String: String]
    }

    struct Info: Codable, Equatable {
        var type = "io.nats.micro.v1.info_response"
        var name: String
        var id: String
        var version: String
        var metadata: [String: String]
        var description: String
        var endpoints: [EndpointInfo]
    }

    struct EndpointStats: Codable, Equatable {
        var name: String
        var subject: String
        var queue_group: String?
        var num_requests: Int64
        var num_errors: Int64
        var last_error: String
        var processing_time: Int64
        var average_processing_time: Int64
    }

    struct Stats: Codable, Equatable {
        var type = "io.nats.micro.v1.stats_response"
        var name: String
        var id: String
        var version: String
        var metadata: [String: String]
        var started: String
        var endpoints: [EndpointStats]
    }

    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { Array($0) } ?? Array("{}".utf8)
    }

    /// RFC 3339 in UTC with fractional seconds, e.g. `2026-11-25T14:31:10.123Z`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
