/// Direct get (`$JS.API.DIRECT.GET.<stream>`): a stored message read by any server that holds
/// the stream, the leader or a replica, answered as the message itself with its place in
/// `Nats-*` headers rather than as base64 in JSON. The stream must allow it
/// (``StreamConfig/allowDirect``, which key-value buckets set); a replica may answer before
/// it has the newest writes.
extension JetStream {
    /// The message at `sequence`, by direct get.
    public func directMessage(_ stream: String, sequence: UInt64) async throws -> StoredMessage {
        try await direct(stream, DirectRequest(seq: sequence))
    }

    /// The newest message on `subject`, by direct get.
    public func directLastMessage(_ stream: String, subject: String) async throws -> StoredMessage {
        try await direct(stream, DirectRequest(lastBySubject: subject))
    }

    /// The first message on `subject` at `sequence` or later, by direct get.
    public func directNextMessage(_ stream: String, subject: String, from sequence: UInt64) async throws
        -> StoredMessage
    {
        try await direct(stream, DirectRequest(seq: sequence, nextBySubject: subject))
    }

    private func direct(_ stream: String, _ request: DirectRequest) async throws -> StoredMessage {
        let name = try Self.streamName(stream)
        let reply: NATSMessage
        do {
            reply = try await client.request(
                Array(try JetStreamJSON.encoder.encode(request)), to: "\(apiPrefix).DIRECT.GET.\(name)",
                timeout: timeout)
        } catch let error as NATSError where error.kind == .noResponders || error.kind == .timeout {
            // A stream without direct access does not answer at all: the request times out.
            throw JetStreamError(
                code: error.kind == .timeout ? 408 : 503, errorCode: 0,
                description:
                    "no server answered a direct get for stream \(name) (missing, or allow_direct off)")
        }
        return try Self.storedMessage(directReply: reply, stream: name)
    }

    /// The stored message a direct-get reply carries, or the error its status says.
    static func storedMessage(directReply reply: NATSMessage, stream: String) throws -> StoredMessage {
        if let status = reply.status {
            let reason = reply.headers?.statusDescription ?? ""
            if status == 404 {
                throw JetStreamError(
                    code: 404, errorCode: JetStreamError.Code.messageNotFound,
                    description: "no message found in stream \(stream)")
            }
            throw JetStreamError(
                code: status, errorCode: 0, description: "direct get refused: \(status) \(reason)")
        }
        guard var headers = reply.headers, let subject = headers[DirectHeader.subject],
            let sequence = headers[DirectHeader.sequence].flatMap(UInt64.init),
            let time = headers[DirectHeader.time]
        else {
            throw JetStreamError(
                code: 500, errorCode: 0,
                description: "a direct-get reply without its Nats-Subject/-Sequence/-Time-Stamp")
        }
        for name in DirectHeader.all { headers.remove(name) }
        return StoredMessage(
            subject: subject, sequence: sequence, headers: headers.isEmpty ? nil : headers,
            payload: reply.payload, time: time)
    }

    /// The headers the server adds to a direct-get reply; the rest are the message's own.
    enum DirectHeader {
        static let stream = "Nats-Stream"
        static let subject = "Nats-Subject"
        static let sequence = "Nats-Sequence"
        static let time = "Nats-Time-Stamp"
        static let all = [stream, subject, sequence, time, "Nats-Last-Sequence", "Nats-Num-Pending"]
    }

    struct DirectRequest: Encodable {
        var seq: UInt64?
        var lastBySubject: String?
        var nextBySubject: String?

        init(seq: UInt64? = nil, lastBySubject: String? = nil, nextBySubject: String? = nil) {
            self.seq = seq
            self.lastBySubject = lastBySubject
            self.nextBySubject = nextBySubject
        }

        enum CodingKeys: String, CodingKey {
            case seq
            case lastBySubject = "last_by_subj"
            case nextBySubject = "next_by_subj"
        }
    }
}
