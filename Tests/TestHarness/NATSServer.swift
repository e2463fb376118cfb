import Foundation
import Synchronization

/// A real `nats-server` on 127.0.0.1 for tests: a free port chosen by the server itself,
/// started from an optional config file, stopped on `stop()` (and at the latest when the
/// object goes away), also when the test failed.
public final class NATSServer: Sendable {
    /// The client port the server bound.
    public let port: Int
    /// `nats://127.0.0.1:<port>`.
    public var url: String { "nats://127.0.0.1:\(port)" }
    /// Directory with the config and log of this server.
    public let directory: URL
    private let process: ChildProcess
    public let pid: Int32

    /// Starts a server. `config` is the text of a config file; `port` pins the port (for a
    /// restart on the same one); `arguments` are extra command-line flags.
    public init(config: String? = nil, host: String = "127.0.0.1", port: Int? = nil, arguments: [String] = [])
        throws
    {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("natswire-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.directory = directory
        let log = directory.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        var args = ["-a", host, "-p", String(port ?? -1), "-m", "0", "-l", log.path]
        if let config {
            let file = directory.appendingPathComponent("server.conf")
            try config.write(to: file, atomically: true, encoding: .utf8)
            args += ["-c", file.path]
        }
        args += arguments
        let process = try ChildProcess(Self.executable().path, args)
        self.pid = process.pid
        self.process = process

        // The server logs the port it bound; wait for it (and for "ready").
        let boundPort = process.waitForOutput(in: log, timeout: .seconds(10)) { text in
            text.contains("Server is ready") ? Self.clientPort(in: text) : nil
        }
        guard let boundPort else {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if !process.isRunning { throw HarnessError("nats-server exited at start: \(text.suffix(2000))") }
            process.kill()
            throw HarnessError("nats-server did not become ready in 10 s")
        }
        self.port = boundPort
    }

    deinit { stop() }

    /// Stops the server (SIGTERM, then SIGKILL after `grace`) and waits for it to exit; the
    /// exit status (137 when it had to be killed).
    @discardableResult
    public func stop(grace: Duration = .seconds(5)) -> Int32 {
        process.stop(grace: grace)
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    public func kill() {
        process.kill()
    }

    /// Sends a signal by name through `nats-server --signal` (e.g. `ldm` for lame duck).
    public func signal(_ name: String) throws {
        _ = try ChildProcess.runBlocking(Self.executable().path, ["--signal", "\(name)=\(pid)"])
    }

    /// The server's log so far.
    /// Waits (woken by the log changing, not a timer) until `find` finds something in the
    /// server's log, or until `end`.
    func waitForLog<T>(until end: ContinuousClock.Instant, _ find: (String) -> T?) -> T? {
        process.waitForOutput(in: directory.appendingPathComponent("server.log"), timeout: end - .now, find)
    }

    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
    }

    private static func clientPort(in log: String) -> Int? {
        guard let range = log.range(of: "Listening for client connections on ") else { return nil }
        let rest = log[range.upperBound...]
        let line = rest.prefix { $0 != "\n" }
        guard let colon = line.lastIndex(of: ":") else { return nil }
        return Int(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }

    static func executable() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin"] {
            let candidate = URL(fileURLWithPath: dir).appendingPathComponent("nats-server")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw HarnessError("nats-server is not installed (run scripts/install-deps.sh)")
    }
}

/// Runs `body` with a fresh server and stops it afterwards, whatever happens.
public func withNATSServer<T>(
    config: String? = nil, _ body: (NATSServer) async throws -> T
) async throws -> T {
    let server = try NATSServer(config: config)
    defer { server.stop() }
    return try await body(server)
}

public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Nodes of a nats-server cluster on loopback, joined by routes, each with a server-chosen
/// client port. `extraConfig` is added to every node's config.
public final class NATSCluster: Sendable {
    public let nodes: [NATSServer]

    public init(size: Int = 3, extraConfig: String = "") throws {
        let routePorts = try (0..<size).map { _ in try freePort() }
        var nodes: [NATSServer] = []
        for index in 0..<size {
            let routes = routePorts.enumerated().filter { $0.offset != index }
                .map { "\"nats-route://127.0.0.1:\($0.element)\"" }.joined(separator: ", ")
            let config = """
                server_name: node\(index)
                cluster {
                  name: natswire-test
                  listen: "127.0.0.1:\(routePorts[index])"
                  routes: [\(routes)]
                }
                \(extraConfig)
                """
            nodes.append(try NATSServer(config: config))
        }
        self.nodes = nodes
    }

    /// The client URLs of every node.
    public var urls: [String] { nodes.map(\.url) }

    /// Waits until every node sees a route to every other one (its log says so).
    public func waitForRoutes(timeout: TimeInterval = 10) throws {
        let end = ContinuousClock.now.advanced(by: .seconds(timeout))
        for node in nodes {
            let joined = node.waitForLog(until: end) { text in
                text.components(separatedBy: "Route connection created").count - 1 >= nodes.count - 1
                    ? true : nil
            }
            guard joined == true else { throw HarnessError("cluster routes not established in \(timeout) s") }
        }
    }

    /// The node whose client port is `port`.
    public func node(port: Int) -> NATSServer? { nodes.first { $0.port == port } }

    public func stop() { for node in nodes { node.stop() } }
}
