import NATSWire

/// Takes `count` messages from `subscription`, failing after `timeout`: tests wait for the
/// messages they expect, not for a span of time.
public func collect(_ subscription: NATSSubscription, count: Int, timeout: Duration = .seconds(5))
    async throws
    -> [NATSMessage]
{
    try await withThrowingTaskGroup(of: [NATSMessage]?.self) { group in
        group.addTask {
            var out: [NATSMessage] = []
            for try await message in subscription {
                out.append(message)
                if out.count == count { break }
            }
            return out
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        guard let first, first.count == count else {
            throw TestTimeout("collect \(count) messages on \(subscription.subject)")
        }
        return first
    }
}

/// A test waited longer than it allows for something that did not happen.
public struct TestTimeout: Error, CustomStringConvertible {
    public let description: String
    public init(_ what: String) { description = "timed out: \(what)" }
}
