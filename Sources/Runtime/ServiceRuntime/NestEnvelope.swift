import Contracts

/// The NestJS NATS transport's message format, so the original NestJS gateway can call
/// these services during a migration.
///
/// A request `{"pattern": P, "data": D, "id": ID}` (P equal to the subject) carries D;
/// its reply is `{"response": R, "isDisposed": true, "id": ID}` or, on error,
/// `{"err": {"status": "error", "message": M}, "isDisposed": true, "id": ID}`. The same
/// object without `id` is an event: handled, never answered. Any other payload is a native
/// request.
///
/// The envelope costs one scan: its members are located without decoding `data`, whose
/// bytes go to the handler as they came, and the reply is the handler's bytes spliced into
/// the reply object.
public struct NestEnvelope: Sendable, Equatable {
    /// The request id; `nil` for an event.
    public let id: String?
    /// The JSON of `data`, exactly as it was sent.
    public let data: [UInt8]

    public var isEvent: Bool { id == nil }

    /// Recognizes an envelope addressed to `subject`; `nil` for a native request.
    public static func detect(_ payload: [UInt8], subject: String) -> NestEnvelope? {
        // Cheap pre-checks so native payloads are not scanned: an envelope is an object that
        // mentions "pattern".
        guard
            payload.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 })
                == UInt8(ascii: "{"),
            contains(payload, patternKey),
            let members = try? JSONObjectScanner.members(payload),
            let pattern = members.first(where: { $0.key == "pattern" }),
            (try? JSONValue.parse(payload[pattern.value]))?.string == subject
        else { return nil }
        var id: String?
        if let range = members.first(where: { $0.key == "id" })?.value {
            switch try? JSONValue.parse(payload[range]) {
            case .string(let text)?: id = text
            case .number(let text)?: id = text
            default: id = nil
            }
        }
        let data = members.first(where: { $0.key == "data" }).map { Array(payload[$0.value]) }
        return NestEnvelope(id: id, data: data ?? JSONOutput.null)
    }

    private static let patternKey = Array("\"pattern\"".utf8)

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return true
            }
            index += 1
        }
        return false
    }

    /// The reply for a successful request; `response` is the handler's JSON (none is `null`).
    public func reply(response: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(response.count + 64)
        writeID(into: &out)
        out.append(contentsOf: Self.responseKey)
        out.append(contentsOf: response.isEmpty ? JSONOutput.null : response)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The reply for a failed request.
    public func errorReply(message: String) -> [UInt8] {
        var out = Array(#"{"err":{"message":"#.utf8)
        JSONOutput.string(message, into: &out)
        out.append(contentsOf: #","status":"error"},"#.utf8)
        writeID(into: &out, opening: false)
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static let responseKey = Array(#","isDisposed":true,"response":"#.utf8)

    /// `{"id":ID` (keys in sorted order, as the replies always had them).
    private func writeID(into out: inout [UInt8], opening: Bool = true) {
        out.append(contentsOf: opening ? Array(#"{"id":"#.utf8) : Array(#""id":"#.utf8))
        JSONOutput.string(id ?? "", into: &out)
        if !opening { out.append(contentsOf: #","isDisposed":true"#.utf8) }
    }
}

/// The calling side of the NestJS NATS transport: what a NestJS client sends and how its
/// answer reads. The gateway uses it to call the original system's services.
public enum NestCall {
    /// `{"pattern": P, "data": D, "id": ID}` with `data` as JSON text.
    public static func request(pattern: String, data: [UInt8], id: String) -> [UInt8] {
        var out = Array(#"{"pattern":"#.utf8)
        out.reserveCapacity(data.count + pattern.utf8.count + id.utf8.count + 40)
        JSONOutput.string(pattern, into: &out)
        out.append(contentsOf: #","data":"#.utf8)
        out.append(contentsOf: data.isEmpty ? JSONOutput.null : data)
        out.append(contentsOf: #","id":"#.utf8)
        JSONOutput.string(id, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A NestJS reply: `response` as the JSON bytes that came (so a record or a page is passed
    /// on without being decoded), or `err` when the handler failed.
    public enum Answer: Sendable, Equatable {
        case response([UInt8])
        case failure(JSONValue)

        /// Reads a reply; `nil` when it is not a NestJS reply object.
        public init?(_ payload: [UInt8]) {
            guard let members = try? JSONObjectScanner.members(payload) else { return nil }
            if let err = members.first(where: { $0.key == "err" }),
                let value = try? JSONValue.parse(payload[err.value]), !value.isNull
            {
                self = .failure(value)
            } else if let response = members.first(where: { $0.key == "response" }) {
                self = .response(Array(payload[response.value]))
            } else if members.contains(where: { $0.key == "isDisposed" || $0.key == "id" }) {
                // A reply with neither (`response: undefined` is left out by JSON.stringify).
                self = .response(JSONOutput.null)
            } else {
                return nil
            }
        }
    }

    /// The words of an `err`: its `message` when it has one, else its text.
    public static func message(of err: JSONValue) -> String {
        if let message = err["message"]?.string { return message }
        if let text = err.string { return text }
        return String(decoding: err.json, as: UTF8.self)
    }
}
