import Contracts
import Foundation
import Testing

@testable import MongoStore

/// What replaced Foundation-only calls in the gateway, the auth service and the Mongo store
/// (`String(format:)`, `ISO8601DateFormatter`) does what they did.
@Suite("Without the old Foundation")
struct FoundationFreeTests {
    @Test func hexOfBytes() {
        #expect(Hex.encode([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(Hex.encode([UInt8]()) == "")
        let bytes = (0...255).map(UInt8.init)
        #expect(Hex.encode(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
    }

    @Test func controlCharactersAreEscapedForLibbson() {
        var out = ""
        JSONText.writeString("a\u{01}b\u{1f}\"\\\n", into: &out)
        #expect(out == #""a\u0001b\u001f\"\\\n""#)
    }

    @Test func extendedJSONDatesWithAndWithoutFractions() {
        let withFraction = MongoValue(.object(["$date": .string("2026-12-02T03:41:30.125Z")]))
        let without = MongoValue(.object(["$date": .string("2026-12-02T03:41:30Z")]))
        let milliseconds = MongoValue(.object(["$date": .object(["$numberLong": .string("1796182890125")])]))
        #expect(withFraction.date?.timeIntervalSince1970 == 1_796_182_890.125)
        #expect(without.date?.timeIntervalSince1970 == 1_796_182_890)
        #expect(milliseconds.date == withFraction.date)
    }
}
