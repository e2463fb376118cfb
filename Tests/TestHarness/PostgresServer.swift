import Foundation
import Synchronization

/// A real PostgreSQL 15 for tests: `initdb` into a temporary directory, started with
/// `pg_ctl` on 127.0.0.1 and a free port, Northwind loaded (the canonical dump when
/// `../shared/northwind/northwind.sql` exists, else the project's fixtures), and one role
/// per service. PostgreSQL refuses to run as root, so as root it runs as `postgres`.
public final class PostgresServer: Sendable {
    public let port: Int
    public let dataDirectory: URL
    public let loadedCanonicalDump: Bool
    public static let customersPassword = "customers-test-pw"
    public static let productsPassword = "products-test-pw"
    private let running = Mutex(true)

    public init() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pg-\(UUID().uuidString.prefix(8))")
        dataDirectory = root.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Self.chownToPostgres(root)
        port = try freePort()
        try Self.asPostgres(
            "initdb", ["-D", dataDirectory.path, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        try Self.asPostgres(
            "pg_ctl",
            [
                "-D", dataDirectory.path, "-l", root.appendingPathComponent("server.log").path, "-w", "-o",
                "-p \(port) -k \(root.path) -c listen_addresses=127.0.0.1 -c fsync=off", "start",
            ])
        let port = self.port
        let psql = { (arguments: [String]) throws in _ = try Self.psql(port: port, arguments) }
        try psql(["-d", "postgres", "-c", "CREATE DATABASE northwind"])
        // NORTHWIND_SQL=none forces the project's fixtures (to test them on a machine that
        // has the canonical dump).
        let override = ProcessInfo.processInfo.environment["NORTHWIND_SQL"]
        let canonical =
            override.map { URL(fileURLWithPath: $0) }
            ?? projectRoot.deletingLastPathComponent().appendingPathComponent(
                "shared/northwind/northwind.sql")
        if FileManager.default.fileExists(atPath: canonical.path) {
            try psql(["-d", "northwind", "-q", "-f", canonical.path])
            loadedCanonicalDump = true
        } else {
            try psql([
                "-d", "northwind", "-q", "-f",
                projectRoot.appendingPathComponent("Fixtures/northwind-schema.sql").path,
            ])
            try psql([
                "-d", "northwind", "-q", "-f",
                projectRoot.appendingPathComponent("Fixtures/northwind-seed.sql").path,
            ])
            loadedCanonicalDump = false
        }
        try psql([
            "-d", "northwind", "-q", "-v", "customers_password=\(Self.customersPassword)", "-v",
            "products_password=\(Self.productsPassword)", "-f",
            projectRoot.appendingPathComponent("Fixtures/service-roles.sql").path,
        ])
    }

    deinit { stop() }

    /// One server for a whole test run (initdb and loading take seconds); stopped when the
    /// test process exits.
    public static func shared() async throws -> PostgresServer {
        try await offThePool { try sharedBlocking() }
    }

    private static func sharedBlocking() throws -> PostgresServer {
        try sharedServer.withLock { server in
            if let server { return server }
            let started = try PostgresServer()
            server = started
            atexit { PostgresServer.sharedServer.withLock { $0?.stop() } }
            return started
        }
    }

    private static let sharedServer = Mutex<PostgresServer?>(nil)

    /// `postgresql://` URL for a role.
    public func url(user: String, password: String) -> String {
        "postgresql://\(user):\(password)@127.0.0.1:\(port)/northwind"
    }

    /// Runs SQL as the superuser and returns psql's unaligned output.
    @discardableResult
    public func psql(_ arguments: [String]) throws -> String {
        try Self.psql(port: port, arguments)
    }

    @discardableResult
    static func psql(port: Int, _ arguments: [String]) throws -> String {
        try run(
            "/usr/bin/env",
            ["psql", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-At"]
                + arguments)
    }

    public func query(_ sql: String) throws -> String {
        try psql(["-d", "northwind", "-c", sql]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the server for a while (fast shutdown); returns once it is down. `start()`
    /// brings it back.
    public func pause() throws {
        try Self.asPostgres("pg_ctl", ["-D", dataDirectory.path, "-m", "fast", "-w", "stop"])
    }

    /// Starts the paused server again on the same port and data; returns once it accepts
    /// connections.
    public func resume() throws {
        try Self.asPostgres(
            "pg_ctl",
            [
                "-D", dataDirectory.path, "-l",
                dataDirectory.deletingLastPathComponent().appendingPathComponent("server.log").path,
                "-w", "-o",
                "-p \(port) -k \(dataDirectory.deletingLastPathComponent().path) -c listen_addresses=127.0.0.1 -c fsync=off",
                "start",
            ])
    }

    public func stop() {
        let wasRunning = running.withLock { running in
            defer { running = false }
            return running
        }
        guard wasRunning else { return }
        _ = try? Self.asPostgres("pg_ctl", ["-D", dataDirectory.path, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(at: dataDirectory.deletingLastPathComponent())
    }

    // MARK: - Processes

    static func binary(_ name: String) -> String {
        for dir in ["/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/bin"] {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return name
    }

    static func asPostgres(_ tool: String, _ arguments: [String]) throws {
        if getuid() == 0 {
            _ = try run("/usr/sbin/runuser", ["-u", "postgres", "--", binary(tool)] + arguments)
        } else {
            _ = try run(binary(tool), arguments)
        }
    }

    static func chownToPostgres(_ url: URL) throws {
        guard getuid() == 0 else { return }
        _ = try run("/bin/chown", ["-R", "postgres:postgres", url.path])
    }

    /// Runs a command to completion with `posix_spawn` and `waitpid`, stdout and stderr
    /// apart (``ChildProcess`` joins them).
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("pgrun-\(UUID().uuidString)")
        let outPath = base.path + ".out"
        let errPath = base.path + ".err"
        defer {
            unlink(outPath)
            unlink(errPath)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // The server pg_ctl leaves running must hold none of the test process's descriptors.
        try SpawnExtensions.closeFrom(&actions, 3)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw HarnessError("cannot start \(executable): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw HarnessError(
                "\(executable) \(arguments.joined(separator: " ")) failed (\(status)): \(err.suffix(2000))")
        }
        return out
    }
}

/// A TCP port that was free a moment ago on 127.0.0.1.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard bound == 0 else { throw HarnessError("bind failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
