/// The base-36 token that ends a reply subject under a multiplexed inbox
/// (`<prefix><token>`): how the request multiplexer and the JetStream publisher route a reply
/// back to whoever waits for it.
enum InboxToken {
    /// The reply subject of `token` under `prefix`.
    static func subject(_ prefix: String, _ token: UInt64) -> String { prefix + String(token, radix: 36) }

    /// The token after the first `prefixLength` bytes of `subject`; `nil` if they are not
    /// followed by lower-case base-36 digits of a 64-bit number. Read as bytes: this runs for
    /// every reply (`String.dropFirst` walked characters, 1.5 % of a relay's CPU).
    static func parse(_ subject: String, after prefixLength: Int) -> UInt64? {
        var subject = subject
        return subject.withUTF8 { bytes -> UInt64? in
            guard bytes.count > prefixLength, bytes.count - prefixLength <= 13 else { return nil }
            var value: UInt64 = 0
            for byte in bytes[prefixLength...] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "z"): digit = byte - UInt8(ascii: "a") + 10
                default: return nil
                }
                let (shifted, overflow) = value.multipliedReportingOverflow(by: 36)
                guard !overflow else { return nil }
                let (sum, carry) = shifted.addingReportingOverflow(UInt64(digit))
                guard !carry else { return nil }
                value = sum
            }
            return value
        }
    }
}
