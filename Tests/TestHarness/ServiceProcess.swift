import Foundation
import Synchronization

/// One of the project's service executables, started as its own process the way it runs in
/// production, with its stderr collected; ready when it logs "service ready".
public final class ServiceProcess: Sendable {
    public let name: String
    public let logFile: URL
    private let process: ChildProcess

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
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        // A directory without a .env, so only what the test passes counts.
        process = try ChildProcess(
            Self.locate(executable).path, [], environment: env,
            directory: FileManager.default.temporaryDirectory, output: logFile)
        let ready = process.waitForOutput(in: logFile, timeout: .seconds(30)) { text in
            text.contains(readyMarker) ? true : nil
        }
        if ready == true { return }
        if !process.isRunning {
            throw HarnessError("\(executable) exited at start:\n\(log.suffix(3000))")
        }
        process.kill()
        throw HarnessError("\(executable) was not ready in 30 s:\n\(log.suffix(3000))")
    }

    public var log: String { process.output }

    /// The process id.
    public var pid: pid_t { process.pid }

    /// SIGTERM, then waits; returns the exit status (SIGKILL after 15 s).
    @discardableResult
    public func stop() -> Int32? { process.stop(grace: .seconds(15)) }

    /// SIGKILL, as a crash.
    @discardableResult
    public func kill() -> Int32? { process.kill() }

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
