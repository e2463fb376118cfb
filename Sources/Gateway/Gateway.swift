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

    /// What a route sends: a subject and the JSON payload's bytes.
    struct Call {
        var subject: String
        var payload: [UInt8]
        var successStatus: HTTPResponse.Status = .ok

        init(subject: String, payload: JSONValue, successStatus: HTTPResponse.Status = .ok) {
            self.subject = subject
            self.payload = payload.json
            self.successStatus = successStatus
        }

        /// A body the gateway validated and forwards as it came.
        init(subject: String, body: ValidatedBody, successStatus: HTTPResponse.Status = .ok) {
            self.subject = subject
            self.payload = body.bytes
            self.successStatus = successStatus
        }
    }

    /// Runs one route: request id, optional authentication, building the call, forwarding.
    func handle(
        _ request: Request, _ context: BasicRequestContext, authenticated: Bool,
        _ build: (Request, BasicRequestContext, Identity?) async throws(Problem) -> Call
    ) async -> Response {
        let requestID = Self.requestID(request)
        do {
            var identity: Identity?
            if authenticated { identity = try await authenticate(request) }
            let call = try await build(request, context, identity)
            return try await forward(call, requestID: requestID)
        } catch {
            return error.response(requestID: requestID)
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

    private func authenticate(_ request: Request) async throws(Problem) -> Identity {
        guard let header = request.headers[.authorization], let token = Self.bearerToken(header) else {
            throw Problem.unauthorized("a Bearer token is required")
        }
        do {
            return try await verifier.verify(token)
        } catch {
            switch error {
            case .missing: throw Problem.unauthorized("a Bearer token is required")
            case .invalid(let reason): throw Problem.unauthorized(reason)
            }
        }
    }

    /// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive, spaces
    /// and tabs around the token ignored); `nil` for any other value. Bytes only: this runs on
    /// every request.
    static func bearerToken(_ header: String) -> String? {
        let bytes = header.utf8
        guard bytes.count > 7 else { return nil }
        let scheme = Array("bearer ".utf8)
        var index = bytes.startIndex
        for expected in scheme {
            let byte = bytes[index]
            // ASCII letters compare case-insensitively (bit 0x20); the space must be a space.
            guard byte == expected || (expected != 0x20 && byte | 0x20 == expected) else { return nil }
            index = bytes.index(after: index)
        }
        var end = bytes.endIndex
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        while index < end, isBlank(bytes[index]) { index = bytes.index(after: index) }
        while end > index, isBlank(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        guard index < end else { return nil }
        return String(header[index..<end])
    }

    private func forward(_ call: Call, requestID: String) async throws(Problem) -> Response {
        var headers = NATSHeaders()
        headers.append(requestID, for: RequestContext.requestIDHeader)
        let reply: NATSMessage
        do {
            reply = try await nats.request(
                call.payload, to: call.subject, headers: headers, timeout: settings.requestTimeout)
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
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[Self.requestIDHeader] = requestID
        return Response(
            status: call.successStatus, headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.payload)))
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

    static func customerID(_ context: BasicRequestContext) throws(Problem) -> String {
        guard let id = context.parameters.get("id"), id.count == 5,
            id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { throw Problem.badRequest(["id": "must be 5 letters or digits"]) }
        return id
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

    static func numericID(_ context: BasicRequestContext) throws(Problem) -> Int {
        // `1.0` is the integer 1 too (JSON Schema says so; clients that copy an id from a
        // JSON number may write it that way).
        guard let text = context.parameters.get("id"), let id = Self.integer(text), (1...32767).contains(id)
        else {
            throw Problem.badRequest(["id": "must be an integer from 1 to 32767"])
        }
        return id
    }
}

extension Error {
    func response(requestID: String) -> Response {
        (self as? Problem ?? Problem(status: .internalServerError, detail: "internal error")).response(
            requestID: requestID)
    }
}
