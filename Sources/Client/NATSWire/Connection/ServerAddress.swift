/// One server to connect to, parsed from a URL such as `nats://user:pass@host:4222`,
/// `tls://host`, `nats://token@[::1]:4222` or plain `host:port`.
public struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
    /// A host name or IP address.
    public var host: String
    /// The client port.
    public var port: Int
    /// `tls://` asks for TLS; `nats://` uses it only when the server requires it.
    public var wantsTLS: Bool
    /// The user of the URL (`nats://user:password@host`), or its token when there is no password.
    public var user: String?
    /// The password of the URL.
    public var password: String?
    /// A URL with a user part and no password carries a token.
    public var token: String? { password == nil ? user : nil }
    /// The name to verify the server's certificate against, when it is not `host`: a
    /// discovered server given by IP address inherits the name of the URL in use.
    public var tlsHostName: String?

    /// NATS's client port.
    public static let defaultPort = 4222

    /// An address without credentials.
    public init(host: String, port: Int = ServerAddress.defaultPort, wantsTLS: Bool = false) {
        self.host = host
        self.port = port
        self.wantsTLS = wantsTLS
    }

    /// Parses a server URL; throws `invalidArgument` with the reason when it is not one.
    public init(parsing url: String) throws(NATSError) {
        var rest = Substring(url.trimmingWhitespace())
        wantsTLS = false
        if let schemeEnd = rest.firstRange(of: "://") {
            let scheme = rest[..<schemeEnd.lowerBound].lowercased()
            switch scheme {
            case "nats": wantsTLS = false
            case "tls": wantsTLS = true
            default:
                throw NATSError(
                    .invalidArgument, "unsupported URL scheme \(scheme.debugDescription) in \(url)")
            }
            rest = rest[schemeEnd.upperBound...]
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = Self.percentDecoded(userInfo[..<colon])
                password = Self.percentDecoded(userInfo[userInfo.index(after: colon)...])
            } else {
                user = Self.percentDecoded(userInfo)
            }
        }
        (host, port) = try Self.hostAndPort(rest, defaultPort: Self.defaultPort, in: url)
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port` taken apart (the port checked, `defaultPort`
    /// when absent); the package's other URLs (the trace exporter's) are read with it too.
    package static func hostAndPort(_ authority: Substring, defaultPort: Int, in url: String)
        throws(NATSError) -> (host: String, port: Int)
    {
        let host: String
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw NATSError(.invalidArgument, "unterminated IPv6 address in \(url)")
            }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw NATSError(.invalidArgument, "unexpected text after the address in \(url)")
            }
        } else if let colon = authority.lastIndex(of: ":"), authority.firstIndex(of: ":") == colon {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            host = String(authority)
        }
        guard !host.isEmpty else { throw NATSError(.invalidArgument, "no host in \(url.debugDescription)") }
        guard let portText else { return (host, defaultPort) }
        guard let value = Int(portText), (1...65535).contains(value) else {
            throw NATSError(.invalidArgument, "bad port \(String(portText).debugDescription) in \(url)")
        }
        return (host, value)
    }

    /// Whether `host` is a literal IPv4 or IPv6 address rather than a name.
    public var isIPAddress: Bool {
        if host.contains(":") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }

    /// The same host and port, whatever the credentials.
    func sameServer(as other: ServerAddress) -> Bool {
        host.lowercased() == other.host.lowercased() && port == other.port
    }

    /// The URL, without its credentials.
    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(wantsTLS ? "tls" : "nats")://\(hostPart):\(port)"
    }

    /// `%XX` escapes decoded (URL user info; the trace exporter's header and attribute values).
    package static func percentDecoded(_ text: Substring) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var i = text.utf8.startIndex
        let utf8 = text.utf8
        while i < utf8.endIndex {
            let byte = utf8[i]
            if byte == UInt8(ascii: "%"), let h = utf8.index(i, offsetBy: 2, limitedBy: utf8.endIndex),
                h < utf8.endIndex,
                let value = UInt8(String(decoding: utf8[utf8.index(after: i)...h], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                i = utf8.index(after: h)
            } else {
                bytes.append(byte)
                i = utf8.index(after: i)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
