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
        /// UNSUB was sent to drain it: not restored on a new connection.
        var isDraining = false

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

    /// The subscription of a message on `sid`, and whether this was its last one (the
    /// entry is then gone). `nil` for an unknown sid: a message that crossed an UNSUB.
    func route(_ sid: UInt64) -> (entry: Entry, isLast: Bool)? {
        state.withLock { s in
            guard let entry = s.entries[sid] else { return nil }
            entry.delivered += 1
            if let max = entry.maxMessages, entry.delivered >= max {
                s.entries[sid] = nil
                return (entry, true)
            }
            return (entry, false)
        }
    }

    /// Writes SUB (and UNSUB with the remaining count where an auto-unsubscribe limit is
    /// set) for every subscription, in sid order, for a new connection.
    func encodeResubscribe(into out: ByteBuffer) {
        state.withLock { s in
            for entry in s.entries.values.sorted(by: { $0.sid < $1.sid }) where !entry.isDraining {
                ClientOperation.appendSubscribe(
                    into: out, subject: entry.subject, queue: entry.queue, sid: entry.sid)
                if let max = entry.maxMessages {
                    ClientOperation.appendUnsubscribe(into: out, sid: entry.sid, max: max - entry.delivered)
                }
            }
        }
    }

    /// Marks a subscription as draining; returns it if it was there.
    func markDraining(_ sid: UInt64) -> Entry? {
        state.withLock { s in
            guard let entry = s.entries[sid] else { return nil }
            entry.isDraining = true
            return entry
        }
    }

    /// Every entry, for a whole-connection drain.
    var allEntries: [Entry] { state.withLock { Array($0.entries.values) } }

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
