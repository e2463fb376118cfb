/// How a connection uses TLS. With these options set the client insists on TLS; without
/// them it still upgrades when a `tls://` URL or the server's INFO asks for it, verifying the
/// server against the system's CA certificates.
public struct TLSOptions: Sendable, Equatable {
    /// A PEM file of CA certificates to trust instead of the system's.
    public var caFile: String?
    /// A PEM client certificate (chain), for servers that verify clients.
    public var certificateFile: String?
    /// The PEM private key of `certificateFile`.
    public var keyFile: String?
    /// The name the server's certificate must carry, when it is not the URL's host.
    public var serverName: String?
    /// Check the server's certificate and name. Turning this off accepts any server: for
    /// tests against throwaway certificates only.
    public var verifyServer = true

    /// TLS with the system's trust store unless `caFile` is given; a client certificate and key for mutual TLS.
    public init(
        caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
        serverName: String? = nil
    ) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.serverName = serverName
    }
}
