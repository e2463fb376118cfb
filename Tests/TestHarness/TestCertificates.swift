import Foundation

/// Throwaway certificates made with the `openssl` command: a CA, a server certificate for
/// `localhost` and 127.0.0.1, one for an unrelated name, a client certificate, and a second
/// CA that signed none of them.
public struct TestCertificates: Sendable {
    public let directory: URL
    public var caFile: String { path("ca.pem") }
    public var otherCAFile: String { path("other-ca.pem") }
    public var serverCertificate: String { path("server.pem") }
    public var serverKey: String { path("server.key") }
    public var wrongNameCertificate: String { path("wrong-name.pem") }
    public var wrongNameKey: String { path("wrong-name.key") }
    public var clientCertificate: String { path("client.pem") }
    public var clientKey: String { path("client.key") }

    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Makes a fresh set in a temporary directory (about 100 ms with EC keys).
    public init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("natswire-certs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try makeCA("ca", subject: "/CN=NATSWire Test CA")
        try makeCA("other-ca", subject: "/CN=Someone Else")
        try issue(
            "server", subject: "/CN=localhost",
            extensions: "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth")
        try issue(
            "wrong-name", subject: "/CN=elsewhere.invalid",
            extensions: "subjectAltName=DNS:elsewhere.invalid\nextendedKeyUsage=serverAuth")
        try issue("client", subject: "/CN=natswire-client", extensions: "extendedKeyUsage=clientAuth")
    }

    /// A `tls {}` block for nats-server with the server certificate; `verifyClients` asks
    /// for client certificates signed by the CA.
    public func serverConfig(certificate: String? = nil, key: String? = nil, verifyClients: Bool = false)
        -> String
    {
        """
        tls {
          cert_file: "\(certificate ?? serverCertificate)"
          key_file: "\(key ?? serverKey)"
          ca_file: "\(caFile)"
          verify: \(verifyClients)
          timeout: 2
        }
        """
    }

    private func makeCA(_ name: String, subject: String) throws {
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", path("\(name).key"), "-out", path("\(name).pem"), "-days", "2", "-subj", subject,
        ])
    }

    private func issue(_ name: String, subject: String, extensions: String) throws {
        try openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", subject,
        ])
        try extensions.write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
        try openssl([
            "x509", "-req", "-in", path("\(name).csr"), "-CA", caFile, "-CAkey", path("ca.key"),
            "-CAcreateserial", "-out", path("\(name).pem"), "-days", "2", "-extfile", path("\(name).ext"),
        ])
    }

    private func openssl(_ arguments: [String]) throws {
        guard try ChildProcess.runBlocking("/usr/bin/openssl", arguments).status == 0 else {
            throw HarnessError("openssl \(arguments.prefix(2).joined(separator: " ")) failed")
        }
    }
}
