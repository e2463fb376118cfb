/// Byte constants of the text protocol, so parsing code reads as protocol, not as numbers.
extension UInt8 {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let colon = UInt8(ascii: ":")
    static let dot = UInt8(ascii: ".")
    static let star = UInt8(ascii: "*")
    static let greaterThan = UInt8(ascii: ">")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
    static let singleQuote = UInt8(ascii: "'")

    /// ASCII lower-casing; other bytes unchanged.
    var asciiLowercased: UInt8 { (self >= 65 && self <= 90) ? self | 0x20 : self }
}

enum CRLF {
    static let bytes: [UInt8] = [.cr, .lf]
}
