import NATSWire

/// Sends OTLP/HTTP protobuf requests (`POST …/v1/traces`) over one kept-alive HTTP/1.1
/// connection, TLS for `https://`. Runs on the batcher's thread only. A collector that
/// answers 429, 502, 503 or 504 (or cannot be reached) gets the batch again after a pause,
/// twice; anything else drops the batch, as the OTLP specification says.
final class OTLPHTTPExporter: @unchecked Sendable {
    // @unchecked Sendable: `connection` is used by the batcher's one export thread only.
    private let endpoint: TraceEndpoint
    private let headers: [(String, String)]
    private let timeout: Duration
    private let warn: @Sendable (String) -> Void
    private var connection: BlockingStream?
    /// Whether the last export failed: a collector that is down is reported once, and again
    /// when it is back, not for every batch.
    private var failing = false

    init(settings: TraceSettings, endpoint: TraceEndpoint, warn: @escaping @Sendable (String) -> Void) {
        self.endpoint = endpoint
        self.headers = settings.headers
        self.timeout = settings.exportTimeout
        self.warn = warn
    }

    /// Exports one request body; whether the collector accepted it.
    func export(_ body: [UInt8]) -> Bool {
        for attempt in 0..<3 {
            if attempt > 0 { sleepBeforeRetry(attempt) }
            switch post(body) {
            case .accepted:
                if failing { warn("the trace collector accepts spans again") }
                failing = false
                return true
            case .rejected(let status):
                failed("the trace collector refused a batch: HTTP \(status)")
                return false
            case .retry(let reason):
                if attempt == 2 {
                    failed("spans not exported (dropped until the collector is back): \(reason)")
                }
            }
        }
        return false
    }

    private func failed(_ message: String) {
        if !failing { warn(message) }
        failing = true
    }

    private enum Outcome {
        case accepted
        case rejected(Int)
        case retry(String)
    }

    private func post(_ body: [UInt8]) -> Outcome {
        var request = "POST \(endpoint.path) HTTP/1.1\r\nHost: \(endpoint.hostHeader)\r\n"
        request += "Content-Type: application/x-protobuf\r\nContent-Length: \(body.count)\r\n"
        request += "User-Agent: natswire-otlp\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        do {
            let stream = try connection ?? openConnection()
            connection = stream
            try stream.write(Array(request.utf8) + body, timeout: timeout)
            let response = try HTTPResponseReader.read(from: stream, timeout: timeout)
            if response.closes { dropConnection() }
            switch response.status {
            case 200..<300: return .accepted
            case 429, 502, 503, 504: return .retry("HTTP \(response.status)")
            default: return .rejected(response.status)
            }
        } catch {
            dropConnection()
            return .retry("\(error)")
        }
    }

    private func openConnection() throws(NATSError) -> BlockingStream {
        try BlockingStream.connect(
            host: endpoint.host, port: endpoint.port, tls: endpoint.tls, timeout: timeout)
    }

    private func dropConnection() {
        connection?.close()
        connection = nil
    }

    private func sleepBeforeRetry(_ attempt: Int) {
        var pause = timespec(tv_sec: 0, tv_nsec: attempt == 1 ? 500_000_000 : 0)
        if attempt > 1 { pause.tv_sec = 1 }
        nanosleep(&pause, nil)
    }
}

/// The status of an HTTP/1.1 response, its body read (by `Content-Length` or chunks) so the
/// connection can carry the next request.
struct HTTPResponseReader {
    var status: Int
    var closes: Bool

    static func read(from stream: BlockingStream, timeout: Duration) throws -> HTTPResponseReader {
        var buffer: [UInt8] = []
        var headerEnd: Int?
        while headerEnd == nil {
            let more = try stream.read(timeout: timeout)
            guard !more.isEmpty else { throw HTTPResponseError("the collector closed the connection") }
            buffer += more
            headerEnd = find([13, 10, 13, 10], in: buffer)
            if buffer.count > 64 * 1024 && headerEnd == nil {
                throw HTTPResponseError("response head too large")
            }
        }
        guard let headerEnd else { throw HTTPResponseError("no response head") }
        let head = String(decoding: buffer[..<headerEnd], as: UTF8.self)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1])
        else {
            throw HTTPResponseError("not an HTTP/1.1 response")
        }
        var length: Int?
        var chunked = false
        var closes = statusParts[0] == "HTTP/1.0"
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].drop { $0 == " " }.lowercased()
            switch name {
            case "content-length": length = Int(value)
            case "transfer-encoding": chunked = value.contains("chunked")
            case "connection":
                closes = value.contains("close") ? true : (value.contains("keep-alive") ? false : closes)
            default: break
            }
        }
        var body = Array(buffer[(headerEnd + 4)...])
        if chunked {
            // Read until the last chunk's terminator; the body itself is not needed.
            while find(Array("0\r\n\r\n".utf8), in: body) == nil {
                let more = try stream.read(timeout: timeout)
                guard !more.isEmpty else { break }
                body += more
            }
        } else if let length {
            while body.count < length {
                let more = try stream.read(timeout: timeout)
                guard !more.isEmpty else { throw HTTPResponseError("the response body ended early") }
                body += more
            }
        } else {
            closes = true
        }
        return HTTPResponseReader(status: status, closes: closes)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return start }
        }
        return nil
    }
}

struct HTTPResponseError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

#if canImport(Glibc)
    import Glibc
#endif
