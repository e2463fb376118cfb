import Foundation
import HTTPTypes
import Hummingbird
import ServiceRuntime

/// An RFC 9457 problem: every error the gateway answers is one, as
/// `application/problem+json`.
struct Problem: Error {
    var status: HTTPResponse.Status
    var detail: String
    var errors: [String: String] = [:]
    var headers: HTTPFields = [:]

    func response(requestID: String) -> Response {
        var object: [String: Any] = [
            "type": "about:blank", "title": status.reasonPhrase, "status": status.code, "detail": detail,
            "request_id": requestID,
        ]
        if !errors.isEmpty { object["errors"] = errors }
        var fields = headers
        fields[.contentType] = "application/problem+json"
        fields[Gateway.requestIDHeader] = requestID
        let body = (try? JSONWriter.bytes(object)) ?? Array("{}".utf8)
        return Response(
            status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
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
