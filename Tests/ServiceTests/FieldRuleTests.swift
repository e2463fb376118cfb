import Contracts
import Foundation
import Testing

/// The field rules the gateway, its OpenAPI document and the services share.
@Suite(.timeLimit(.minutes(5))) struct FieldRuleTests {
    @Test(arguments: [
        "ann@example.com", "a.b+c_d%e-f@sub.example.co", "x@a-b.example.org", "ann@example.xn--p1ai",
        "ANN@EXAMPLE.COM",
    ])
    func emailsTheAPITakes(_ email: String) throws {
        #expect(FieldRule.isEmail(email))
        // The document's pattern says the same.
        let pattern = try NSRegularExpression(pattern: FieldRule.emailPattern)
        #expect(pattern.firstMatch(in: email, range: NSRange(email.startIndex..., in: email)) != nil)
    }

    @Test(arguments: [
        "", "ann", "ann@", "@example.com", "ann@example", "ann@example.c", "ann@-x.com", "ann@x-.com",
        "ann@example..com", "an n@example.com", "ann@exämple.com", "ännchen@example.com", "ann@example.xn--",
        "ann@example.c0m", String(repeating: "a", count: 65) + "@example.com",
    ])
    func emailsTheAPIRefuses(_ email: String) throws {
        #expect(!FieldRule.isEmail(email))
        let pattern = try NSRegularExpression(pattern: FieldRule.emailPattern)
        #expect(pattern.firstMatch(in: email, range: NSRange(email.startIndex..., in: email)) == nil)
    }

    @Test func checksGiveParametersOrProblems() throws {
        let price = FieldRule("unit_price", .real(min: 0))
        #expect(try price.check(.number("18")).get() == "18.0")
        #expect(try price.check(.null).get() == nil)
        #expect(throws: FieldProblem.self) { try price.check(.number("-1")).get() }
        #expect(throws: FieldProblem.self) { try price.check(.number("3.5e38")).get() }
        let name = FieldRule("product_name", .text(maxLength: 3), nullable: false)
        #expect(try name.check(.string("äöü")).get() == "äöü")  // code points, not bytes
        #expect(throws: FieldProblem.self) { try name.check(.string("abcd")).get() }
        #expect(throws: FieldProblem.self) { try name.check(.null).get() }
        #expect(throws: FieldProblem.self) { try name.check(.string("a\u{0}")).get() }
        let flag = FieldRule("discontinued", .flag, nullable: false)
        #expect(try flag.check(.bool(true)).get() == "1")
        #expect(try flag.check(.number("0")).get() == "0")
        #expect(throws: FieldProblem.self) { try flag.check(.number("2")).get() }
        let id = FieldRule("supplier_id", .smallint(min: 0))
        #expect(try id.check(.number("1.0")).get() == "1")
        #expect(throws: FieldProblem.self) { try id.check(.number("32768")).get() }
        #expect(throws: FieldProblem.self) { try id.check(.string("1")).get() }
    }
}
