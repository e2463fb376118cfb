import Contracts
import HTTPTypes
import Hummingbird
import Logging
import NATSWire
import ServiceRuntime

/// Turns each HTTP request into one NATS request–reply and the reply back into HTTP.
struct Gateway: Sendable {
    let nats: NATSClient
    let verifier: TokenVerifier
    let settings: GatewaySettings
    let logger: Logger
    let metrics: GatewayMetrics

    // swift-format-ignore: NeverForceUnwrap
    // A constant, valid header-name token: the initializer cannot fail for it.
    static let requestIDHeader = HTTPField.Name("X-Request-Id")!
    // swift-format-ignore: NeverForceUnwrap
    // A constant, valid header-name token: the initializer cannot fail for it.
    static let idempotencyKeyHeader = HTTPField.Name("Idempotency-Key")!

    /// What an operation sends: a subject and the JSON payload's bytes.
    struct Call {
        var subject: String
        var payload: [UInt8]
        var successStatus: HTTPResponse.Status
        /// GET, and DELETE by id: safe to send a second time.
        var idempotent = false
        /// The client's `Idempotency-Key` (POST and PATCH), passed on to the service.
        var idempotencyKey: String?
    }

    /// The share of the deadline an idempotent request waits before it is sent again: a
    /// replica that died with the request in hand does not cost the client the whole wait.
    static let firstAttemptShare = 0.4
    /// How long an idempotent request that found no responder waits before its second try.
    static let noRespondersPause = Duration.milliseconds(500)

    /// Runs one forwarding operation: request id, building the call from the validated
    /// input, one NATS request, the reply as the response.
    func handle(
        _ request: Request, _ context: GatewayContext, subject: String, input: Operation.Input,
        status: HTTPResponse.Status
    ) async -> Response {
        let requestID = Self.requestID(request)
        do {
            let key = try Self.idempotencyKey(request)
            let payload = try await self.payload(input, request, context)
            let idempotent = request.method == .get || request.method == .delete
            return try await forward(
                Call(
                    subject: subject, payload: payload, successStatus: status, idempotent: idempotent,
                    idempotencyKey: key),
                requestID: requestID)
        } catch {
            return error.response(requestID: requestID)
        }
    }

    /// The NATS payload of an operation's input.
    func payload(_ input: Operation.Input, _ request: Request, _ context: GatewayContext)
        async throws(Problem) -> [UInt8]
    {
        switch input {
        case .body(let schema): return try await jsonBody(request, schema: schema).bytes
        case .bodyAndKey(let schema, let key):
            let body = try await jsonBody(request, schema: schema)
            return body.adding(key.field, try Self.key(key, context)).json
        case .key(let key): return JSONValue.object([(key.field, try Self.key(key, context))]).json
        case .query(let schema): return try Self.query(request, schema).json
        case .identity: return JSONValue.object([("user_id", .string(context.identity?.userID ?? ""))]).json
        }
    }

    static func requestID(_ request: Request) -> String {
        if let given = request.headers[requestIDHeader], (1...128).contains(given.count),
            given.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        {
            return given
        }
        return NUID.generate()
    }

    /// The `Idempotency-Key` of a POST or PATCH: 1–255 printable ASCII characters.
    static func idempotencyKey(_ request: Request) throws(Problem) -> String? {
        guard request.method == .post || request.method == .patch,
            let key = request.headers[idempotencyKeyHeader]
        else { return nil }
        guard IdempotencyRule.isValid(key) else {
            throw Problem.badRequest(["Idempotency-Key": "must be 1 to 255 printable ASCII characters"])
        }
        return key
    }

    private func forward(_ call: Call, requestID: String) async throws(Problem) -> Response {
        let reply =
            try await call.idempotent
            ? sendRetrying(call, requestID: requestID)
            : send(call.payload, to: call.subject, requestID: requestID, idempotencyKey: call.idempotencyKey)
        if let serviceError = ServiceError(reply: reply) {
            let status = Self.status(for: serviceError.code)
            var errors: [String: String] = [:]
            if case .object(let fields)? = (try? JSONValue.parse(reply.payload))?["errors"] {
                for field in fields { if let message = field.value.string { errors[field.key] = message } }
            }
            var problem = Problem(status: status, detail: serviceError.message, errors: errors)
            // A service that sheds load (a login burst) or waits for its database: worth a retry.
            if status == .serviceUnavailable { problem.headers[.retryAfter] = "1" }
            throw problem
        }
        return Self.json(reply.payload, status: call.successStatus, requestID: requestID)
    }

