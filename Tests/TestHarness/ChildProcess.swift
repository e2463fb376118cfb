import Foundation
import Synchronization

/// A process the tests start: `posix_spawn` with every descriptor above stderr closed in
/// the child, output to a file, and the exit collected with `waitpid` on its own pid.
///
/// Foundation's `Process` is not used for this: its children inherit whatever descriptors
/// are open in the test process when they start, among them the pipes of other tests'
/// children and Foundation's own exit-notification descriptors. With tests starting
/// processes in parallel, a long-lived service inherited a CLI test's output pipe (whose
/// reader then never saw the end of the file) and another child's exit notification
/// (whose `waitUntilExit` never returned): the run hung on the two blocked threads.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    /// A pidfd of the process: readable once it exited, so a wait is a `poll`, not a timer.
    private let exitDescriptor: Int32
    /// What the process wrote to stdout and stderr, when the caller asked for a file.
    public let outputFile: URL?
    /// The exit status once collected: the exit code, or 128 + the signal that ended it.
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `executable` (a path, or a name looked up in `PATH`). `environment` replaces
    /// the test process's environment when given; stdin is `/dev/null`; stdout (and stderr
    /// unless `errorsToo` is false) go to `output` (appended, created if missing), or to
    /// `/dev/null`.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        directory: URL? = nil, output: URL? = nil, errorsToo: Bool = true
    ) throws {
        let path = try Self.resolve(executable)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let output {
            posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        if errorsToo {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        try SpawnExtensions.closeFrom(&actions, 3)
        if let directory { try SpawnExtensions.changeDirectory(&actions, directory.path) }

        // The child starts with default signal handling and nothing blocked.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp =
            (environment ?? ProcessInfo.processInfo.environment)
            .map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            throw HarnessError("cannot start \(path): \(String(cString: strerror(spawned)))")
        }
        self.pid = pid
        outputFile = output
        exitDescriptor = SpawnExtensions.pidDescriptor(pid)
        guard exitDescriptor >= 0 else {
            _ = Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
            throw HarnessError("pidfd_open failed for \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        _ = stop(grace: .seconds(5))
        close(exitDescriptor)
    }

    /// Runs a command to its end off Swift's cooperative pool and returns its status and
    /// what it printed (stdout, and stderr unless `errorsToo` is false); kills it after
    /// `timeout`.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        errorsToo: Bool = true, timeout: Duration = .seconds(60)
    ) async throws -> (status: Int32, output: String) {
        try await offThePool {
            try runBlocking(
                executable, arguments, environment: environment, errorsToo: errorsToo, timeout: timeout)
        }
    }

    /// ``run(_:_:environment:errorsToo:timeout:)`` on the calling thread, for callers that are not
    /// async (server set-up that already runs off the pool).
    public static func runBlocking(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        errorsToo: Bool = true, timeout: Duration = .seconds(60)
    ) throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "run-\(UUID().uuidString.prefix(8)).out")
        defer { try? FileManager.default.removeItem(at: file) }
        let child = try ChildProcess(
            executable, arguments, environment: environment, output: file, errorsToo: errorsToo)
        let status = child.wait(timeout: timeout) ?? child.stop(grace: .zero)
        return (status, child.output)
    }

    /// What the process has written so far (empty without an output file).
    public var output: String {
        guard let outputFile, let data = FileManager.default.contents(atPath: outputFile.path) else {
            return ""
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Whether the process has not exited yet.
    public var isRunning: Bool { collect(blocking: false) == nil }

    /// Sends `signal` unless the process has already been collected (its pid may be reused).
    public func signal(_ signal: Int32) {
        exitStatus.withLock { status in
            if status == nil { _ = Glibc.kill(pid, signal) }
        }
    }

    /// Waits up to `timeout` for the process to exit; its status, or nil if it still runs.
    public func wait(timeout: Duration) -> Int32? {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: timeout)
        var descriptor = pollfd(fd: exitDescriptor, events: Int16(POLLIN), revents: 0)
        while true {
            if let status = collect(blocking: false) { return status }
            let left = end - clock.now
            if left <= .zero { return nil }
            // Woken by the exit itself (the pidfd becomes readable), or at the deadline.
            let milliseconds =
                left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
            descriptor.revents = 0
            _ = poll(&descriptor, 1, Int32(clamping: max(1, milliseconds)))
        }
    }

    /// Waits until `find` finds what it looks for in `file` (a log the process writes), or
    /// the process exits, or `timeout` passes. No timer: the wait wakes when the file
    /// changes (inotify) or the process exits (its pidfd). The result of `find`, or nil.
    public func waitForOutput<T>(in file: URL, timeout: Duration, _ find: (String) -> T?) -> T? {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: timeout)
        let watcher = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        defer { if watcher >= 0 { close(watcher) } }
        if watcher >= 0 { _ = inotify_add_watch(watcher, file.path, UInt32(IN_MODIFY | IN_CLOSE_WRITE)) }
        var events = [UInt8](repeating: 0, count: 4096)
        while true {
            // Checked after arming the watch, so a write in between wakes the next poll.
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            if let found = find(text) { return found }
            if collect(blocking: false) != nil {
                return find((try? String(contentsOf: file, encoding: .utf8)) ?? "")
            }
            let left = end - clock.now
            if left <= .zero { return nil }
            let milliseconds =
                left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
            var descriptors = [
                pollfd(fd: exitDescriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: watcher, events: Int16(POLLIN), revents: 0),
            ]
            // Without inotify (watcher -1, ignored by poll) the deadline alone wakes it.
            _ = poll(&descriptors, nfds_t(descriptors.count), Int32(clamping: max(1, milliseconds)))
            if watcher >= 0 { while read(watcher, &events, events.count) > 0 {} }
        }
    }

    /// SIGTERM, up to `grace` to exit, then SIGKILL; the exit status.
    @discardableResult
    public func stop(grace: Duration) -> Int32 {
        if let status = collect(blocking: false) { return status }
        signal(SIGTERM)
        if let status = wait(timeout: grace) { return status }
        return kill()
    }

    /// SIGKILL, as a crash, and waits for the process to go.
    @discardableResult
    public func kill() -> Int32 {
        signal(SIGKILL)
        return collect(blocking: true) ?? -1
    }

    /// Collects the exit status once; later calls return the stored one.
    private func collect(blocking: Bool) -> Int32? {
        exitStatus.withLock { stored in
            if let stored { return stored }
            var status: Int32 = 0
            var result: pid_t
            repeat {
                result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            } while result < 0 && errno == EINTR
            guard result == pid else { return result < 0 ? -1 : nil }
            let signalled = status & 0x7f
            stored = signalled == 0 ? (status >> 8) & 0xff : 128 + signalled
            return stored
        }
    }

    /// A path as given when it contains a slash, else the first match in `PATH`.
    static func resolve(_ executable: String) throws -> String {
        if executable.contains("/") { return executable }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        // String.init: without it the literals below turn the split into arrays of characters.
        for directory in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/bin"] {
            let candidate = "\(directory)/\(executable)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw HarnessError("\(executable) is not installed (run scripts/install-deps.sh)")
    }
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np`, `_addchdir_np` and `pidfd_open` (2.34,
/// 2.29 and 2.36), which the Glibc module does not import: looked up once by name.
enum SpawnExtensions {
    private typealias CloseFrom =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias ChangeDirectory =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    // Function pointers looked up once and never written again.
    nonisolated(unsafe) private static let closeFromFunction: CloseFrom? = lookUp(
        "posix_spawn_file_actions_addclosefrom_np")
    nonisolated(unsafe) private static let changeDirectoryFunction: ChangeDirectory? = lookUp(
        "posix_spawn_file_actions_addchdir_np")

    private static func lookUp<F>(_ name: String) -> F? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: F.self)
    }

    private typealias PidOpen = @convention(c) (pid_t, UInt32) -> Int32
    // A function pointer looked up once and never written again.
    nonisolated(unsafe) private static let pidOpenFunction: PidOpen? = lookUp("pidfd_open")

    /// A pidfd of `pid` (glibc 2.36, Linux 5.3), or -1.
    static func pidDescriptor(_ pid: pid_t) -> Int32 {
        guard let pidOpenFunction else {
            errno = ENOSYS
            return -1
        }
        return pidOpenFunction(pid, 0)
    }

    /// Closes every descriptor from `lowest` up in the child.
    static func closeFrom(_ actions: inout posix_spawn_file_actions_t, _ lowest: Int32) throws {
        guard let closeFromFunction, closeFromFunction(&actions, lowest) == 0 else {
            throw HarnessError(
                "posix_spawn_file_actions_addclosefrom_np is missing (glibc 2.34 or later needed)")
        }
    }

    /// Makes the child start in `path`.
    static func changeDirectory(_ actions: inout posix_spawn_file_actions_t, _ path: String) throws {
        guard let changeDirectoryFunction, changeDirectoryFunction(&actions, path) == 0 else {
            throw HarnessError("posix_spawn_file_actions_addchdir_np is missing (glibc 2.29 or later needed)")
        }
    }
}
