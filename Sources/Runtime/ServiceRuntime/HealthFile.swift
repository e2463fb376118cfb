import NATSWire

#if canImport(Glibc)
    import Glibc
#endif

/// A file that says "this service instance works", for supervisors that can only look at
/// files (a Kubernetes exec probe): touched every `interval` while the service serves and a
/// round trip to its NATS server succeeds, removed as soon as one fails and when the
/// service stops. Readiness checks that it exists; liveness that it is recent.
public enum HealthFile {
    public static func maintain(
        _ path: String, nats: NATSClient, interval: Duration = .seconds(10),
        roundTripTimeout: Duration = .seconds(5)
    ) async {
        while !Task.isCancelled {
            let healthy: Bool
            do {
                try await nats.flush(timeout: roundTripTimeout)
                healthy = nats.status == .connected
            } catch {
                healthy = false
            }
            if healthy { touch(path) } else { unlink(path) }
            try? await Task.sleep(for: interval)
        }
        unlink(path)
    }

    /// Creates the file or sets its modification time to now.
    static func touch(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        futimens(fd, nil)
        close(fd)
    }
}