    /// A JSON response.
    static func json(_ body: [UInt8], status: HTTPResponse.Status, requestID: String) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[Self.requestIDHeader] = requestID
        return Response(
            status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// An idempotent request: a first attempt with a share of the deadline; without an answer
    /// (or with nobody listening) a second one with the rest, which the subject's queue group
    /// gives to whichever replica is there.
    private func sendRetrying(_ call: Call, requestID: String) async throws(Problem) -> NATSMessage {
        let total = settings.requestTimeout
        let first = max(total * Self.firstAttemptShare, .milliseconds(100))
        guard first < total else {
            return try await send(call.payload, to: call.subject, requestID: requestID)
        }
        let start = ContinuousClock.now
        do {
            return try await send(call.payload, to: call.subject, requestID: requestID, timeout: first)
        } catch {
            guard error.status == .gatewayTimeout || error.status == .serviceUnavailable else { throw error }
            // Nobody listening: the services may be subscribing again after a NATS restart
            // (they reconnect within about 250 ms of the server's return). Give them that.
            if error.status == .serviceUnavailable {
                try? await Task.sleep(
                    for: min(Self.noRespondersPause, (total - (ContinuousClock.now - start)) / 2))
            }
        }
        metrics.recordRetry()
        let remaining = max(total - (ContinuousClock.now - start), .milliseconds(100))
        return try await send(call.payload, to: call.subject, requestID: requestID, timeout: remaining)
    }

    /// One NATS request with the request id; what goes wrong on the way is a problem.
    func send(
        _ payload: [UInt8], to subject: String, requestID: String, idempotencyKey: String? = nil,
        timeout: Duration? = nil
    )
        async throws(Problem) -> NATSMessage
    {
        var headers = NATSHeaders()
        headers.append(requestID, for: HandlerContext.requestIDHeader)
        if let idempotencyKey { headers.append(idempotencyKey, for: IdempotencyRule.header) }
        let timeout = timeout ?? settings.requestTimeout
        do {
            guard ProcessTracing.isEnabled else {
                return try await nats.request(payload, to: subject, headers: headers, timeout: timeout)
            }
            // The span's `traceparent` goes into the request's headers here (the client's
            // injector leaves a message that names its trace as it is).
            return try await ProcessTracing.withLeafSpan(
                "send \(subject)", ofKind: .client,
                attributes: [
                    ("messaging.system", "nats"), ("messaging.destination.name", subject),
                    ("messaging.operation.type", "send"), ("natswire.request_id", requestID),
                ]
            ) { trace in
                var headers = headers
                trace?.write(into: &headers)
                return try await nats.request(payload, to: subject, headers: headers, timeout: timeout)
            }
        } catch let error as NATSError {
            metrics.recordNATSError(error.kind.rawValue)
            switch error.kind {
            case .noResponders:
                throw Problem(status: .serviceUnavailable, detail: "the service is not available")
            case .timeout:
                throw Problem(status: .gatewayTimeout, detail: "the service did not answer in time")
            default:
                logger.error("NATS request failed: \(error)", metadata: ["request_id": "\(requestID)"])
                throw Problem(status: .badGateway, detail: "the message bus is not available")
            }
        } catch {
            throw Problem(status: .gatewayTimeout, detail: "the request was cancelled")
        }
    }

    /// The HTTP status of a service error code (they are HTTP-like by design).
    static func status(for code: Int) -> HTTPResponse.Status {
        switch code {
        case 400: return .badRequest
        case 401: return .unauthorized
        case 403: return .forbidden
        case 404: return .notFound
        case 409: return .conflict
        case 413: return .contentTooLarge
        case 422: return .unprocessableContent
        case 429: return .tooManyRequests
        case 503: return .serviceUnavailable
        case 504: return .gatewayTimeout
        case 400...499: return HTTPResponse.Status(code: code, reasonPhrase: "Client Error")
        default: return .internalServerError
        }
    }

    // MARK: - Request pieces

    func jsonBody(_ request: Request, schema: BodySchema) async throws(Problem) -> ValidatedBody {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: settings.maxBodyBytes)
        } catch {
            throw Problem(
                status: .contentTooLarge, detail: "the body is larger than \(settings.maxBodyBytes) bytes")
        }
        let bytes = Array(buffer: buffer)
        guard case .object(let members)? = try? JSONValue.parse(bytes) else {
            throw Problem(
                status: .badRequest, detail: "the body must be a JSON object",
                errors: ["body": "is not a JSON object"])
        }
        try schema.validate(members)
        return ValidatedBody(bytes: bytes, members: members)
    }

    static func query(_ request: Request, _ schema: QuerySchema) throws(Problem) -> JSONValue {
        try schema.parse(request.uri.queryParameters.map { (String($0.key), String($0.value)) })
    }

    /// The path's `{id}` as the key's JSON value.
    static func key(_ key: Operation.Key, _ context: GatewayContext) throws(Problem) -> JSONValue {
        switch key {
        case .customer:
            guard let id = context.parameters.get("id"), FieldRule.isCustomerID(id) else {
                throw Problem.badRequest(["id": "must be 5 letters or digits"])
            }
            return .string(id)
        case .numeric:
            // `1.0` is the integer 1 too (JSON Schema says so; clients that copy an id from a
            // JSON number may write it that way).
            guard let text = context.parameters.get("id"), let id = Self.integer(text),
                (1...32767).contains(id)
            else {
                throw Problem.badRequest(["id": "must be an integer from 1 to 32767"])
            }
            return .number(String(id))
        }
    }

    /// Decimal digits, optionally followed by `.0…`.
    static func integer(_ text: String) -> Int? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return nil
        }
        if parts.count == 2 && (parts[1].isEmpty || !parts[1].allSatisfy { $0 == "0" }) { return nil }
        return Int(whole)
    }
}

extension Error {
    func response(requestID: String) -> Response {
        (self as? Problem ?? Problem(status: .internalServerError, detail: "internal error")).response(
            requestID: requestID)
    }
}
