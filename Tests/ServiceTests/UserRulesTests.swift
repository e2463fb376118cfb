import Contracts
import Foundation
import Testing

/// The account rules the auth service enforces and the OpenAPI document states say the same.
@Suite(.timeLimit(.minutes(5))) struct UserRulesTests {
    /// As JSON Schema (ECMA-262) reads the pattern: `$` is the end of the input, where ICU's
    /// also matches before a final newline, so the match must cover all of it.
    private func matchesDocumentedPattern(_ username: String) throws -> Bool {
        let pattern = try NSRegularExpression(pattern: UserRules.usernamePattern)
        let whole = NSRange(username.startIndex..., in: username)
        return pattern.firstMatch(in: username, range: whole)?.range == whole
    }

    @Test(arguments: ["ann", "Ann Lee", "a.b-c_d", "x12", String(repeating: "z", count: 32)])
    func usernamesTaken(_ username: String) throws {
        #expect(UserRules.usernameProblems(username).isEmpty)
        #expect(try matchesDocumentedPattern(username))
    }

    @Test(arguments: [" ann", "ann ", "ann!", "änn", "a\u{0}b", "ann\n"])
    func usernamesRefusedByTheirCharacters(_ username: String) throws {
        #expect(!UserRules.usernameProblems(username).isEmpty)
        #expect(try !matchesDocumentedPattern(username))
    }

    @Test func lengthsCountCodePoints() {
        #expect(UserRules.usernameProblems("ab") == ["must be 3 to 32 characters"])
        #expect(!UserRules.usernameProblems(String(repeating: "z", count: 33)).isEmpty)
        #expect(UserRules.passwordProblem("1234567") == "must be at least 8 characters")
        #expect(UserRules.passwordProblem(String(repeating: "ü", count: 72)) == nil)
        #expect(
            UserRules.passwordProblem(String(repeating: "ü", count: 73)) == "must be at most 72 characters")
    }
}
