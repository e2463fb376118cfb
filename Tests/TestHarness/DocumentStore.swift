import Foundation
import Synchronization

/// A SecantusDB server (MongoDB wire protocol) for tests, on 127.0.0.1 with a port it
/// picks, its data in a temporary directory; stopped on `stop()` or when released.
public final class DocumentStore: Sendable {
    public let port: Int
    public let dataDirectory: URL
    private let process: ChildProcess

    public func url(database: String) -> String { "mongodb://127.0.0.1:\(port)/\(database)" }

    /// Starts a server; `dataDirectory` reuses an earlier one's data (a restart).
    public init(dataDirectory: URL? = nil) throws {
        let directory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                "docstore-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.dataDirectory = directory
        let log = directory.appendingPathComponent("server-\(UUID().uuidString.prefix(4)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = try ChildProcess(
            Self.executable().path,
            [
                "--host", "127.0.0.1", "--port", "0", "--storage-path",
                directory.appendingPathComponent("data").path,
                "--standalone",
            ], output: log)
        self.process = process
        let found = process.waitForOutput(in: log, timeout: .seconds(30)) { text -> Int? in
            guard let range = text.range(of: "listening on 127.0.0.1:") else { return nil }
            // The whole number: the line may still be being written.
            let digits = text[range.upperBound...].prefix { $0.isNumber }
            return text[range.upperBound...].dropFirst(digits.count).first.map { _ in Int(digits) } ?? nil
        }
        guard let found else {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if !process.isRunning { throw HarnessError("secantusd-py exited at start: \(text.suffix(2000))") }
            process.kill()
            throw HarnessError("secantusd-py did not report its port in 30 s")
        }
        port = found
    }

    deinit { stop() }

    /// One store for a whole test run (it takes seconds to start); tests that share it use
    /// their own database names. Stopped when the test process exits.
    public static func shared() async throws -> DocumentStore {
        try await offThePool { try sharedBlocking() }
    }

    private static func sharedBlocking() throws -> DocumentStore {
        try sharedStore.withLock { store in
            if let store { return store }
            let started = try DocumentStore()
            store = started
            atexit { DocumentStore.stopShared() }
            return started
        }
    }

    private static let sharedStore = Mutex<DocumentStore?>(nil)

    private static func stopShared() {
        sharedStore.withLock { $0?.stop() }
    }

    public func stop() {
        process.stop(grace: .seconds(10))
    }

    /// `$SECANTUSD`, the project's venv (`.state/venv`), or `PATH`.
    static func executable() throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let explicit = environment["SECANTUSD"] { candidates.append(explicit) }
        candidates.append(projectRoot.appendingPathComponent(".state/venv/bin/secantusd-py").path)
        for dir in (environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(dir)/secantusd-py")
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            return URL(fileURLWithPath: candidate)
        }
        throw HarnessError("secantusd-py not found (run scripts/install-deps.sh, or set SECANTUSD)")
    }
}

/// The package's root directory (this file is Tests/TestHarness/DocumentStore.swift).
public let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent()
    .deletingLastPathComponent()
