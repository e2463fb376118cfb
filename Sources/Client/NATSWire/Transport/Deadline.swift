#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A point on the monotonic clock, in nanoseconds. Cheap to read and compare, which the
/// I/O loop does on every turn.
struct Deadline: Comparable, Sendable {
    var nanoseconds: UInt64

    static var now: Deadline {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Deadline(nanoseconds: UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec))
    }

    static func after(_ duration: Duration) -> Deadline {
        now.adding(duration)
    }

    static let distantFuture = Deadline(nanoseconds: .max)

    func adding(_ duration: Duration) -> Deadline {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return self }
        let ns = UInt64(clamping: seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let total = ns.partialValue.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        if ns.overflow || total.overflow { return .distantFuture }
        let (sum, overflow) = nanoseconds.addingReportingOverflow(total.partialValue)
        return overflow ? .distantFuture : Deadline(nanoseconds: sum)
    }

    /// Milliseconds until this deadline, rounded up, 0 if past.
    var remainingMilliseconds: Int {
        let current = Deadline.now.nanoseconds
        guard nanoseconds > current else { return 0 }
        let ns = nanoseconds - current
        return Int(clamping: (ns + 999_999) / 1_000_000)
    }

    static func < (a: Deadline, b: Deadline) -> Bool { a.nanoseconds < b.nanoseconds }
}
