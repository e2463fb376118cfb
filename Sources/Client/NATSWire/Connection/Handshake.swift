#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The connect handshake on a fresh transport: INFO in, CONNECT + PING out, then wait for
/// PONG. An `-ERR` instead of PONG fails the connect with the server's text.
struct Handshake {
    let options: NATSOptions
    let address: ServerAddress
    let deadline: Deadline

    /// The fields of `CONNECT`.
    struct ConnectPayload: Encodable {
        var verbose: Bool
        var pedantic: Bool
        var tls_required: Bool
        var name: String?
        var lang = "swift"
        var version = NATSClient.version
        var `protocol` = 1
        var echo: Bool
        var headers: Bool
        var no_responders: Bool
        var user: String?
        var pass: String?
        var auth_token: String?
        var nkey: String?
        var sig: String?
        var jwt: String?
    }

    /// Runs the handshake; leaves any bytes after PONG in `parser`. Returns the transport to
    /// use from now on (TLS over `socket` when the connection was upgraded).
    func run(transport socket: any Transport, parser: ProtocolParser) throws(NATSError) -> (
        any Transport, ServerInfo
    ) {
        var transport: any Transport = socket
        guard case .info(var info) = try readOperation(transport, parser) else {
            throw NATSError(.connectionFailed, "\(address): server did not start with INFO")
        }
        let usesTLS = info.tlsRequired || address.wantsTLS || options.tls != nil
        if usesTLS {
            guard info.tlsRequired || info.tlsAvailable, let tcp = socket as? TCPSocket else {
                throw NATSError(.tls, "\(address): TLS was asked for, but the server does not offer it")
            }
            transport = try TLSTransport.connect(
                over: tcp, hostName: address.tlsHostName ?? address.host,
                options: options.tls ?? TLSOptions(),
                deadline: deadline)
        }
        if !options.echo && info.proto < 1 {
            throw NATSError(.invalidArgument, "echo off needs a server that speaks protocol 1")
        }
        let out = ByteBuffer(capacity: 1024)
        ClientOperation.appendConnect(into: out, json: try connectJSON(info, tls: usesTLS))
        out.append(contentsOf: ClientOperation.ping)
        try writeAll(out.array, to: transport)

        while true {
            switch try readOperation(transport, parser) {
            case .pong: return (transport, info)
            case .ok: continue
            case .info(let newer): info = newer
            case .ping: try writeAll(ClientOperation.pong, to: transport)
            case .error(let text):
                let error = NATSError.fromServer(text)
                throw error.kind == .authorizationViolation ? error : NATSError(.connectionFailed, text)
            case .message:
                throw NATSError(.protocolViolation, "message received before the handshake completed")
            }
        }
    }

    func connectJSON(_ info: ServerInfo, tls: Bool = false) throws(NATSError) -> [UInt8] {
        let user = options.user ?? (address.password != nil ? address.user : nil)
        let password = options.password ?? address.password
        let token = options.token ?? address.token
        var payload = ConnectPayload(
            verbose: options.verbose, pedantic: options.pedantic, tls_required: tls, name: options.name,
            echo: options.echo, headers: info.headers, no_responders: info.headers,
            user: user, pass: user == nil ? nil : password, auth_token: user == nil ? token : nil)
        try addSignature(to: &payload, nonce: info.nonce)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Array(try encoder.encode(payload))
        } catch {
            throw NATSError(.invalidArgument, "cannot encode CONNECT: \(error)")
        }
    }

    /// NKey or credentials auth: the signed nonce, with the public key or the user JWT.
    private func addSignature(to payload: inout ConnectPayload, nonce: String?) throws(NATSError) {
        var credentials = options.credentials
        if credentials == nil, let path = options.credentialsFile {
            credentials = try NATSCredentials(contentsOf: path)
        }
        let key: NKeyPair
        if let credentials {
            key = credentials.key
            payload.jwt = credentials.jwt
        } else if let seed = options.nkeySeed {
            key = try NKeyPair(seed: seed)
            payload.nkey = key.publicKey
        } else {
            return
        }
        guard let nonce else {
            throw NATSError(
                .connectionFailed, "\(address): NKey auth needs a nonce, and the server sent none")
        }
        payload.sig = try key.signNonce(nonce)
    }

    private func readOperation(_ transport: any Transport, _ parser: ProtocolParser) throws(NATSError)
        -> ServerOperation
    {
        while true {
            do {
                if let operation = try parser.next() { return operation }
            } catch {
                throw NATSError(.protocolViolation, "\(address): \(error.reason)")
            }
            switch try parser.read(from: transport) {
            case .bytes: continue
            case .endOfStream:
                throw NATSError(
                    .connectionFailed, "\(address): server closed the connection during the handshake")
            case .wouldBlock:
                guard try TransportWait.readable(transport, deadline: deadline) else {
                    throw NATSError(.connectionFailed, "\(address): handshake timed out")
                }
            }
        }
    }

    private func writeAll(_ bytes: [UInt8], to transport: any Transport) throws(NATSError) {
        var offset = 0
        while offset < bytes.count {
            let start = offset
            let n = try bytes.withUnsafeBytes { raw in
                Result { () throws(NATSError) -> Int in
                    try transport.write(UnsafeRawBufferPointer(rebasing: raw[start...]))
                }
            }.get()
            offset += n
            if n == 0 {
                guard try TransportWait.writable(transport, deadline: deadline) else {
                    throw NATSError(.connectionFailed, "\(address): handshake timed out writing")
                }
            }
        }
    }
}
