import Contracts

/// An event's JSON document (`Schemas/events/event.schema.json`), written from the parts the
/// outbox keeps: the relay writes it, so the write path's statement does not build JSON in
/// the database.
struct EventDocument {
    var eventID: String
    var type: String
    /// As PostgreSQL prints a UTC timestamp (`2026-12-02 00:25:56.154766`).
    var occurredAt: String
    var aggregateID: String
    /// Digits, as PostgreSQL prints a bigint.
    var version: String
    var requestID: String
    /// The row as JSON (`row_to_json`), copied as it is.
    var data: [UInt8]

    var json: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 256)
        func member(_ key: String, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            JSONOutput.string(key, into: &out)
            out.append(UInt8(ascii: ":"))
        }
        out.append(UInt8(ascii: "{"))
        member("event_id", first: true)
        JSONOutput.string(eventID, into: &out)
        member("type")
        JSONOutput.string(type, into: &out)
        member("occurred_at")
        JSONOutput.string(Self.rfc3339(occurredAt), into: &out)
        member("aggregate_id")
        JSONOutput.string(aggregateID, into: &out)
        member("version")
        let digits = version.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && !version.isEmpty
        out.append(contentsOf: digits ? Array(version.utf8) : Array("1".utf8))
        member("request_id")
        JSONOutput.string(requestID, into: &out)
        member("data")
        out.append(contentsOf: data)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// `2026-12-02 00:25:56.154766` (UTC) as RFC 3339: `2026-12-02T00:25:56.154766Z`.
    static func rfc3339(_ timestamp: String) -> String {
        var text = Array(timestamp.utf8)
        if text.count > 10, text[10] == UInt8(ascii: " ") { text[10] = UInt8(ascii: "T") }
        return String(decoding: text, as: UTF8.self) + "Z"
    }
}
