import Contracts
import HTTPTypes
import Hummingbird
import NATSWire
import ServiceLifecycle

extension Gateway {
    /// `GET /events`: the `EVENTS` stream as Server-Sent Events, replayed from after the
    /// sequence `after` (or the `Last-Event-ID` a reconnecting `EventSource` sends), then
    /// live. Each event is `id: <stream sequence>`, `event: <subject>`, `data: <the event's
    /// JSON>`; a comment every 15 s keeps an idle connection open. Read through an ordered
    /// consumer (in order, each once, re-created after a gap or a reconnect); the gateway's NATS
    /// user may read the stream and nothing else of JetStream.
    func eventStream(_ request: Request) -> Response {
        let requestID = Self.requestID(request)
        let given =
            request.uri.queryParameters["after"].map(String.init) ?? request.headers[Self.lastEventIDHeader]
        guard let after = Self.sequence(given) else {
            return Problem.badRequest(["after": "must be a stream sequence (an integer from 0)"]).response(
                requestID: requestID)
        }
        let jetStream = nats.jetStream()
        let stream = settings.eventsStream
        let logger = self.logger
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        headers[Self.requestIDHeader] = requestID
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let (frames, sink) = AsyncStream.makeStream(
                    of: ByteBuffer.self, bufferingPolicy: .bufferingOldest(1024))
                let reader = Task {
                    do {
                        for try await message in jetStream.orderedConsumer(stream, startSequence: after + 1) {
                            let sequence = message.metadata.streamSequence
                            sink.yield(
                                Self.frame(
                                    sequence: sequence, subject: message.subject, data: message.payload))
                        }
                    } catch {
                        logger.warning(
                            "event stream ended: \(error)", metadata: ["request_id": "\(requestID)"])
                    }
                    sink.finish()
                }
                let keepAlive = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(15))
                        sink.yield(ByteBuffer(string: ": keep-alive\n\n"))
                    }
                }
                defer {
                    reader.cancel()
                    keepAlive.cancel()
                }
                // Until the client goes (a write fails), the stream cannot be read, or the
                // gateway shuts down (the stream ends then, so draining does not wait for it).
                try await withGracefulShutdownHandler {
                    for await frame in frames { try await writer.write(frame) }
                } onGracefulShutdown: {
                    sink.finish()
                }
                try await writer.finish(nil)
            })
    }

    // swift-format-ignore: NeverForceUnwrap
    // A constant, valid header-name token: the initializer cannot fail for it.
    static let lastEventIDHeader = HTTPField.Name("Last-Event-ID")!

    /// A stream sequence from the query or header; 0 when none was given.
    static func sequence(_ text: String?) -> UInt64? {
        guard let text else { return 0 }
        guard !text.isEmpty, text.utf8.count <= 20, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        return UInt64(text)
    }

    /// One Server-Sent Event. The event's JSON is one line (no raw newlines in JSON text), so
    /// it fits one `data:` field.
    static func frame(sequence: UInt64, subject: String, data: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("id: \(sequence)\nevent: \(subject)\ndata: ")
        for byte in data where byte != 0x0A && byte != 0x0D { buffer.writeInteger(byte) }
        buffer.writeString("\n\n")
        return buffer
    }
}
