import Foundation
import Synchronization

/// One of the project's service executables, started as its own process the way it runs in
/// production, with its stderr collected; ready when it logs "service ready".
public final class ServiceProcess: Sendable {
    public let name: String
    public let logFile: URL
    private let process: Mutex<Process?>

    /// Starts the process and waits for its ready line off the cooperative pool.
    public static func start(
        _ executable: String, environment: [String: String], readyMarker: String = "service ready"
    ) async throws -> ServiceProcess {
        try await offThePool {
            try ServiceProcess(executable, environment: environment, readyMarker: readyMarker)
        }
    }

    public init(_ executable: String, environment: [String: String], readyMarker: String = "service ready")
        throws
    {
        name = executable
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "\(executable)-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let process = Process()
        process.executableURL = try Self.locate(executable)
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        // A directory without a .env, so only what the test passes counts.
        process.currentDirectoryURL = FileManager.default.temporaryDirectory
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = Mutex(process)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if log.contains(readyMarker) { return }
            if !process.isRunning {
                throw HarnessError("\(executable) exited at start:\n\(log.suffix(3000))")
            }
            usleep(20_000)
        }
        process.terminate()
        throw HarnessError("\(executable) was not ready in 30 s:\n\(log.suffix(3000))")
    }

    deinit { _ = stop() }

    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// SIGTERM, then waits; returns the exit status (SIGKILL after 15 s).
    @discardableResult
    public func stop() -> Int32? { signalAndWait(SIGTERM) }

    /// SIGKILL, as a crash.
    @discardableResult
    public func kill() -> Int32? { signalAndWait(SIGKILL) }

    private func signalAndWait(_ signal: Int32) -> Int32? {
        process.withLock { process in
            guard let running = process else { return nil }
            if running.isRunning {
                Foundation.kill(running.processIdentifier, signal)
                let deadline = Date().addingTimeInterval(15)
                while running.isRunning && Date() < deadline { usleep(10_000) }
                if running.isRunning { Foundation.kill(running.processIdentifier, SIGKILL) }
            }
            running.waitUntilExit()
            process = nil
            return running.terminationStatus
        }
    }

    /// A product built beside the test bundle.
    public static func locate(_ executable: String) throws -> URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(executable)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw HarnessError(
            "\(executable) not found near \(CommandLine.arguments[0]); build all products first")
    }
}
