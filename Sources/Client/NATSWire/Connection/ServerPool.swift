/// The servers a client may connect to: the URLs it was given plus those the cluster
/// announced in INFO `connect_urls`, each with its count of failed attempts.
///
/// The order is randomised unless the owner asks otherwise (ADR-40), so that the clients
/// of one deployment spread over the cluster. `next` hands out servers round-robin.
struct ServerPool: Sendable {
    struct Server: Sendable, Equatable {
        var address: ServerAddress
        var failedAttempts = 0
        /// Consecutive authorization failures: a second one removes the server, so expired
        /// credentials end the client instead of looping.
        var authorizationFailures = 0
    }

    private(set) var servers: [Server]
    private var cursor = 0
    let maxAttemptsPerServer: Int?

    init(
        addresses: [ServerAddress], randomize: Bool, maxAttemptsPerServer: Int?,
        shuffle: ([Server]) -> [Server] = { $0.shuffled() }
    ) {
        let configured = addresses.map { Server(address: $0) }
        servers = randomize ? shuffle(configured) : configured
        self.maxAttemptsPerServer = maxAttemptsPerServer
    }

    var isEmpty: Bool { servers.isEmpty }
    var count: Int { servers.count }
    var addresses: [ServerAddress] { servers.map(\.address) }

    /// The next server of the current pass; `nil` once every server was tried.
    mutating func nextInPass() -> ServerAddress? {
        guard cursor < servers.count else { return nil }
        defer { cursor += 1 }
        return servers[cursor].address
    }

    /// Starts a pass at the beginning, with `avoid` (a server going away) last.
    mutating func startPass(avoiding avoid: ServerAddress? = nil) {
        cursor = 0
        if let avoid, servers.count > 1, let index = servers.firstIndex(where: { $0.address == avoid }) {
            servers.append(servers.remove(at: index))
        }
    }

    /// The handshake with `address` succeeded.
    mutating func succeeded(_ address: ServerAddress) {
        guard let index = index(of: address) else { return }
        servers[index].failedAttempts = 0
        servers[index].authorizationFailures = 0
    }

    /// An attempt on `address` failed; drops the server once it has used up its attempts or
    /// refused the credentials twice in a row. Returns whether it was dropped.
    @discardableResult
    mutating func failed(_ address: ServerAddress, authorization: Bool) -> Bool {
        guard let index = index(of: address) else { return false }
        servers[index].failedAttempts += 1
        servers[index].authorizationFailures = authorization ? servers[index].authorizationFailures + 1 : 0
        let exhausted = maxAttemptsPerServer.map { servers[index].failedAttempts >= $0 } ?? false
        guard exhausted || servers[index].authorizationFailures >= 2 else { return false }
        servers.remove(at: index)
        if index < cursor { cursor -= 1 }
        return true
    }

    /// Adds the servers of INFO `connect_urls` that are not known yet. They inherit the
    /// credentials and TLS wish of `current`, and its TLS host name when they are bare IP
    /// addresses (protocol notes). Returns the ones added.
    mutating func discover(_ urls: [String], current: ServerAddress) -> [ServerAddress] {
        var added: [ServerAddress] = []
        for url in urls {
            guard var address = try? ServerAddress(parsing: url) else { continue }
            address.wantsTLS = current.wantsTLS
            if address.user == nil {
                address.user = current.user
                address.password = current.password
            }
            if address.isIPAddress { address.tlsHostName = current.tlsHostName ?? current.host }
            guard !servers.contains(where: { $0.address.sameServer(as: address) }) else { continue }
            servers.append(Server(address: address))
            added.append(address)
        }
        return added
    }

    private func index(of address: ServerAddress) -> Int? {
        servers.firstIndex { $0.address == address }
    }
}
