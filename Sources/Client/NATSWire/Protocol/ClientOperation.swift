/// Writes client operations in wire form. Callers validate subjects first; these functions
/// only lay out bytes, so they are cheap enough for the publish path.
enum ClientOperation {
    static let ping: [UInt8] = Array("PING\r\n".utf8)
    static let pong: [UInt8] = Array("PONG\r\n".utf8)

    /// Appends a whole `PUB <subject> [reply] <size>` or, with a header block,
    /// `HPUB <subject> [reply] <header size> <total size>` with its payload and CRLF: one
    /// capacity check, then plain stores and copies.
    static func appendPublish(
        into out: ByteBuffer, subject: UnsafeRawBufferPointer, replyTo: UnsafeRawBufferPointer?,
        headerBlock: UnsafeRawBufferPointer?, payload: UnsafeRawBufferPointer
    ) {
        let headerCount = headerBlock?.count ?? 0
        let total = headerCount + payload.count
        out.reserve(5 + subject.count + 1 + (replyTo?.count ?? 0) + 1 + 20 + 1 + 20 + 2 + total + 2)
        out.writeUnchecked { base in
            var at = 0
            @inline(__always) func put(_ bytes: UnsafeRawBufferPointer) {
                if let source = bytes.baseAddress, bytes.count > 0 {
                    (base + at).copyMemory(from: source, byteCount: bytes.count)
                    at += bytes.count
                }
            }
            @inline(__always) func put(_ byte: UInt8) {
                base.storeBytes(of: byte, toByteOffset: at, as: UInt8.self)
                at += 1
            }
            if headerBlock != nil { put(UInt8(ascii: "H")) }
            put(UInt8(ascii: "P"))
            put(UInt8(ascii: "U"))
            put(UInt8(ascii: "B"))
            put(.space)
            put(subject)
            put(.space)
            if let replyTo {
                put(replyTo)
                put(.space)
            }
            if let headerBlock {
                at += writeDecimal(headerBlock.count, to: base + at)
                put(.space)
            }
            at += writeDecimal(total, to: base + at)
            put(.cr)
            put(.lf)
            if let headerBlock { put(headerBlock) }
            put(payload)
            put(.cr)
            put(.lf)
            return at
        }
    }

    /// Writes a non-negative integer in decimal at `destination` (room for 20 digits);
    /// returns the digit count.
    static func writeDecimal(_ value: Int, to destination: UnsafeMutableRawPointer) -> Int {
        var n = UInt(max(value, 0))
        var digits = 1
        var probe = n
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        var index = digits
        repeat {
            index -= 1
            destination.storeBytes(
                of: .zero &+ UInt8(truncatingIfNeeded: n % 10), toByteOffset: index, as: UInt8.self)
            n /= 10
        } while n > 0
        return digits
    }

    /// The whole of a PUB/HPUB from Swift values, for tests and tools.
    static func appendPublish(
        into out: ByteBuffer, subject: String, replyTo: String?, headerBlock: [UInt8]? = nil, payload: [UInt8]
    ) {
        withUTF8Bytes(of: subject) { subjectBytes in
            withOptionalUTF8Bytes(of: replyTo) { replyBytes in
                headerBlock.withOptionalBytes { headerBytes in
                    payload.withUnsafeBytes { payloadBytes in
                        appendPublish(
                            into: out, subject: subjectBytes, replyTo: replyBytes, headerBlock: headerBytes,
                            payload: payloadBytes)
                    }
                }
            }
        }
    }

    /// `SUB <subject> [queue] <sid>\r\n`
    static func appendSubscribe(into out: ByteBuffer, subject: String, queue: String?, sid: UInt64) {
        out.append(contentsOf: "SUB ".utf8)
        out.append(contentsOf: subject.utf8)
        out.append(.space)
        if let queue {
            out.append(contentsOf: queue.utf8)
            out.append(.space)
        }
        appendDecimal(Int(sid), into: out)
        out.append(.cr)
        out.append(.lf)
    }

    /// `UNSUB <sid> [max]\r\n`
    static func appendUnsubscribe(into out: ByteBuffer, sid: UInt64, max: Int?) {
        out.append(contentsOf: "UNSUB ".utf8)
        appendDecimal(Int(sid), into: out)
        if let max {
            out.append(.space)
            appendDecimal(max, into: out)
        }
        out.append(.cr)
        out.append(.lf)
    }

    /// `CONNECT {json}\r\n`
    static func appendConnect(into out: ByteBuffer, json: [UInt8]) {
        out.append(contentsOf: "CONNECT ".utf8)
        out.append(contentsOf: json)
        out.append(.cr)
        out.append(.lf)
    }

    /// Writes a non-negative integer in decimal without making a String.
    static func appendDecimal(_ value: Int, into out: ByteBuffer) {
        withUnsafeTemporaryAllocation(byteCount: 20, alignment: 1) { digits in
            guard let base = digits.baseAddress else { return }
            let count = writeDecimal(value, to: base)
            out.append(contentsOf: UnsafeRawBufferPointer(start: base, count: count))
        }
    }
}

/// Runs `body` on the UTF-8 bytes of `string`, or on `nil`.
@inline(__always)
func withOptionalUTF8Bytes<R>(of string: String?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let string else { return body(nil) }
    return withUTF8Bytes(of: string) { body($0) }
}

extension Optional where Wrapped == [UInt8] {
    @inline(__always)
    func withOptionalBytes<R>(_ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard let bytes = self else { return body(nil) }
        return bytes.withUnsafeBytes { body($0) }
    }
}
