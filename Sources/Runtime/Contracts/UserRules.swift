/// The rules of a new user account, shared by the auth service (which enforces them), the
/// gateway and its OpenAPI document (which states them). Lengths count code points, as JSON
/// Schema's `minLength` and `maxLength` do; values are taken as sent, never trimmed.
public enum UserRules {
    public static let usernameLength = 3...32
    public static let passwordLength = 8...72
    /// ASCII letters, digits, spaces and `_ - .`, not starting or ending with a space.
    public static let usernamePattern = "^[A-Za-z0-9_.-]([A-Za-z0-9_. -]*[A-Za-z0-9_.-])?$"

    /// What is wrong with a username; empty if nothing.
    public static func usernameProblems(_ username: String) -> [String] {
        var problems: [String] = []
        if !usernameLength.contains(username.unicodeScalars.count) {
            problems.append("must be \(usernameLength.lowerBound) to \(usernameLength.upperBound) characters")
        }
        if username.first == " " || username.last == " " {
            problems.append("must not start or end with a space")
        }
        let allowed = username.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", "_", "-", ".", " ": return true
            default: return false
            }
        }
        if !allowed { problems.append("may contain ASCII letters, digits, spaces and _ - . only") }
        return problems
    }

    /// What is wrong with a password; `nil` if nothing.
    public static func passwordProblem(_ password: String) -> String? {
        let count = password.unicodeScalars.count
        if count < passwordLength.lowerBound {
            return "must be at least \(passwordLength.lowerBound) characters"
        }
        if count > passwordLength.upperBound {
            return "must be at most \(passwordLength.upperBound) characters"
        }
        return nil
    }
}
