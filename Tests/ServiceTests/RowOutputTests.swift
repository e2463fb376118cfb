import Testing

@testable import PostgresTables

/// How PostgreSQL's text output of a column becomes JSON in a reply.
@Suite(.timeLimit(.minutes(5))) struct RowOutputTests {
    private func written(_ output: ValueOutput, _ text: String) -> String {
        var out: [UInt8] = []
        Array(text.utf8).withUnsafeBufferPointer { output.write($0, into: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    @Test(arguments: [
        ("18", "18"), ("-0.5", "-0.5"), ("263.5", "263.5"), ("0", "0"),
        // Exponents as a JavaScript client writes them.
        ("1e+10", "10000000000"), ("1.5e-07", "1.5e-07"), ("3.4028235e+38", "3.4028235e+38"),
        // No JSON form.
        ("NaN", "null"), ("Infinity", "null"), ("-Infinity", "null"),
    ])
    func realsAreJSONNumbers(_ text: String, _ json: String) {
        #expect(written(.real, text) == json)
    }

    @Test func plainDecimalsAreCopiedAndNothingElse() {
        func plain(_ text: String) -> Bool {
            Array(text.utf8).withUnsafeBufferPointer(ValueOutput.isPlainDecimal)
        }
        #expect(plain("18") && plain("-0.25") && plain("100.5"))
        #expect(!plain("") && !plain("-") && !plain(".5") && !plain("5.") && !plain("1.2.3") && !plain("1e5"))
        #expect(!plain("--1") && !plain("NaN"))
    }

    @Test func textIsEscapedAndFlagsAreBooleans() {
        #expect(written(.string, "a\"b\\c\n") == #""a\"b\\c\n""#)
        #expect(written(.integer, "-42") == "-42")
        #expect(written(.flag, "1") == "true")
        #expect(written(.flag, "0") == "false")
    }
}
