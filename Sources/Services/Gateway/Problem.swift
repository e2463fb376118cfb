import Contracts
import HTTPTypes
import Hummingbird

/// An RFC 9457 problem: every error the gateway answers is one, as
/// `application/problem+json`.
struct Problem: Error {
    var status: HTTPResponse.Status
    var detail: String
    var errors: [String: String] = [:]
    var headers: HTTPFields = [:]

    func response(requestID: String) -> Response {
        // Keys in sorted order, as the problems always had them.
        var members: [(key: String, value: JSONValue)] = [("detail", .string(detail))]
        if !errors.isEmpty {
            members.append(
                ("errors", .object(errors.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        members += [
            ("request_id", .string(requestID)), ("status", .number(String(status.code))),
            ("title", .string(status.reasonPhrase)), ("type", .string("about:blank")),
        ]
        var fields = headers
        fields[.contentType] = "application/problem+json"
        fields[Gateway.requestIDHeader] = requestID
        return Response(
            status: status, headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONValue.object(members).json)))
    }

    static func badRequest(_ errors: [String: String]) -> Problem {
        let detail = errors.keys.sorted().map { "\($0): \(errors[$0] ?? "")" }.joined(separator: "; ")
        return Problem(status: .badRequest, detail: detail, errors: errors)
    }

    static func unauthorized(_ detail: String) -> Problem {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\", error_description=\"\(detail)\""
        return Problem(status: .unauthorized, detail: detail, headers: headers)
    }
}
