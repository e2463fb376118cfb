import Contracts
import NATSWire
import ServiceRuntime

/// The answers the original NestJS gateway reads from the auth service: `{"message": M,
/// "context": C}` (``OriginalPayloads/AuthAnswer``). A refusal is `context: false` with the
/// reason, not an error; a login that works answers with the access token as the message,
/// its `sub` the email, as the original's tokens have it (HS256 with `SECRET_KEY` verifies in
/// the original gateway).
extension AuthDomain {
    func originalRegister(_ data: JSONValue, requestID: String) async throws -> [UInt8] {
        try await Self.answer {
            let request = RegisterUserRequest(
                username: try Self.text(data, "username"), email: try Self.text(data, "email"),
                password: try Self.text(data, "password"))
            _ = try await register(request, requestID: requestID)
            return "user registered"
        }
    }

    func originalLogin(_ data: JSONValue) async throws -> [UInt8] {
        try await Self.answer {
            let request = LoginRequest(
                email: try Self.text(data, "email"), password: try Self.text(data, "password"))
            return try await issuer.accessToken(for: try await authenticate(request), subject: .email)
        }
    }

    /// `context: true` with what `body` returns; `context: false` with the reason for what
    /// the caller got wrong. An outage or a shed burst (5xx) stays an error.
    private static func answer(_ body: () async throws -> String) async throws -> [UInt8] {
        do {
            return OriginalPayloads.AuthAnswer(message: try await body(), context: true).json
        } catch {
            guard let refusal = ServiceApp.serviceError(for: error), refusal.code < 500 else { throw error }
            return OriginalPayloads.AuthAnswer(message: refusal.message, context: false).json
        }
    }

    private static func text(_ data: JSONValue, _ field: String) throws -> String {
        guard let value = data[field]?.string else {
            throw ServiceError(code: 400, message: "\(field): is required and must be a string")
        }
        return value
    }
}
