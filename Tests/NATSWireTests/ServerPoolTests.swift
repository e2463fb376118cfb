import Testing

@testable import NATSWire

@Suite("Server pool rules", .timeLimit(.minutes(5)))
struct ServerPoolTests {
    private func addresses(_ urls: String...) throws -> [ServerAddress] {
        try urls.map { try ServerAddress(parsing: $0) }
    }

    private func pass(_ pool: inout ServerPool, avoiding: ServerAddress? = nil) -> [Int] {
        pool.startPass(avoiding: avoiding)
        var ports: [Int] = []
        while let address = pool.nextInPass() { ports.append(address.port) }
        return ports
    }

    @Test func keepsTheGivenOrderUnlessRandomised() throws {
        var ordered = ServerPool(
            addresses: try addresses("a:1", "b:2", "c:3"), randomize: false, maxAttemptsPerServer: 60)
        #expect(pass(&ordered) == [1, 2, 3])
        var shuffled = ServerPool(
            addresses: try addresses("a:1", "b:2", "c:3"), randomize: true, maxAttemptsPerServer: 60,
            shuffle: { $0.reversed() })
        #expect(pass(&shuffled) == [3, 2, 1])
    }

    @Test func aServerGoingAwayIsTriedLast() throws {
        let list = try addresses("a:1", "b:2", "c:3")
        var pool = ServerPool(addresses: list, randomize: false, maxAttemptsPerServer: 60)
        #expect(pass(&pool, avoiding: list[0]) == [2, 3, 1])
    }

    @Test func discoveredServersInheritCredentialsAndTLSName() throws {
        let current = try ServerAddress(parsing: "tls://alice:secret@nats.example.com:4222")
        var pool = ServerPool(addresses: [current], randomize: false, maxAttemptsPerServer: 60)
        let added = pool.discover(
            ["10.0.0.2:4222", "nats.example.com:4222", "10.0.0.2:4222", "[::1]:5222"], current: current)
        #expect(added.map(\.port) == [4222, 5222])
        #expect(added[0].host == "10.0.0.2")
        #expect(added[0].user == "alice" && added[0].password == "secret")
        #expect(added[0].wantsTLS)
        #expect(added[0].tlsHostName == "nats.example.com")
        #expect(added[1].host == "::1")
        #expect(pool.count == 3)
        // Known already: nothing added twice.
        #expect(pool.discover(["10.0.0.2:4222"], current: current).isEmpty)
    }

    @Test func attemptsAndRefusedCredentialsRemoveServers() throws {
        let list = try addresses("a:1", "b:2")
        var pool = ServerPool(addresses: list, randomize: false, maxAttemptsPerServer: 3)
        let removed1 = pool.failed(list[0], authorization: false)
        #expect(!removed1)
        let removed2 = pool.failed(list[0], authorization: false)
        #expect(!removed2)
        let removed3 = pool.failed(list[0], authorization: false)
        #expect(removed3)
        #expect(pool.addresses == [list[1]])
        // One refusal is tolerated (a credential may be rotating); two in a row are not.
        let removed4 = pool.failed(list[1], authorization: true)
        #expect(!removed4)
        let removed5 = pool.failed(list[1], authorization: true)
        #expect(removed5)
        #expect(pool.isEmpty)

        var unlimited = ServerPool(addresses: list, randomize: false, maxAttemptsPerServer: nil)
        for _ in 0..<1000 { unlimited.failed(list[0], authorization: false) }
        unlimited.succeeded(list[0])
        #expect(unlimited.count == 2)
    }
}
