import Foundation
import TestHarness
import Testing

@testable import NATSWire

/// Round trip of a subscription and a publish on `nats`.
private func roundTrip(_ nats: NATSClient, subject: String = "secure.echo") async throws {
    let subscription = try nats.subscribe(to: subject)
    try nats.publish("hello", to: subject)
    let got = try await collect(subscription, count: 1)
    #expect(got.first?.string == "hello")
    try subscription.unsubscribe()
}

private func expectConnectFails(
    _ url: String, kind: NATSError.Kind, containing text: String? = nil,
    _ configure: @escaping (inout NATSOptions) -> Void
) async {
    do {
        let nats = try await connect(url) {
            $0.reconnect = .disabled
            configure(&$0)
        }
        Issue.record("connect to \(url) succeeded")
        await nats.close()
    } catch let error as NATSError {
        #expect(error.kind == kind, "\(error)")
        if let text { #expect(error.message.lowercased().contains(text.lowercased()), "\(error)") }
    } catch {
        Issue.record("unexpected \(error)")
    }
}

@Suite("Auth: NKeys and credentials", .timeLimit(.minutes(5)))
struct NKeyTests {
    @Test func ed25519MatchesRFC8032TestVector1() throws {
        let secret: [UInt8] = Array(
            hex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        #expect(
            try Ed25519.publicKey(seed: secret)
                == Array(hex: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
        let signature = try Ed25519.sign([], seed: secret)
        #expect(
            signature
                == Array(
                    hex:
                        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
                ))
    }

    @Test func seedsRoundTripAndChecksumsAreChecked() throws {
        for kind in NKeyPair.Kind.allCases {
            let key = try NKeyPair.generate(kind)
            let decoded = try NKeyPair(seed: key.encodedSeed)
            #expect(decoded.publicKey == key.publicKey)
            #expect(decoded.kind == kind)
            #expect(key.encodedSeed.hasPrefix("S"))
            #expect(key.publicKey.count == 56)
        }
        let user = try NKeyPair.generate(.user)
        #expect(user.encodedSeed.hasPrefix("SU"))
        #expect(user.publicKey.hasPrefix("U"))
        // One changed character breaks the checksum.
        var seed = Array(user.encodedSeed)
        seed[10] = seed[10] == "A" ? "B" : "A"
        #expect(throws: NATSError.self) { try NKeyPair(seed: String(seed)) }
        #expect(throws: NATSError.self) { try NKeyPair(seed: "SUNOTBASE32!!") }
        #expect(throws: NATSError.self) { try NKeyPair(seed: user.publicKey) }  // a public key is no seed
    }

    @Test func credentialsFileParses() throws {
        let key = try NKeyPair.generate(.user)
        let text = NATSCredentials.fileText(jwt: "eyJhbGciOi.eyJzdWIi.c2ln", key: key)
        let parsed = try NATSCredentials(text: text)
        #expect(parsed.jwt == "eyJhbGciOi.eyJzdWIi.c2ln")
        #expect(parsed.key.publicKey == key.publicKey)
        #expect(throws: NATSError.self) { try NATSCredentials(text: "nothing here") }
        #expect(throws: NATSError.self) { try NATSCredentials(contentsOf: "/nonexistent/user.creds") }
    }
}

@Suite("Auth against live servers", .timeLimit(.minutes(5)))
struct NATSAuthTests {
    @Test func token() async throws {
        try await withNATSServer(config: "authorization { token: \"s3cret-token\" }") { server in
            let viaOption = try await connect(server.url) { $0.token = "s3cret-token" }
            try await roundTrip(viaOption)
            await viaOption.close()
            let viaURL = try await connect("nats://s3cret-token@127.0.0.1:\(server.port)")
            try await roundTrip(viaURL)
            await viaURL.close()
            await expectConnectFails(server.url, kind: .authorizationViolation, containing: "authorization") {
                $0.token = "wrong"
            }
            await expectConnectFails(server.url, kind: .authorizationViolation) { _ in }
        }
    }

    @Test func userAndPassword() async throws {
        try await withNATSServer(config: "authorization { user: alice, password: \"p@ss word\" }") { server in
            let viaOption = try await connect(server.url) {
                $0.user = "alice"
                $0.password = "p@ss word"
            }
            try await roundTrip(viaOption)
            await viaOption.close()
            let viaURL = try await connect("nats://alice:p%40ss%20word@127.0.0.1:\(server.port)")
            try await roundTrip(viaURL)
            await viaURL.close()
            await expectConnectFails(server.url, kind: .authorizationViolation) {
                $0.user = "alice"
                $0.password = "guess"
            }
        }
    }

    @Test func nkey() async throws {
        let user = try NKeyPair.generate(.user)
        let stranger = try NKeyPair.generate(.user)
        try await withNATSServer(config: "authorization { users: [ { nkey: \(user.publicKey) } ] }") {
            server in
            #expect(server.log.isEmpty == false)
            let nats = try await connect(server.url) { $0.nkeySeed = user.encodedSeed }
            try await roundTrip(nats)
            await nats.close()
            await expectConnectFails(server.url, kind: .authorizationViolation) {
                $0.nkeySeed = stranger.encodedSeed
            }
            await expectConnectFails(server.url, kind: .invalidArgument) { $0.nkeySeed = "SUBROKEN" }
        }
    }

    @Test func credentialsInOperatorMode() async throws {
        let authority = try NATSOperator()
        let directory = FileManager.default.temporaryDirectory
        let config = try authority.serverConfig(directory: directory)
        try await withNATSServer(config: config) { server in
            let creds = try NATSOperator.write(try authority.user(), in: directory)
            let nats = try await connect(server.url) { $0.credentialsFile = creds }
            try await roundTrip(nats)
            await nats.close()
            // Signed by an account the operator never issued.
            let forged = try NATSOperator.write(
                try authority.user(signedBy: try NKeyPair.generate(.account)), in: directory)
            await expectConnectFails(server.url, kind: .authorizationViolation) {
                $0.credentialsFile = forged
            }
            // An expired user.
            let expired = try NATSOperator.write(
                try authority.user(expires: Date().addingTimeInterval(-60)), in: directory)
            await expectConnectFails(server.url, kind: .authorizationViolation) {
                $0.credentialsFile = expired
            }
        }
    }

    @Test func expiredCredentialsEndReconnectingWithAClearError() async throws {
        let authority = try NATSOperator()
        let directory = FileManager.default.temporaryDirectory
        try await withNATSServer(config: try authority.serverConfig(directory: directory)) { server in
            // Long enough that connecting and one round trip finish first on a machine whose
            // cores are busy with something else (8 s was not, under stress-ng --cpu 2).
            let creds = try NATSOperator.write(
                try authority.user(expires: Date().addingTimeInterval(15)), in: directory)
            let nats = try await connect(server.url) {
                $0.credentialsFile = creds
                quickReconnect(&$0)
            }
            let events = EventLog(nats)
            try await roundTrip(nats)
            // The server ends the session when the JWT expires; reconnecting is refused, and
            // the client stops instead of retrying forever.
            #expect(await eventually(timeout: .seconds(40)) { nats.status == .closed })
            #expect(
                nats.closeReason?.kind == .authorizationViolation, "\(String(describing: nats.closeReason))")
            let reasons = await eventuallyValue {
                events.all.compactMap { event -> NATSError? in
                    if case .disconnected(let reason) = event { reason } else { nil }
                }
            }
            #expect(reasons.contains { $0.message.lowercased().contains("expired") }, "\(reasons)")
        }
    }
}

@Suite("TLS against live servers", .timeLimit(.minutes(5)))
struct TLSTests {
    static let certificates = Result { try TestCertificates() }

    @Test func verifiedConnectionByNameAndByAddress() async throws {
        let certs = try Self.certificates.get()
        try await withNATSServer(config: certs.serverConfig()) { server in
            for host in ["localhost", "127.0.0.1"] {
                let nats = try await connect("nats://\(host):\(server.port)") {
                    $0.tls = TLSOptions(caFile: certs.caFile)
                }
                try await roundTrip(nats)
                // Large writes go through TLS records intact.
                let big = [UInt8]((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
                let subscription = try nats.subscribe(to: "tls.big")
                try nats.publish(big, to: "tls.big")
                #expect(try await collect(subscription, count: 1).first?.payload == big)
                await nats.close()
            }
            // A tls:// URL asks for TLS too.
            let viaScheme = try await connect("tls://localhost:\(server.port)") {
                $0.tls = TLSOptions(caFile: certs.caFile)
            }
            try await roundTrip(viaScheme)
            await viaScheme.close()
        }
    }

    @Test func untrustedCertificateIsAClearError() async throws {
        let certs = try Self.certificates.get()
        try await withNATSServer(config: certs.serverConfig()) { server in
            await expectConnectFails("nats://localhost:\(server.port)", kind: .tls, containing: "not trusted")
            {
                $0.tls = TLSOptions(caFile: certs.otherCAFile)
            }
            // Server requires TLS; no options: the system CAs do not know the test CA.
            await expectConnectFails("nats://localhost:\(server.port)", kind: .tls, containing: "not trusted")
            { _ in }
        }
    }

    @Test func wrongHostNameIsAClearError() async throws {
        let certs = try Self.certificates.get()
        let config = certs.serverConfig(certificate: certs.wrongNameCertificate, key: certs.wrongNameKey)
        try await withNATSServer(config: config) { server in
            await expectConnectFails(
                "nats://localhost:\(server.port)", kind: .tls, containing: "hostname mismatch"
            ) {
                $0.tls = TLSOptions(caFile: certs.caFile)
            }
            // The name can be given explicitly when it differs from the URL's host.
            let nats = try await connect("nats://127.0.0.1:\(server.port)") {
                $0.tls = TLSOptions(caFile: certs.caFile, serverName: "elsewhere.invalid")
            }
            try await roundTrip(nats)
            await nats.close()
        }
    }

    @Test func clientCertificateRequired() async throws {
        let certs = try Self.certificates.get()
        try await withNATSServer(config: certs.serverConfig(verifyClients: true)) { server in
            do {
                let nats = try await connect("nats://localhost:\(server.port)") {
                    $0.reconnect = .disabled
                    $0.tls = TLSOptions(caFile: certs.caFile)
                }
                // TLS 1.3 reports a refused client certificate after the handshake.
                try await nats.flush(timeout: .seconds(2))
                Issue.record("the server accepted a client without a certificate")
                await nats.close()
            } catch let error as NATSError {
                #expect([.tls, .connectionFailed, .connectionClosed].contains(error.kind), "\(error)")
            }
            let nats = try await connect("nats://localhost:\(server.port)") {
                $0.tls = TLSOptions(
                    caFile: certs.caFile, certificateFile: certs.clientCertificate, keyFile: certs.clientKey)
            }
            try await roundTrip(nats)
            await nats.close()
        }
    }

    @Test func askingForTLSFromAPlainServerFails() async throws {
        try await withNATSServer { server in
            await expectConnectFails(
                "tls://127.0.0.1:\(server.port)", kind: .tls, containing: "does not offer"
            ) { _ in }
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        self = bytes
    }
}
