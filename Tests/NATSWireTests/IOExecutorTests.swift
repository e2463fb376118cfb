import Foundation
import TestHarness
import Testing

@testable import NATSWire

/// The name of the calling OS thread.
private func currentThreadName() -> String {
    let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "?"
    return name.trimmingCharacters(in: .whitespacesAndNewlines)
}

@Suite("Tasks on the I/O thread, and spinning before sleep", .timeLimit(.minutes(2)))
struct IOExecutorTests {
    @Test func requestsResumeOnTheIOThreadWithSpinning() async throws {
        try await withNATSServer { server in
            let responder = try await connect(server.url)
            let requester = try await connect(server.url) { $0.spinBeforeSleep = .microseconds(200) }
            try responder.subscribe(to: "math.double") { message in
                let value = Int(message.string) ?? 0
                try? responder.reply(to: message, with: Array(String(value * 2).utf8))
            }
            try await responder.flush()
            let sequential = Task(executorPreference: requester.ioExecutor) { () async throws -> [String] in
                var threads: [String] = []
                for i in 0..<200 {
                    let answer = try await requester.request(String(i), to: "math.double")
                    #expect(answer.string == String(2 * i))
                    threads.append(currentThreadName())
                }
                return threads
            }
            let threads = try await sequential.value
            #expect(threads.count == 200)
            #expect(Set(threads) == ["natswire-io"], "resumed on \(Set(threads))")

            let concurrent = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<100 {
                    group.addTask(executorPreference: requester.ioExecutor) {
                        try await requester.request(String(i), to: "math.double").string == String(2 * i)
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(concurrent == 100)
            await requester.close()
            await responder.close()
        }
    }

    @Test func tasksStillRunAfterTheClientCloses() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            await nats.close()
            let answer = await Task(executorPreference: nats.ioExecutor) { 6 * 7 }.value
            #expect(answer == 42)
        }
    }

    @Test func spinningBacksOffWhileItFindsNothing() {
        var spin = IdleSpin(window: .microseconds(200))
        // Each miss doubles the sleeps skipped before the next try: 1, 2, 4, 8.
        var decisions: [Bool] = []
        for _ in 0..<4 {
            while !spin.shouldSpin() { decisions.append(false) }
            decisions.append(true)
            spin.record(found: false)
        }
        let expected: [Bool] = [true, false, true, false, false, true, false, false, false, false, true]
        #expect(decisions == expected)
        // One hit: every sleep spins again.
        while !spin.shouldSpin() {}
        spin.record(found: true)
        let afterHit = (0..<3).map { _ in spin.shouldSpin() }
        #expect(afterHit == [true, true, true])
    }

    @Test func backOffIsBoundedAndZeroNeverSpins() {
        var spin = IdleSpin(window: .microseconds(50))
        for _ in 0..<20 {
            while !spin.shouldSpin() {}
            spin.record(found: false)
        }
        var skipped = 0
        while !spin.shouldSpin() { skipped += 1 }
        #expect(skipped == IdleSpin.maxSkipped)
        var off = IdleSpin(window: .zero)
        let offSpins = off.shouldSpin()
        #expect(!offSpins)
        var negative = IdleSpin(window: .microseconds(-5))
        let negativeSpins = negative.shouldSpin()
        #expect(!negativeSpins)
    }
}
