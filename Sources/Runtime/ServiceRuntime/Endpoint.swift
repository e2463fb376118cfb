import Contracts
import Logging
import NATSWire

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What a handler knows about the request besides its input.
public struct HandlerContext: Sendable {
    /// Taken from the `X-Request-Id` header, or made up when the caller sent none.
    public let requestID: String
    public let headers: NATSHeaders?
    let endpoint: String
    let baseLogger: Logger

    init(requestID: String, endpoint: String, logger: Logger, headers: NATSHeaders?) {
        self.requestID = requestID
        self.endpoint = endpoint
        self.baseLogger = logger
        self.headers = headers
    }

    /// A logger that carries the request id and the endpoint. Made when asked for: setting
    /// metadata on a logger formats all of it again, which cost 3 % of a service's CPU when
    /// it was done for every request.
    public var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "request_id"] = "\(requestID)"
        logger[metadataKey: "endpoint"] = "\(endpoint)"
        return logger
    }

    /// The header that carries the request id. A reply carries it only when the service made
    /// the id up (the caller sent none).
    public static let requestIDHeader = "X-Request-Id"

    /// The endpoint's name (`createCustomer`).
    public var endpointName: String { endpoint }

    /// The request's `Idempotency-Key`, if it carries a valid one (``IdempotencyRule``; the
    /// gateway refuses any other with a 400).
    public var idempotencyKey: String? {
        guard let key = headers?[IdempotencyRule.header], IdempotencyRule.isValid(key) else { return nil }
        return key
    }
}

/// An error of a store or library that knows which service error it is (a database that is
/// down is a 503 the caller may retry, not a 500).
public protocol ServiceErrorConvertible: Error {
    var serviceError: ServiceError { get }
}

/// One endpoint: a name, a subject and a JSON handler.
public struct EndpointDefinition: Sendable {
    public let name: String
    public let subject: String
    let handle: @Sendable (HandlerContext, [UInt8]) async throws -> [UInt8]
    /// How a NestJS envelope from the original gateway is answered, where the original's
    /// payloads differ from ours (``OriginalPayloads``); `nil`: `data` goes to ``handle``.
    private(set) var original: (@Sendable (HandlerContext, JSONValue) async throws -> [UInt8])?

    init(
        name: String, subject: String,
        handle: @escaping @Sendable (HandlerContext, [UInt8]) async throws -> [UInt8]
    ) {
        self.name = name
        self.subject = subject
        self.handle = handle
    }

    /// The endpoint, answering the original NestJS gateway with `body`: it gets the
    /// envelope's `data` and returns the `response` the original gateway reads. What it
    /// throws becomes the envelope's `err`.
    public func answeringOriginal(
        _ body: @escaping @Sendable (HandlerContext, JSONValue) async throws -> [UInt8]
    ) -> EndpointDefinition {
        var endpoint = self
        endpoint.original = body
        return endpoint
    }

    /// Serves the `data` of an envelope: the original's form where the endpoint has one.
    func handleEnvelope(_ context: HandlerContext, _ data: [UInt8]) async throws -> [UInt8] {
        guard let original else { return try await handle(context, data) }
        guard let value = try? JSONValue.parse(data) else {
            throw ServiceError(code: 400, message: "data: is not valid JSON")
        }
        return try await original(context, value)
    }

    /// An endpoint that takes and returns raw bytes.
    public static func raw(
        _ name: String, subject: String,
        _ body: @escaping @Sendable (HandlerContext, [UInt8]) async throws -> [UInt8]
    ) -> EndpointDefinition {
        EndpointDefinition(name: name, subject: subject, handle: body)
    }

    /// An endpoint whose input and output are JSON: a body that does not decode as `Input`
    /// is a 400 that names the field.
    public static func json<Input: Decodable & Sendable, Output: Encodable & Sendable>(
        _ name: String, subject: String, input: Input.Type = Input.self,
        _ body: @escaping @Sendable (HandlerContext, Input) async throws -> Output
    ) -> EndpointDefinition {
        EndpointDefinition(name: name, subject: subject) { context, payload in
            let input: Input
            do {
                input = try WireJSON.decoder().decode(Input.self, from: Data(payload))
            } catch let error as DecodingError {
                throw ServiceError(code: 400, message: describe(error))
            }
            let output = try await body(context, input)
            do {
                return Array(try WireJSON.encoder().encode(output))
            } catch {
                throw ServiceError(code: 500, message: "cannot encode the reply")
            }
        }
    }
}

/// A decoding error in words a client can act on.
func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let names = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        return names.isEmpty ? "body" : names.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context):
        let parent = path(context)
        return "\(parent == "body" ? key.stringValue : parent + "." + key.stringValue): is required"
    case .typeMismatch(let type, let context): return "\(path(context)): must be \(typeName(type))"
    case .valueNotFound(let type, let context): return "\(path(context)): must be \(typeName(type)), not null"
    case .dataCorrupted(let context):
        return context.codingPath.isEmpty
            ? "body: is not valid JSON" : "\(path(context)): \(context.debugDescription)"
    @unknown default: return "body: cannot be decoded"
    }
}

private func typeName(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: return "a string"
    case is Int.Type, is Int64.Type, is Int32.Type, is Int16.Type: return "an integer"
    case is Double.Type, is Float.Type: return "a number"
    case is Bool.Type: return "true or false"
    default: return "of the right type"
    }
}

/// Collects field problems and throws one 400 that names every bad field.
public struct FieldErrors {
    public private(set) var errors: [(field: String, message: String)] = []

    public init() {}

    public mutating func check(_ condition: Bool, _ field: String, _ message: String) {
        if !condition { errors.append((field, message)) }
    }

    public mutating func add(_ field: String, _ message: String) { errors.append((field, message)) }

    public func throwIfAny() throws {
        guard !errors.isEmpty else { return }
        let message = errors.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        var fields: [(key: String, value: JSONValue)] = []
        for error in errors where !fields.contains(where: { $0.key == error.field }) {
            fields.append((error.field, .string(error.message)))
        }
        fields.sort { $0.key < $1.key }
        let body = JSONValue.object([
            ("code", .number("400")), ("errors", .object(fields)), ("message", .string(message)),
        ]).json
        throw ServiceError(code: 400, message: message, replyBody: body)
    }
}
