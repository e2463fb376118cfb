#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The server's `INFO` block. Only the fields a client acts on are decoded; unknown fields
/// are ignored so newer servers keep working.
public struct ServerInfo: Sendable, Equatable, Decodable {
    /// The server's unique id.
    public var serverID: String
    /// The server's name, if it has one.
    public var serverName: String?
    /// The server's version.
    public var version: String
    /// The protocol version (1: headers, dynamic cluster INFO).
    public var proto: Int
    /// The host the server listens on.
    public var host: String?
    /// The port the server listens on.
    public var port: Int?
    /// Whether the server takes headers (HPUB, HMSG).
    public var headers: Bool
    /// The largest payload the server accepts, in bytes; publishes beyond fail before being sent.
    public var maxPayload: Int
    /// Whether the server needs credentials.
    public var authRequired: Bool
    /// Whether the server requires TLS.
    public var tlsRequired: Bool
    /// Whether the server offers TLS.
    public var tlsAvailable: Bool
    /// The nonce to sign for NKey or JWT authentication.
    public var nonce: String?
    /// The id the server gave this connection.
    public var clientID: UInt64?
    /// This connection's address as the server sees it.
    public var clientIP: String?
    /// The server's cluster name.
    public var cluster: String?
    /// URLs of the other servers of the cluster, learned for failover.
    public var connectURLs: [String]
    /// Lame duck mode: the server is about to shut down and wants clients to move.
    public var lameDuckMode: Bool
    /// Whether JetStream is enabled on the server.
    public var jetStream: Bool

    enum CodingKeys: String, CodingKey {
        case serverID = "server_id"
        case serverName = "server_name"
        case version, proto, host, port, headers, nonce, cluster
        case maxPayload = "max_payload"
        case authRequired = "auth_required"
        case tlsRequired = "tls_required"
        case tlsAvailable = "tls_available"
        case clientID = "client_id"
        case clientIP = "client_ip"
        case connectURLs = "connect_urls"
        case lameDuckMode = "ldm"
        case jetStream = "jetstream"
    }

    /// Reads an INFO document; absent fields take their protocol defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        serverID = try c.decodeIfPresent(String.self, forKey: .serverID) ?? ""
        serverName = try c.decodeIfPresent(String.self, forKey: .serverName)
        version = try c.decodeIfPresent(String.self, forKey: .version) ?? ""
        proto = try c.decodeIfPresent(Int.self, forKey: .proto) ?? 0
        host = try c.decodeIfPresent(String.self, forKey: .host)
        port = try c.decodeIfPresent(Int.self, forKey: .port)
        headers = try c.decodeIfPresent(Bool.self, forKey: .headers) ?? false
        maxPayload = try c.decodeIfPresent(Int.self, forKey: .maxPayload) ?? 1_048_576
        authRequired = try c.decodeIfPresent(Bool.self, forKey: .authRequired) ?? false
        tlsRequired = try c.decodeIfPresent(Bool.self, forKey: .tlsRequired) ?? false
        tlsAvailable = try c.decodeIfPresent(Bool.self, forKey: .tlsAvailable) ?? false
        nonce = try c.decodeIfPresent(String.self, forKey: .nonce)
        clientID = try c.decodeIfPresent(UInt64.self, forKey: .clientID)
        clientIP = try c.decodeIfPresent(String.self, forKey: .clientIP)
        cluster = try c.decodeIfPresent(String.self, forKey: .cluster)
        connectURLs = try c.decodeIfPresent([String].self, forKey: .connectURLs) ?? []
        lameDuckMode = try c.decodeIfPresent(Bool.self, forKey: .lameDuckMode) ?? false
        jetStream = try c.decodeIfPresent(Bool.self, forKey: .jetStream) ?? false
    }

    /// Decodes the JSON that follows `INFO `.
    static func decode(_ json: ArraySlice<UInt8>) throws(ProtocolViolation) -> ServerInfo {
        do {
            return try JSONDecoder().decode(ServerInfo.self, from: Data(json))
        } catch {
            throw ProtocolViolation("INFO is not valid JSON: \(error)")
        }
    }
}
