import Synchronization

/// Request–reply over one wildcard inbox subscription per connection.
///
/// Each request gets a token; its reply subject is `<inbox prefix>.<nuid>.<token>` and the
/// reply, arriving on `<inbox prefix>.<nuid>.*`, is routed back by that last token. Deadlines
/// are kept in a heap that the I/O thread checks on each turn, so a timed-out request costs
/// no timer task of its own.
final class RequestMux: Sendable {
    typealias Continuation = CheckedContinuation<NATSMessage, any Error>

    /// `_INBOX.<nuid>.`: the reply subjects' common prefix.
    let replyPrefix: String
    /// `_INBOX.<nuid>.*`: the one subscription that receives every reply.
    var subscriptionSubject: String { replyPrefix + "*" }

    private struct State {
        var pending: [UInt64: Continuation] = [:]
        var nextToken: UInt64 = 1
        var deadlines = DeadlineHeap()
        /// When the I/O thread plans to wake up next; an earlier deadline must wake it.
        var scheduledWake = Deadline.distantFuture
        var failure: NATSError?
        var isSubscribed = false
    }

    private let state = Mutex(State())
    /// Brings the I/O thread's next wake-up forward (its notifier).
    private let wake: @Sendable () -> Void

    init(inboxPrefix: String, wake: @escaping @Sendable () -> Void = {}) {
        replyPrefix = inboxPrefix + "." + NUID.generate() + "."
        self.wake = wake
    }

    /// A fresh token and its reply subject.
    func reserveToken() -> (token: UInt64, replyTo: String) {
        let token = state.withLock { s in
            defer { s.nextToken &+= 1 }
            return s.nextToken
        }
        return (token, InboxToken.subject(replyPrefix, token))
    }

    /// Runs `subscribe` once, under the mux's lock, so the inbox SUB is written before any
    /// request that needs it.
    func ensureSubscribed(_ subscribe: () throws(NATSError) -> Void) throws(NATSError) {
        try state.withLock { (s) throws(NATSError) in
            guard !s.isSubscribed else { return }
            try subscribe()
            s.isSubscribed = true
        }
    }

    /// Starts a request: registers its continuation (before anything is sent, so no reply can
    /// come first), sends it with `send`, then wakes the I/O thread if the request's deadline
    /// is earlier than the thread's next wake-up — after the send, so that a request the
    /// caller wrote itself does not wake the thread for nothing. A failed send fails the
    /// request with its error.
    func start(
        _ token: UInt64, deadline: Deadline, continuation: Continuation, send: () throws(NATSError) -> Void
    ) {
        enum Outcome { case registered(wake: Bool), failed(any Error) }
        let outcome = state.withLock { s -> Outcome in
            if let failure = s.failure { return .failed(failure) }
            if Task.isCancelled { return .failed(CancellationError()) }
            s.pending[token] = continuation
            s.deadlines.insert(deadline, token)
            if deadline < s.scheduledWake {
                s.scheduledWake = deadline
                return .registered(wake: true)
            }
            return .registered(wake: false)
        }
        switch outcome {
        case .registered(let needsWake):
            do {
                try send()
            } catch {
                fail(token, with: error)
                return
            }
            if needsWake { wake() }
        case .failed(let error):
            continuation.resume(throwing: error)
        }
    }

    /// Fails one request (its publish failed, or its task was cancelled).
    func fail(_ token: UInt64, with error: any Error) {
        let continuation = state.withLock { $0.pending.removeValue(forKey: token) }
        continuation?.resume(throwing: error)
    }

    /// I/O thread: a message on the inbox subscription.
    func deliver(_ message: NATSMessage) {
        guard let token = InboxToken.parse(message.subject, after: replyPrefix.utf8.count) else { return }
        let continuation = state.withLock { $0.pending.removeValue(forKey: token) }
        guard let continuation else { return }  // late reply after a timeout: dropped
        if message.status == 503 {
            continuation.resume(throwing: NATSError(.noResponders, "no responders"))
        } else {
            continuation.resume(returning: message)
        }
    }

    /// I/O thread: fails requests whose deadline has passed; returns the next deadline,
    /// which the thread promises to wake up for.
    func expire(now: Deadline) -> Deadline {
        var expired: [Continuation] = []
        let next = state.withLock { s -> Deadline in
            while let (deadline, token) = s.deadlines.min, deadline <= now {
                s.deadlines.removeMin()
                if let continuation = s.pending.removeValue(forKey: token) { expired.append(continuation) }
            }
            // Entries of answered requests linger in the heap until their deadline; drop them
            // when the heap is mostly stale so it cannot grow without bound.
            if s.deadlines.count > 1024 && s.deadlines.count > 4 * s.pending.count {
                s.deadlines.removeAll { s.pending[$0] == nil }
            }
            let next = s.deadlines.min?.deadline ?? .distantFuture
            s.scheduledWake = next
            return next
        }
        for continuation in expired {
            continuation.resume(throwing: NATSError(.timeout, "request timed out"))
        }
        return next
    }

    /// Fails every pending request and, when `permanently`, every later one.
    func failAll(_ error: NATSError, permanently: Bool) {
        let continuations = state.withLock { s -> [Continuation] in
            if permanently { s.failure = error }
            s.isSubscribed = false
            defer {
                s.pending.removeAll()
                s.deadlines = DeadlineHeap()
            }
            return Array(s.pending.values)
        }
        for continuation in continuations { continuation.resume(throwing: error) }
    }

    var pendingCount: Int { state.withLock { $0.pending.count } }
}

/// A binary min-heap of (deadline, token).
struct DeadlineHeap {
    private var items: [(deadline: Deadline, token: UInt64)] = []

    var count: Int { items.count }
    var min: (deadline: Deadline, token: UInt64)? { items.first }

    mutating func insert(_ deadline: Deadline, _ token: UInt64) {
        items.append((deadline, token))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].deadline < items[parent].deadline else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeMin() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        siftDown(from: 0)
    }

    /// Removes entries whose token matches, then restores the heap order.
    mutating func removeAll(where shouldRemove: (UInt64) -> Bool) {
        items.removeAll { shouldRemove($0.token) }
        var index = items.count / 2
        while index > 0 {
            index -= 1
            siftDown(from: index)
        }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count && items[left].deadline < items[smallest].deadline { smallest = left }
            if right < items.count && items[right].deadline < items[smallest].deadline { smallest = right }
            if smallest == parent { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
