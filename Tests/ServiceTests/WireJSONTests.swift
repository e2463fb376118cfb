import Contracts
import Foundation
import ServiceRuntime
import Testing

/// The byte-level JSON reader and writer the request path uses instead of Foundation.
@Suite(.timeLimit(.minutes(5))) struct WireJSONTests {
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

    @Test func nestCallRequestAndAnswers() throws {
        let request = NestCall.request(
            pattern: "customers.findCustomer", data: Array(#""ALFKI""#.utf8), id: "r\"1")
        #expect(
            String(decoding: request, as: UTF8.self)
                == #"{"pattern":"customers.findCustomer","data":"ALFKI","id":"r\"1"}"#)
        #expect(
            String(decoding: NestCall.request(pattern: "p", data: [], id: "1"), as: UTF8.self).contains(
                #""data":null"#))
        // A Go service's reply (`err: null`), a NestJS one, a failure, and what is no reply.
        #expect(
            NestCall.Answer(Array(#"{"id":"1","response":{"a":1},"err":null,"isDisposed":true}"#.utf8))
                == .response(Array(#"{"a":1}"#.utf8)))
        #expect(
            NestCall.Answer(Array(#"{"id":"1","response":null,"isDisposed":true}"#.utf8))
                == .response(JSONOutput.null))
        #expect(NestCall.Answer(Array(#"{"id":"1","isDisposed":true}"#.utf8)) == .response(JSONOutput.null))
        let failed = try #require(
            NestCall.Answer(Array(#"{"id":"1","err":"no handler","isDisposed":true}"#.utf8)))
        guard case .failure(let err) = failed else {
            Issue.record("an err reply read as a response")
            return
        }
        #expect(NestCall.message(of: err) == "no handler")
        #expect(
            NestCall.message(of: .object([("message", .string("boom")), ("status", .string("error"))]))
                == "boom")
        #expect(NestCall.Answer(Array(#"{"customer_id":"ALFKI"}"#.utf8)) == nil)
        #expect(NestCall.Answer(Array("[1]".utf8)) == nil)
    }

    @Test func objectsOfAnArrayAreFoundWithoutDecoding() throws {
        let list = Array(#" [ {"a": "x", "b": [1, {"c": "]"}]}, {} ,{"a":null} ] "#.utf8)
        let objects = try JSONObjectScanner.objects(inArray: list)
        #expect(objects.count == 3)
        #expect(
            String(decoding: list[objects[0].range], as: UTF8.self) == #"{"a": "x", "b": [1, {"c": "]"}]}"#)
        #expect(objects[0].members.map(\.key) == ["a", "b"])
        #expect(String(decoding: list[objects[0].members[1].value], as: UTF8.self) == #"[1, {"c": "]"}]"#)
        #expect(objects[1].members.isEmpty && String(decoding: list[objects[1].range], as: UTF8.self) == "{}")
        #expect(try JSONObjectScanner.objects(inArray: Array("[]".utf8)).isEmpty)
        for broken in [#"[{"a":1},]"#, #"[1]"#, #"{"a":1}"#, #"[{"a":1}"#, #"[{"a":1}] x"#] {
            #expect(throws: JSONParseError.self) {
                try JSONObjectScanner.objects(inArray: Array(broken.utf8))
            }
        }
    }

    @Test func originalPayloadsBothWays() throws {
        let update = OriginalPayloads.CustomerUpdate(
            id: "ALFKI", customer: .object([("city", .string("Oslo"))]))
        #expect(OriginalPayloads.CustomerUpdate(try JSONValue.parse(update.json)) == update)
        #expect(OriginalPayloads.CustomerUpdate(.object([("id", .string("ALFKI"))])) == nil)
        let product = OriginalPayloads.ProductUpdate(
            id: 7, changes: .object([("unit_price", .number("2.5"))]))
        #expect(
            String(decoding: product.json, as: UTF8.self)
                == #"{"id":7,"updateProductDto":{"unit_price":2.5}}"#)
        #expect(
            OriginalPayloads.ProductUpdate(
                try JSONValue.parse(Array(#"{"id":"7","updateProductDto":{"unit_price":2.5}}"#.utf8)))
                == product)
        #expect(OriginalPayloads.ProductUpdate(.object([("id", .number("7"))])) == nil)
        let result = OriginalPayloads.UpdateResult(affected: 0)
        #expect(OriginalPayloads.UpdateResult(try JSONValue.parse(result.json)) == result)
        let answer = OriginalPayloads.AuthAnswer(message: "a \"token\"", context: true)
        #expect(OriginalPayloads.AuthAnswer(try JSONValue.parse(answer.json)) == answer)
        #expect(OriginalPayloads.AuthAnswer(.object([("message", .string("x"))])) == nil)
        #expect(
            OriginalPayloads.errorMessage(OriginalPayloads.errorAnswer("gone")) == "gone"
        )
        // A record that has an `error` field among others is a record.
        #expect(
            OriginalPayloads.errorMessage(Array(#"{"error":"x","id":1}"#.utf8)) == nil)
        #expect(OriginalPayloads.key(.string("ALFKI")) == "ALFKI")
        #expect(OriginalPayloads.key(.number("12")) == "12" && OriginalPayloads.key(.number("1.5")) == nil)
        #expect(OriginalPayloads.key(.string("")) == nil && OriginalPayloads.key(.null) == nil)
    }

    @Test func numbersAreWrittenAsJSON() {
        #expect(JSONOutput.number(18) == "18")
        #expect(JSONOutput.number(-0.5) == "-0.5")
        #expect(JSONOutput.number(3.4e38) == "3.4e+38")
    }

    @Test func canonicalFormIgnoresMemberOrder() throws {
        let one = try JSONValue.parse(Array(#"{"b":1,"a":{"d":[{"y":1,"x":2}],"c":3}}"#.utf8))
        let two = try JSONValue.parse(Array(#"{"a":{"c":3,"d":[{"x":2,"y":1}]},"b":1}"#.utf8))
        #expect(one != two)
        #expect(one.canonical == two.canonical)
        #expect(
            String(decoding: one.canonical.json, as: UTF8.self) == #"{"a":{"c":3,"d":[{"x":2,"y":1}]},"b":1}"#
        )
        let array = try JSONValue.parse(Array("[2,1]".utf8))
        #expect(array.canonical == array, "arrays keep their order")
    }
}
