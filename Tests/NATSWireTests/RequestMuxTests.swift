import Foundation
import Synchronization
import Testing

@testable import NATSWire

/// The request multiplexer alone: tokens, routing of replies, deadlines, failures. No server.
@Suite(.timeLimit(.minutes(5))) struct RequestMuxTests {
    /// Starts a request (its "send" reports the token and reply subject) and returns its
    /// outcome once something resumes it.
    private func waiting(
        _ mux: RequestMux, deadline: Deadline = .after(.seconds(60)),
        sent: @escaping @Sendable (UInt64, String) -> Void = { _, _ in }
    ) -> Task<Result<NATSMessage, any Error>, Never> {
        Task {
            let (token, replyTo) = mux.reserveToken()
            do {
                return .success(
                    try await withCheckedThrowingContinuation { continuation in
                        mux.start(token, deadline: deadline, continuation: continuation) {
                            sent(token, replyTo)
                        }
                    })
            } catch {
                return .failure(error)
            }
        }
    }

    /// Waits until `count` requests are registered (they register from their own tasks).
    private func untilPending(_ mux: RequestMux, _ count: Int) async {
        while mux.pendingCount < count { await Task.yield() }
    }

    @Test func tokensAreUniqueAndReplySubjectsShareThePrefix() {
        let mux = RequestMux(inboxPrefix: "_INBOX")
        let reserved = (0..<1000).map { _ in mux.reserveToken() }
        #expect(Set(reserved.map(\.token)).count == 1000)
        #expect(reserved.allSatisfy { $0.replyTo.hasPrefix(mux.replyPrefix) })
        #expect(mux.subscriptionSubject == mux.replyPrefix + "*")
    }

    @Test func repliesGoToTheRequestThatAskedAndLateOnesAreDropped() async throws {
        let mux = RequestMux(inboxPrefix: "_INBOX")
        let subjects = Mutex<[String]>([])
        let first = waiting(mux) { _, replyTo in subjects.withLock { $0.append(replyTo) } }
        await untilPending(mux, 1)
        let second = waiting(mux) { _, replyTo in subjects.withLock { $0.append(replyTo) } }
        await untilPending(mux, 2)
        let (firstSubject, secondSubject) = subjects.withLock { ($0[0], $0[1]) }
        mux.deliver(NATSMessage(subject: secondSubject, payload: Array("two".utf8)))
        #expect(try await second.value.get().string == "two")
        #expect(mux.pendingCount == 1)
        mux.deliver(NATSMessage(subject: firstSubject, payload: Array("one".utf8)))
        #expect(try await first.value.get().string == "one")
        // A second reply to an answered request, and replies to unknown subjects, go nowhere.
        mux.deliver(NATSMessage(subject: firstSubject, payload: []))
        mux.deliver(NATSMessage(subject: mux.replyPrefix + "not-a-token!", payload: []))
        mux.deliver(NATSMessage(subject: "elsewhere.1", payload: []))
        #expect(mux.pendingCount == 0)
    }

    @Test func noRespondersStatusFailsTheRequest() async {
        let mux = RequestMux(inboxPrefix: "_INBOX")
        let subject = Mutex("")
        let request = waiting(mux) { _, replyTo in subject.withLock { $0 = replyTo } }
        await untilPending(mux, 1)
        mux.deliver(
            NATSMessage(subject: subject.withLock { $0 }, headers: NATSHeaders(status: 503), payload: []))
        guard case .failure(let error) = await request.value else {
            Issue.record("a 503 status was delivered as a reply")
            return
        }
        #expect((error as? NATSError)?.kind == .noResponders)
    }

    @Test func deadlinesExpireInOrderAndTheNextOneIsReported() async {
        // Which requests woke the I/O thread: each one's "send" notes its token first.
        let log = Mutex<(sent: [UInt64], woke: [UInt64])>(([], []))
        let mux = RequestMux(inboxPrefix: "_INBOX") {
            log.withLock { $0.woke.append($0.sent.last ?? 0) }
        }
        let now = Deadline.now
        let soon = Deadline(nanoseconds: now.nanoseconds + 1_000_000)
        let later = Deadline(nanoseconds: now.nanoseconds + 60_000_000_000)
        let note = { @Sendable (token: UInt64, _: String) in log.withLock { $0.sent.append(token) } }
        let late = waiting(mux, deadline: later, sent: note)
        await untilPending(mux, 1)
        let early = waiting(mux, deadline: soon, sent: note)
        await untilPending(mux, 2)
        // Each deadline earlier than the I/O thread's planned wake-up asks it to come sooner,
        // after its request was sent.
        #expect(log.withLock { $0.woke == $0.sent && $0.woke.count == 2 })
        // Nothing is due yet at `now`; at `soon` the early one times out, the late one stays.
        #expect(mux.expire(now: now) == soon)
        #expect(mux.expire(now: soon) == later)
        guard case .failure(let error) = await early.value else {
            Issue.record("an expired request was answered")
            return
        }
        #expect((error as? NATSError)?.kind == .timeout)
        #expect(mux.pendingCount == 1)
        // A later deadline than the planned wake-up needs no wake.
        let third = waiting(mux, deadline: Deadline(nanoseconds: later.nanoseconds + 1), sent: note)
        await untilPending(mux, 2)
        #expect(log.withLock { $0.sent.count == 3 && $0.woke.count == 2 })
        mux.failAll(NATSError(.connectionClosed, "closed"), permanently: false)
        for request in [late, third] {
            guard case .failure(let error) = await request.value else {
                Issue.record("failAll left a request waiting")
                continue
            }
            #expect((error as? NATSError)?.kind == .connectionClosed)
        }
    }

    @Test func afterAPermanentFailureNewRequestsFailAtOnce() async {
        let mux = RequestMux(inboxPrefix: "_INBOX")
        mux.failAll(NATSError(.closed, "client closed"), permanently: true)
        let request = waiting(mux)
        guard case .failure(let error) = await request.value else {
            Issue.record("a request was accepted after a permanent failure")
            return
        }
        #expect((error as? NATSError)?.kind == .closed)
        #expect(mux.pendingCount == 0)
    }

    @Test func deadlineHeapReturnsTheEarliestFirst() {
        var heap = DeadlineHeap()
        var generator = SystemRandomNumberGenerator()
        let values = (0..<500).map { _ in UInt64.random(in: 0..<1_000_000, using: &generator) }
        for (token, value) in values.enumerated() { heap.insert(Deadline(nanoseconds: value), UInt64(token)) }
        var out: [UInt64] = []
        while let min = heap.min {
            out.append(min.deadline.nanoseconds)
            heap.removeMin()
        }
        #expect(out == values.sorted())
        for token in 0..<10 { heap.insert(Deadline(nanoseconds: UInt64(token)), UInt64(token)) }
        heap.removeAll { $0 % 2 == 0 }
        #expect(heap.count == 5 && heap.min?.token == 1)
    }

    @Test func readsTheTokenThatEndsAReplySubject() {
        let inbox = "_INBOX.abc."
        for token: UInt64 in [0, 1, 35, 36, 1_000_000, UInt64.max] {
            #expect(
                InboxToken.parse(InboxToken.subject(inbox, token), after: inbox.utf8.count) == token)
        }
        // The last: 2^64, one past the largest (it trapped the request multiplexer's old reader).
        for bad in ["", "_INBOX.abc.", "_INBOX.abc.x-1", "_INBOX.abc.A", "_INBOX.abc.3w5e11264sgsg"] {
            #expect(InboxToken.parse(bad, after: inbox.utf8.count) == nil, "\(bad)")
        }
    }
}
