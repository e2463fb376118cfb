import Foundation

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
    }

    /// Runs the handshake; leaves any bytes after PONG in `parser`. Returns the transport to
    /// use from now on (TLS over `socket` when the connection was upgraded).
    func run(transport socket: any Transport, parser: ProtocolParser) throws(NATSError) -> (any Transport, ServerInfo) {
        let transport: any Transport = socket
        guard case .info(var info) = try readOperation(transport, parser) else {
            throw NATSError(.connectionFailed, "\(address): server did not start with INFO")
        }
        if info.tlsRequired || address.wantsTLS {
            throw NATSError(
                .tls, "\(address): the server requires TLS, which this connection is not set up for")
        }
        if !options.echo && info.proto < 1 {
            throw NATSError(.invalidArgument, "echo off needs a server that speaks protocol 1")
        }
        let out = ByteBuffer(capacity: 1024)
        ClientOperation.appendConnect(into: out, json: try connectJSON(info))
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

    func connectJSON(_ info: ServerInfo) throws(NATSError) -> [UInt8] {
        let user = options.user ?? (address.password != nil ? address.user : nil)
        let password = options.password ?? address.password
        let token = options.token ?? address.token
        let payload = ConnectPayload(
            verbose: options.verbose, pedantic: options.pedantic, tls_required: false, name: options.name,
            echo: options.echo, headers: info.headers, no_responders: info.headers,
            user: user, pass: user == nil ? nil : password, auth_token: user == nil ? token : nil)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Array(try encoder.encode(payload))
        } catch {
            throw NATSError(.invalidArgument, "cannot encode CONNECT: \(error)")
        }
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
