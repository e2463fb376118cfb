/// Writes client operations in wire form. Callers validate subjects first; these functions
/// only lay out bytes, so they are cheap enough for the publish path.
enum ClientOperation {
    static let ping: [UInt8] = Array("PING\r\n".utf8)
    static let pong: [UInt8] = Array("PONG\r\n".utf8)

    /// Lays out the control line of `PUB <subject> [reply] <size>` or, with `headerBytes`,
    /// `HPUB <subject> [reply] <header size> <total size>`, on the stack, and passes it to
    /// `body`. Formatting happens here, outside any lock; appending is then a few memcpys.
    static func withPublishLine<R>(
        subject: UnsafeRawBufferPointer, replyTo: UnsafeRawBufferPointer?, headerBytes: Int?, totalBytes: Int,
        _ body: (UnsafeRawBufferPointer) -> R
    ) -> R {
        let capacity = 5 + subject.count + 1 + (replyTo?.count ?? 0) + 1 + 20 + 1 + 20 + 2
        return withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 1) { line in
            guard let base = line.baseAddress else { return body(UnsafeRawBufferPointer(line)) }
            var at = 0
            func put(_ bytes: UnsafeRawBufferPointer) {
                if let source = bytes.baseAddress, bytes.count > 0 {
                    (base + at).copyMemory(from: source, byteCount: bytes.count)
                }
                at += bytes.count
            }
            if headerBytes != nil {
                put(UnsafeRawBufferPointer(start: hpubPrefix.utf8Start, count: 5))
            } else {
                put(UnsafeRawBufferPointer(start: pubPrefix.utf8Start, count: 4))
            }
            put(subject)
            base.storeBytes(of: UInt8.space, toByteOffset: at, as: UInt8.self)
            at += 1
            if let replyTo {
                put(replyTo)
                base.storeBytes(of: UInt8.space, toByteOffset: at, as: UInt8.self)
                at += 1
            }
            if let headerBytes {
                at += writeDecimal(headerBytes, to: base + at)
                base.storeBytes(of: UInt8.space, toByteOffset: at, as: UInt8.self)
                at += 1
            }
            at += writeDecimal(totalBytes, to: base + at)
            base.storeBytes(of: UInt8.cr, toByteOffset: at, as: UInt8.self)
            base.storeBytes(of: UInt8.lf, toByteOffset: at + 1, as: UInt8.self)
            at += 2
            return body(UnsafeRawBufferPointer(start: base, count: at))
        }
    }

    private static let pubPrefix: StaticString = "PUB "
    private static let hpubPrefix: StaticString = "HPUB "

    /// Appends a message: its control line, header block (if any), payload and CRLF.
    static func appendMessage(
        into out: inout [UInt8], line: UnsafeRawBufferPointer, headerBlock: UnsafeRawBufferPointer?,
        payload: UnsafeRawBufferPointer
    ) {
        out.append(contentsOf: line)
        if let headerBlock { out.append(contentsOf: headerBlock) }
        out.append(contentsOf: payload)
        out.append(.cr)
        out.append(.lf)
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
            destination.storeBytes(of: .zero &+ UInt8(truncatingIfNeeded: n % 10), toByteOffset: index, as: UInt8.self)
            n /= 10
        } while n > 0
        return digits
    }

    /// The whole of a PUB/HPUB, for tests and tools; the publish path uses the pieces.
    static func appendPublish(
        into out: inout [UInt8], subject: String, replyTo: String?, headerBlock: [UInt8]? = nil, payload: [UInt8]
    ) {
        withUTF8Bytes(of: subject) { subjectBytes in
            withOptionalUTF8Bytes(of: replyTo) { replyBytes in
                headerBlock.withOptionalBytes { headerBytes in
                    payload.withUnsafeBytes { payloadBytes in
                        withPublishLine(
                            subject: subjectBytes, replyTo: replyBytes, headerBytes: headerBytes?.count,
                            totalBytes: (headerBytes?.count ?? 0) + payloadBytes.count
                        ) { line in
                            appendMessage(into: &out, line: line, headerBlock: headerBytes, payload: payloadBytes)
                        }
                    }
                }
            }
        }
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
