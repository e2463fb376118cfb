import Contracts
import NATSWire

/// How the original system's services answered failures, for handlers that answer the
/// original gateway (``EndpointDefinition/answeringOriginal(_:)``): not with an error but
/// with a value its gateway passes on.
public enum OriginalAnswer {
    /// `null` where the native handler finds nothing (404) or cannot read the key (400), as
    /// the original answered a lookup; an outage stays an error.
    public static func nullWhenNotFound(_ body: () async throws -> [UInt8]) async throws -> [UInt8] {
        do {
            return try await body()
        } catch {
            guard let mapped = ServiceApp.serviceError(for: error), mapped.code == 404 || mapped.code == 400
            else { throw error }
            return JSONOutput.null
        }
    }

    /// `{"error": text}` for what the caller got wrong (a 4xx of the native handler); an
    /// outage stays an error.
    public static func errorOnFailure(_ body: () async throws -> [UInt8]) async throws -> [UInt8] {
        do {
            return try await body()
        } catch {
            guard let mapped = ServiceApp.serviceError(for: error), mapped.code < 500 else { throw error }
            return OriginalPayloads.errorAnswer(mapped.message)
        }
    }
}
