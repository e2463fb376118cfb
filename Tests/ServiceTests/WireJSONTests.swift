import Contracts
import Foundation
import ServiceRuntime
import Testing

/// The byte-level JSON reader and writer the request path uses instead of Foundation.
@Suite struct WireJSONTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONValue.parse(
            Array(#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "x\"y\\z\n\u00e9\ud83d\ude00"}} "#.utf8)
        )
        #expect(
            value
                == .object([
                    ("a", .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null])),
                    ("b", .object([("c", .string("x\"y\\z\né😀"))])),
                ]))
    }

    @Test func numbersStayExact() throws {
        // Foundation on Linux turns these into NSDecimalNumber and loses the last digits.
        let value = try JSONValue.parse(Array("[3.4e38, 12345678901234567, 1.0, 1e2, 1.5]".utf8))
        guard case .array(let items) = value else {
            Issue.record("not an array")
            return
        }
        #expect(items[0].double == 3.4e38)
        #expect(items[1].integer == 12_345_678_901_234_567)
        #expect(items[2].integer == 1)
        #expect(items[3].integer == 100)
        #expect(items[4].integer == nil)
        #expect(items[4].double == 1.5)
    }

    @Test(arguments: [
        "", "{", "{\"a\":}", "{\"a\" 1}", "[1,]", "01", "1.", "-", "\"\\x\"", "\"a\u{01}\"", "tru", "{} x",
        "{\"a\":1,\"a\":2}", "\"\\ud800\"", "[\"\\u12\"]", "\u{FF}",
    ])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func refusesInvalidUTF8AndDeepNesting() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) }
        let deep =
            Array(String(repeating: "[", count: 1000).utf8) + Array(String(repeating: "]", count: 1000).utf8)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
    }

    @Test func writesWhatItReads() throws {
        let text = #"{"k":"a\"b\\c\u0001\n","n":-1.25e-3,"l":[true,null,{}]}"#
        let value = try JSONValue.parse(Array(text.utf8))
        #expect(try JSONValue.parse(value.json) == value)
        #expect(String(decoding: value.json, as: UTF8.self).contains(#""a\"b\\c\u0001\n""#))
    }

    @Test func scannerFindsMembersWithoutDecodingThem() throws {
        let payload = Array(#"{"pattern":"p","data":{"x":[1,{"y":"}"}]},"id":"7"}"#.utf8)
        let members = try JSONObjectScanner.members(payload)
        #expect(members.map(\.key) == ["pattern", "data", "id"])
        #expect(String(decoding: payload[members[1].value], as: UTF8.self) == #"{"x":[1,{"y":"}"}]}"#)
        #expect(throws: JSONParseError.self) { try JSONObjectScanner.members(Array(#"{"a":[1,}"#.utf8)) }
    }

    @Test func nestEnvelopeHandsDataOnAsItCame() throws {
        let payload = Array(
            #"{"pattern":"customers.findCustomer","data":{"customer_id":"ALFKI"},"id":"42"}"#.utf8)
        let envelope = try #require(NestEnvelope.detect(payload, subject: "customers.findCustomer"))
        #expect(envelope.id == "42")
        #expect(String(decoding: envelope.data, as: UTF8.self) == #"{"customer_id":"ALFKI"}"#)
        #expect(
            String(decoding: envelope.reply(response: Array(#"{"a":1}"#.utf8)), as: UTF8.self)
                == #"{"id":"42","isDisposed":true,"response":{"a":1}}"#)
        let error = envelope.errorReply(message: "customer \"X\" not found")
        let parsed = try JSONValue.parse(error)
        #expect(parsed["err"]?["message"]?.string == "customer \"X\" not found")
        #expect(parsed["err"]?["status"]?.string == "error")
        #expect(parsed["id"]?.string == "42")
        #expect(parsed["isDisposed"]?.bool == true)
    }

    @Test func nestEnvelopeEventsAndNativeRequests() throws {
        let event = try #require(
            NestEnvelope.detect(Array(#"{"pattern":"s","data":[1]}"#.utf8), subject: "s"))
        #expect(event.isEvent)
        let numericID = try #require(
            NestEnvelope.detect(Array(#"{"pattern":"s","id":5}"#.utf8), subject: "s"))
        #expect(numericID.id == "5")
        #expect(numericID.data == Array("null".utf8))
        // Another subject's pattern, a native body, broken JSON: native requests.
        #expect(NestEnvelope.detect(Array(#"{"pattern":"other","id":"1"}"#.utf8), subject: "s") == nil)
        #expect(NestEnvelope.detect(Array(#"{"customer_id":"ALFKI"}"#.utf8), subject: "s") == nil)
        #expect(NestEnvelope.detect(Array(#"{"pattern":"s","id":"1""#.utf8), subject: "s") == nil)
    }

    @Test func numbersAreWrittenAsJSON() {
        #expect(JSONOutput.number(18) == "18")
        #expect(JSONOutput.number(-0.5) == "-0.5")
        #expect(JSONOutput.number(3.4e38) == "3.4e+38")
    }
}
