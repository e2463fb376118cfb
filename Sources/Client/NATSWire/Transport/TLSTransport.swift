import COpenSSL

#if canImport(Glibc)
    import Glibc
#endif

/// TLS 1.2+ over a connected ``TCPSocket``, through OpenSSL, non-blocking like the socket
/// underneath. The server's certificate chain and its name (DNS name or IP address) are
/// verified unless the options say otherwise.
// @unchecked Sendable: the SSL object is used by one thread at a time — the handshake's
// caller, then the connection's I/O thread (TLS transports refuse concurrent writers).
final class TLSTransport: Transport, @unchecked Sendable {
    private let socket: TCPSocket
    private let context: OpaquePointer  // SSL_CTX
    private let ssl: OpaquePointer  // SSL
    private var isClosed = false

    var fileDescriptor: Int32 { socket.fileDescriptor }
    var allowsConcurrentWrite: Bool { false }
    var hasBufferedInput: Bool { !isClosed && SSL_pending(ssl) > 0 }

    private init(socket: TCPSocket, context: OpaquePointer, ssl: OpaquePointer) {
        self.socket = socket
        self.context = context
        self.ssl = ssl
    }

    deinit { close() }

    /// Runs the TLS handshake on `socket` before `deadline`; `hostName` is what the
    /// certificate must name (and the SNI, unless it is an IP address).
    static func connect(
        over socket: TCPSocket, hostName: String, options: TLSOptions, deadline: Deadline
    ) throws(NATSError) -> TLSTransport {
        let context = try makeContext(options)
        guard let ssl = SSL_new(context) else {
            SSL_CTX_free(context)
            throw NATSError(.tls, "SSL_new failed: \(openSSLErrors())")
        }
        let transport = TLSTransport(socket: socket, context: context, ssl: ssl)
        guard SSL_set_fd(ssl, socket.fileDescriptor) == 1 else {
            throw NATSError(.tls, "SSL_set_fd failed: \(openSSLErrors())")
        }
        let name = options.serverName ?? hostName
        let isIP = ServerAddress(host: name).isIPAddress
        if options.verifyServer {
            let nameSet =
                isIP
                ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1
                : SSL_set1_host(ssl, name) == 1
            guard nameSet else { throw NATSError(.tls, "cannot verify against the name \(name)") }
        }
        if !isIP { _ = natswire_ssl_set_sni(ssl, name) }
        try transport.handshake(deadline: deadline, name: name)
        return transport
    }

    private static func makeContext(_ options: TLSOptions) throws(NATSError) -> OpaquePointer {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw NATSError(.tls, "SSL_CTX_new failed: \(openSSLErrors())")
        }
        do throws(NATSError) {
            guard natswire_ssl_ctx_set_min_tls12(context) == 1 else {
                throw NATSError(.tls, "cannot require TLS 1.2: \(openSSLErrors())")
            }
            natswire_ssl_ctx_set_write_modes(context)
            if let caFile = options.caFile {
                guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                    throw NATSError(.tls, "cannot load CA file \(caFile): \(openSSLErrors())")
                }
            } else {
                SSL_CTX_set_default_verify_paths(context)
            }
            SSL_CTX_set_verify(context, options.verifyServer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
            if let certificateFile = options.certificateFile {
                guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
                    throw NATSError(.tls, "cannot load certificate \(certificateFile): \(openSSLErrors())")
                }
                let keyFile = options.keyFile ?? certificateFile
                guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1,
                    SSL_CTX_check_private_key(context) == 1
                else {
                    throw NATSError(.tls, "cannot load the private key \(keyFile): \(openSSLErrors())")
                }
            }
            return context
        } catch {
            SSL_CTX_free(context)
            throw error
        }
    }

    private func handshake(deadline: Deadline, name: String) throws(NATSError) {
        while true {
            ERR_clear_error()
            let result = SSL_connect(ssl)
            if result == 1 { return }
            let code = SSL_get_error(ssl, result)
            let ready: Bool
            switch code {
            case SSL_ERROR_WANT_READ:
                ready = try TransportWait.wait(fileDescriptor, events: Int16(POLLIN), deadline: deadline)
            case SSL_ERROR_WANT_WRITE:
                ready = try TransportWait.wait(fileDescriptor, events: Int16(POLLOUT), deadline: deadline)
            default:
                let verify = SSL_get_verify_result(ssl)
                if verify != Int(X509_V_OK) {
                    let reason = String(cString: X509_verify_cert_error_string(verify))
                    throw NATSError(.tls, "certificate of \(name) not trusted: \(reason)")
                }
                throw NATSError(.tls, "TLS handshake with \(name) failed: \(openSSLErrors(fallback: code))")
            }
            guard ready else { throw NATSError(.tls, "TLS handshake with \(name) timed out") }
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(NATSError) -> ReadOutcome {
        ERR_clear_error()
        let n = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        if n > 0 { return .bytes(Int(n)) }
        switch SSL_get_error(ssl, n) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .wouldBlock
        case SSL_ERROR_ZERO_RETURN: return .endOfStream
        case SSL_ERROR_SYSCALL where errno == 0 || n == 0: return .endOfStream
        case let code: throw NATSError(.connectionClosed, "TLS read: \(openSSLErrors(fallback: code))")
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(NATSError) -> Int {
        guard bytes.count > 0 else { return 0 }
        ERR_clear_error()
        let n = SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        if n > 0 { return Int(n) }
        switch SSL_get_error(ssl, n) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return 0
        case let code: throw NATSError(.connectionClosed, "TLS write: \(openSSLErrors(fallback: code))")
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        _ = SSL_shutdown(ssl)  // best effort close_notify; the socket is non-blocking
        SSL_free(ssl)
        SSL_CTX_free(context)
        socket.close()
    }
}

/// OpenSSL's queued error texts, oldest first.
private func openSSLErrors(fallback code: Int32? = nil) -> String {
    var texts: [String] = []
    while case let error = ERR_get_error(), error != 0 {
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(error, &buffer, buffer.count)
        texts.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    if texts.isEmpty, let code { return "SSL error \(code)" }
    return texts.isEmpty ? "unknown error" : texts.joined(separator: "; ")
}
