import ServiceRuntime

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Where a data service's PostgreSQL is: `DATABASE_URL`, or the original system's
/// `DATABASE_HOST/PORT/USER/PASSWORD/NAME`.
public struct DatabaseSettings: Sendable {
    public var conninfo: String
    public var poolSize: Int

    public static let variables: [ConfigVariable] = [
        ConfigVariable(
            "DATABASE_URL", help: "postgresql://user:password@host:port/dbname (or the DATABASE_* below)"),
        ConfigVariable("DATABASE_HOST", help: "host, when DATABASE_URL is not set", default: "127.0.0.1"),
        ConfigVariable("DATABASE_PORT", help: "port", default: "5432"),
        ConfigVariable("DATABASE_USER", help: "role the service runs as"),
        ConfigVariable("DATABASE_PASSWORD", help: "its password", secret: true),
        ConfigVariable("DATABASE_NAME", help: "database", default: "northwind"),
        ConfigVariable(
            "DATABASE_POOL_SIZE", help: "most connections (pipelined, opened as concurrency needs them)",
            default: "8"),
    ]

    public init(_ reader: SettingsReader) {
        poolSize = reader.int("DATABASE_POOL_SIZE", default: 8, range: 1...128)
        if let url = reader.string("DATABASE_URL") {
            if !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
                reader.problem("DATABASE_URL must start with postgresql:// or postgres://")
            }
            conninfo = url
        } else {
            guard let user = reader.string("DATABASE_USER", required: true) else {
                conninfo = ""
                return
            }
            let pieces: [(String, String?)] = [
                ("host", reader.string("DATABASE_HOST", default: "127.0.0.1")),
                ("port", String(reader.int("DATABASE_PORT", default: 5432, range: 1...65535))),
                ("user", user), ("password", reader.string("DATABASE_PASSWORD")),
                ("dbname", reader.string("DATABASE_NAME", default: "northwind")),
            ]
            conninfo = pieces.compactMap { key, value in value.map { "\(key)=\(Self.quote($0))" } }.joined(
                separator: " ")
        }
        conninfo +=
            conninfo.contains("connect_timeout") ? "" : (conninfo.contains("://") ? "" : " connect_timeout=2")
    }

    /// libpq keyword/value quoting.
    static func quote(_ value: String) -> String {
        "'" + value.replacing("\\", with: "\\\\").replacing("'", with: "\\'")
            + "'"
    }
}
