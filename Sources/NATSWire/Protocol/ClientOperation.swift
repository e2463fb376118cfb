/// Writes client operations in wire form. Callers validate subjects first; these functions
/// only lay out bytes, so they are cheap enough for the publish path.
enum ClientOperation {
    static let ping: [UInt8] = Array("PING\r\n".utf8)
    static let pong: [UInt8] = Array("PONG\r\n".utf8)

    /// `PUB <subject> [reply] <size>\r\n<payload>\r\n`
    static func appendPublish(
        into out: inout [UInt8], subject: String, replyTo: String?, payload: some Collection<UInt8>
    ) {
        out.append(contentsOf: "PUB ".utf8)
        out.append(contentsOf: subject.utf8)
        out.append(.space)
        if let replyTo {
            out.append(contentsOf: replyTo.utf8)
            out.append(.space)
        }
        appendDecimal(payload.count, into: &out)
        out.append(.cr)
        out.append(.lf)
        out.append(contentsOf: payload)
        out.append(.cr)
        out.append(.lf)
    }

    /// `HPUB <subject> [reply] <header size> <total size>\r\n<headers><payload>\r\n`, with the
    /// header block already encoded.
    static func appendHeaderPublish(
        into out: inout [UInt8], subject: String, replyTo: String?, headerBlock: [UInt8],
        payload: some Collection<UInt8>
    ) {
        out.append(contentsOf: "HPUB ".utf8)
        out.append(contentsOf: subject.utf8)
        out.append(.space)
        if let replyTo {
            out.append(contentsOf: replyTo.utf8)
            out.append(.space)
        }
        appendDecimal(headerBlock.count, into: &out)
        out.append(.space)
        appendDecimal(headerBlock.count + payload.count, into: &out)
        out.append(.cr)
        out.append(.lf)
        out.append(contentsOf: headerBlock)
        out.append(contentsOf: payload)
        out.append(.cr)
        out.append(.lf)
    }

    /// `SUB <subject> [queue] <sid>\r\n`
    static func appendSubscribe(into out: inout [UInt8], subject: String, queue: String?, sid: UInt64) {
        out.append(contentsOf: "SUB ".utf8)
        out.append(contentsOf: subject.utf8)
        out.append(.space)
        if let queue {
            out.append(contentsOf: queue.utf8)
            out.append(.space)
        }
        appendDecimal(Int(sid), into: &out)
        out.append(.cr)
        out.append(.lf)
    }

    /// `UNSUB <sid> [max]\r\n`
    static func appendUnsubscribe(into out: inout [UInt8], sid: UInt64, max: Int?) {
        out.append(contentsOf: "UNSUB ".utf8)
        appendDecimal(Int(sid), into: &out)
        if let max {
            out.append(.space)
            appendDecimal(max, into: &out)
        }
        out.append(.cr)
        out.append(.lf)
    }

    /// `CONNECT {json}\r\n`
    static func appendConnect(into out: inout [UInt8], json: [UInt8]) {
        out.append(contentsOf: "CONNECT ".utf8)
        out.append(contentsOf: json)
        out.append(.cr)
        out.append(.lf)
    }

    /// Writes a non-negative integer in decimal without making a String.
    static func appendDecimal(_ value: Int, into out: inout [UInt8]) {
        if value < 10 {
            out.append(.zero &+ UInt8(truncatingIfNeeded: max(value, 0)))
            return
        }
        var digits = InlineArray<20, UInt8>(repeating: 0)
        var n = value
        var count = 0
        while n > 0 {
            digits[count] = .zero &+ UInt8(truncatingIfNeeded: n % 10)
            n /= 10
            count += 1
        }
        while count > 0 {
            count -= 1
            out.append(digits[count])
        }
    }
}
