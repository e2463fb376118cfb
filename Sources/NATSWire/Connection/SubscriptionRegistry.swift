import Synchronization

/// Where the messages of one subscription go.
enum SubscriptionSink: Sendable {
    /// Queued for an async consumer.
    case queue(MessageQueue)
    /// Called on the I/O thread; must return quickly.
    case handler(@Sendable (NATSMessage) -> Void)
}

/// The client's subscriptions by sid: what to send again after a reconnect, where each
/// message goes, and when an auto-unsubscribe limit is reached.
final class SubscriptionRegistry: Sendable {
    /// One subscription. Its counters change only under the registry's lock.
    // @unchecked Sendable: `maxMessages` and `delivered` are only read or written while the
    // registry's mutex is held; everything else is immutable.
    final class Entry: @unchecked Sendable {
        let sid: UInt64
        let subject: String
        let queue: String?
        let sink: SubscriptionSink
        /// Auto-unsubscribe after this many messages in total.
        var maxMessages: Int?
        var delivered: Int = 0

        init(sid: UInt64, subject: String, queue: String?, sink: SubscriptionSink) {
            self.sid = sid
            self.subject = subject
            self.queue = queue
            self.sink = sink
        }
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextSid: UInt64 = 1
    }

    private let state = Mutex(State())

    /// Registers a subscription and returns its sid.
    func add(subject: String, queue: String?, sink: SubscriptionSink) -> UInt64 {
        state.withLock { s in
            let sid = s.nextSid
            s.nextSid += 1
            s.entries[sid] = Entry(sid: sid, subject: subject, queue: queue, sink: sink)
            return sid
        }
    }

    /// Sets an auto-unsubscribe limit. Returns `false` (and removes the entry) when that
    /// many messages were delivered already, `nil` if the sid is unknown.
    func setMax(_ max: Int, for sid: UInt64) -> Bool? {
        state.withLock { s in
            guard let entry = s.entries[sid] else { return nil }
            if entry.delivered >= max {
                s.entries[sid] = nil
                return false
            }
            entry.maxMessages = max
            return true
        }
    }

    /// Removes the entry; returns it if it was there.
    @discardableResult
    func remove(_ sid: UInt64) -> Entry? {
        state.withLock { $0.entries.removeValue(forKey: sid) }
    }

    /// The sink for a message on `sid`, and whether this was its last one (the entry is
    /// then gone). `nil` for an unknown sid: a message that crossed an UNSUB.
    func route(_ sid: UInt64) -> (sink: SubscriptionSink, isLast: Bool)? {
        state.withLock { s in
            guard let entry = s.entries[sid] else { return nil }
            entry.delivered += 1
            if let max = entry.maxMessages, entry.delivered >= max {
                s.entries[sid] = nil
                return (entry.sink, true)
            }
            return (entry.sink, false)
        }
    }

    /// Entries whose subject equals `subject` (permission errors name the subject).
    func entries(subject: String) -> [Entry] {
        state.withLock { s in s.entries.values.filter { $0.subject == subject } }
    }

    /// Removes and returns every entry.
    func removeAll() -> [Entry] {
        state.withLock { s in
            defer { s.entries.removeAll() }
            return Array(s.entries.values)
        }
    }
}
