#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An incremental parser of the server-to-client protocol.
///
/// It owns one growable byte buffer: the transport reads straight into its free tail
/// (``withWritableTail(minimum:_:)``) and ``next()`` hands out one complete operation at a
/// time, working on bytes and making a `String` only for the fields a message carries.
/// The result does not depend on how the stream was split into reads: an operation is
/// returned only once all its bytes are there, and a message's control line is parsed once
/// even when its payload arrives in many pieces.
///
/// Used by one thread at a time (the handshake, then the I/O thread).
final class ProtocolParser {
    /// Longest control line accepted (the server's and reference clients' limit).
    static let defaultMaxControlLine = 4096
    /// `INFO` and `-ERR` lines may be longer (a large cluster's `connect_urls`).
    static let maxInfoLine = 1 << 20
    /// Sanity bound for an inbound payload; anything larger is a corrupt size field.
    static let defaultMaxInboundPayload = 64 << 20

    let maxControlLine: Int
    let maxInboundPayload: Int

    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    private var readIndex = 0
    private var writeIndex = 0
    /// A message whose control line is parsed and whose payload is still arriving.
    private var pendingMessage: MessageHeaderLine?

    init(
        initialCapacity: Int = 64 * 1024,
        maxControlLine: Int = defaultMaxControlLine,
        maxInboundPayload: Int = defaultMaxInboundPayload
    ) {
        capacity = max(initialCapacity, 256)
        base = .allocate(byteCount: capacity, alignment: 16)
        self.maxControlLine = maxControlLine
        self.maxInboundPayload = maxInboundPayload
    }

    deinit { base.deallocate() }

    /// Bytes received and not yet parsed.
    var bufferedByteCount: Int { writeIndex - readIndex }

    /// Lets `body` write up to the buffer's free tail (at least `minimum` bytes, more if the
    /// operation being assembled needs it) and records how many bytes it wrote.
    func withWritableTail<E: Error>(
        minimum: Int = 16 * 1024,
        _ body: (UnsafeMutableRawBufferPointer) throws(E) -> Int
    ) throws(E) -> Int {
        reserveTail(max(minimum, bytesStillNeeded))
        let tail = UnsafeMutableRawBufferPointer(start: base + writeIndex, count: capacity - writeIndex)
        let written = try body(tail)
        writeIndex += max(0, min(written, tail.count))
        return written
    }

    /// Appends received bytes (tests and the handshake path use this).
    func append(_ bytes: some Collection<UInt8>) {
        reserveTail(bytes.count)
        var at = writeIndex
        for byte in bytes {
            base.storeBytes(of: byte, toByteOffset: at, as: UInt8.self)
            at += 1
        }
        writeIndex = at
    }

    /// The next complete operation, `nil` when more bytes are needed.
    func next() throws(ProtocolViolation) -> ServerOperation? {
        if let header = pendingMessage {
            return try completeMessage(header)
        }
        guard let lineEnd = try findLineEnd() else { return nil }
        let lineStart = readIndex
        var contentEnd = lineEnd
        if contentEnd > lineStart && byte(at: contentEnd - 1) == .cr { contentEnd -= 1 }
        readIndex = lineEnd + 1
        let line = UnsafeRawBufferPointer(start: base + lineStart, count: contentEnd - lineStart)
        switch try Self.parseLine(line, maxPayload: maxInboundPayload) {
        case .operation(let operation):
            compactIfDrained()
            return operation
        case .messageHeader(let header):
            // A MSG/HMSG line: its payload follows.
            pendingMessage = header
            return try completeMessage(header)
        }
    }

    // MARK: - Buffer management

    @inline(__always)
    private func byte(at index: Int) -> UInt8 { base.load(fromByteOffset: index, as: UInt8.self) }

    /// How many more bytes the operation being assembled needs (0 if unknown).
    private var bytesStillNeeded: Int {
        guard let header = pendingMessage else { return 0 }
        return max(0, header.totalSize + 2 - bufferedByteCount)
    }

    private func compactIfDrained() {
        if readIndex == writeIndex {
            readIndex = 0
            writeIndex = 0
        }
    }

    private func reserveTail(_ count: Int) {
        if capacity - writeIndex >= count { return }
        // Move unread bytes to the front first; grow only if that is not enough.
        let unread = writeIndex - readIndex
        if readIndex > 0 {
            if unread > 0 { memmove(base, base + readIndex, unread) }
            readIndex = 0
            writeIndex = unread
        }
        if capacity - writeIndex < count {
            var newCapacity = capacity
            while newCapacity - writeIndex < count { newCapacity *= 2 }
            let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
            newBase.copyMemory(from: base, byteCount: writeIndex)
            base.deallocate()
            base = newBase
            capacity = newCapacity
        }
    }

    /// Index of the `\n` ending the control line at `readIndex`, or `nil` if it has not
    /// arrived yet. Throws when the line is already longer than allowed.
    private func findLineEnd() throws(ProtocolViolation) -> Int? {
        let available = writeIndex - readIndex
        guard available > 0 else { return nil }
        let limit = lineLimit()
        let scan = min(available, limit + 2)
        if let hit = memchr(base + readIndex, Int32(UInt8.lf), scan) {
            return base.distance(to: hit)
        }
        if available > limit + 1 {
            throw ProtocolViolation("control line longer than \(limit) bytes")
        }
        return nil
    }

    /// INFO and -ERR may be long; every other line has the control-line limit.
    private func lineLimit() -> Int {
        guard writeIndex - readIndex >= 1 else { return maxControlLine }
        let first = byte(at: readIndex).asciiLowercased
        if first == UInt8(ascii: "i") || first == UInt8(ascii: "-") { return Self.maxInfoLine }
        return maxControlLine
    }

    // MARK: - Operations

    private enum ParsedLine {
        case operation(ServerOperation)
        case messageHeader(MessageHeaderLine)
    }

    /// Parses one control line; a MSG/HMSG line gives the header of a message whose payload
    /// follows.
    private static func parseLine(_ line: UnsafeRawBufferPointer, maxPayload: Int) throws(ProtocolViolation)
        -> ParsedLine
    {
        var tokens = TokenList()
        tokens.split(line)
        guard tokens.count > 0 else { throw ProtocolViolation("empty control line") }
        switch Opcode(line[tokens.range(0)]) {
        case .msg:
            return .messageHeader(
                try MessageHeaderLine(line, tokens: tokens, hasHeaders: false, limit: maxPayload))
        case .hmsg:
            return .messageHeader(
                try MessageHeaderLine(line, tokens: tokens, hasHeaders: true, limit: maxPayload))
        case .ping:
            try expectNoArguments(tokens, "PING")
            return .operation(.ping)
        case .pong:
            try expectNoArguments(tokens, "PONG")
            return .operation(.pong)
        case .ok:
            try expectNoArguments(tokens, "+OK")
            return .operation(.ok)
        case .err:
            return .operation(.error(errorText(line, after: tokens.range(0).upperBound)))
        case .info:
            guard tokens.count > 1 else { throw ProtocolViolation("INFO without a body") }
            let body = line[tokens.range(1).lowerBound...]
            return .operation(.info(try ServerInfo.decode(ArraySlice(body))))
        case .unknown:
            let name = String(decoding: line[tokens.range(0)].prefix(16), as: UTF8.self)
            throw ProtocolViolation("unknown operation \(name.debugDescription)")
        }
    }

    private static func expectNoArguments(_ tokens: TokenList, _ name: String) throws(ProtocolViolation) {
        guard tokens.count == 1 else { throw ProtocolViolation("\(name) with arguments") }
    }

    private static func errorText(_ line: UnsafeRawBufferPointer, after start: Int) -> String {
        var text = line[start...].drop(while: { $0 == .space || $0 == .tab })
        while let last = text.last, last == .space || last == .tab { text = text.dropLast() }
        if text.count >= 2, text.first == .singleQuote, text.last == .singleQuote {
            text = text.dropFirst().dropLast()
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Returns the message once its payload and trailing CRLF are buffered.
    private func completeMessage(_ header: MessageHeaderLine) throws(ProtocolViolation) -> ServerOperation? {
        let needed = header.totalSize + 2
        guard writeIndex - readIndex >= needed else { return nil }
        let frame = UnsafeRawBufferPointer(start: base + readIndex, count: needed)
        guard frame[needed - 2] == .cr, frame[needed - 1] == .lf else {
            throw ProtocolViolation("message payload is not followed by CRLF")
        }
        var headers: NATSHeaders?
        if header.headerSize > 0 {
            headers = try NATSHeaders.parse(UnsafeRawBufferPointer(rebasing: frame[0..<header.headerSize]))
        }
        let payload = [UInt8](UnsafeRawBufferPointer(rebasing: frame[header.headerSize..<header.totalSize]))
        readIndex += needed
        pendingMessage = nil
        compactIfDrained()
        return .message(
            sid: header.sid,
            NATSMessage(subject: header.subject, replyTo: header.replyTo, headers: headers, payload: payload))
    }
}

// MARK: - Pieces of a control line

private enum Opcode {
    case msg, hmsg, ping, pong, ok, err, info, unknown

    init(_ name: Slice<UnsafeRawBufferPointer>) {
        func matches(_ word: StaticString) -> Bool {
            guard name.count == word.utf8CodeUnitCount else { return false }
            var i = name.startIndex
            for j in 0..<word.utf8CodeUnitCount {
                if name[i].asciiLowercased != word.utf8Start[j] { return false }
                i += 1
            }
            return true
        }
        switch name.count {
        case 3: self = matches("msg") ? .msg : (matches("+ok") ? .ok : .unknown)
        case 4:
            if matches("ping") {
                self = .ping
            } else if matches("pong") {
                self = .pong
            } else if matches("hmsg") {
                self = .hmsg
            } else if matches("info") {
                self = .info
            } else if matches("-err") {
                self = .err
            } else {
                self = .unknown
            }
        default: self = .unknown
        }
    }
}

/// The fields of a `MSG`/`HMSG` line.
private struct MessageHeaderLine {
    var subject: String
    var sid: UInt64
    var replyTo: String?
    var headerSize: Int
    var totalSize: Int

    init(_ line: UnsafeRawBufferPointer, tokens: TokenList, hasHeaders: Bool, limit: Int)
        throws(ProtocolViolation)
    {
        let sizes = hasHeaders ? 2 : 1
        let op = hasHeaders ? "HMSG" : "MSG"
        guard tokens.count == 3 + sizes || tokens.count == 4 + sizes else {
            throw ProtocolViolation("\(op) has \(tokens.count - 1) arguments")
        }
        subject = String(decoding: line[tokens.range(1)], as: UTF8.self)
        guard let sid = parseDecimal(line[tokens.range(2)], limit: UInt64.max / 10) else {
            throw ProtocolViolation("\(op) sid is not a number")
        }
        self.sid = sid
        replyTo = tokens.count == 4 + sizes ? String(decoding: line[tokens.range(3)], as: UTF8.self) : nil
        let sizeIndex = tokens.count - sizes
        guard let total = parseDecimal(line[tokens.range(tokens.count - 1)], limit: UInt64(limit)) else {
            throw ProtocolViolation("\(op) size is not a number or exceeds \(limit) bytes")
        }
        totalSize = Int(total)
        if hasHeaders {
            guard let header = parseDecimal(line[tokens.range(sizeIndex)], limit: UInt64(limit)) else {
                throw ProtocolViolation("HMSG header size is not a number")
            }
            guard header <= total, header >= UInt64(NATSHeaders.preamble.count + 4) else {
                throw ProtocolViolation("HMSG header size \(header) does not fit total size \(total)")
            }
            headerSize = Int(header)
        } else {
            headerSize = 0
        }
    }
}

/// A decimal number of at most `limit`, or `nil` for anything else (empty, sign, overflow).
private func parseDecimal(_ digits: Slice<UnsafeRawBufferPointer>, limit: UInt64) -> UInt64? {
    guard !digits.isEmpty, digits.count <= 20 else { return nil }
    var value: UInt64 = 0
    for byte in digits {
        guard byte >= .zero && byte <= .nine else { return nil }
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - .zero))
        guard !o1, !o2, sum <= limit else { return nil }
        value = sum
    }
    return value
}

/// Up to six space- or tab-separated tokens of a control line, without allocating.
private struct TokenList {
    private var bounds = InlineArray<12, Int>(repeating: 0)
    private(set) var count = 0

    func range(_ i: Int) -> Range<Int> { bounds[2 * i]..<bounds[2 * i + 1] }

    /// Splits at runs of spaces and tabs. Stops after six tokens; the sixth then runs to the
    /// end of the line, which no operation that has arguments accepts, so it is rejected.
    mutating func split(_ line: UnsafeRawBufferPointer) {
        var i = 0
        let n = line.count
        while i < n && count < 6 {
            while i < n && (line[i] == .space || line[i] == .tab) { i += 1 }
            if i == n { break }
            let start = i
            if count == 5 {
                i = n
                while i > start && (line[i - 1] == .space || line[i - 1] == .tab) { i -= 1 }
            } else {
                while i < n && line[i] != .space && line[i] != .tab { i += 1 }
            }
            bounds[2 * count] = start
            bounds[2 * count + 1] = i
            count += 1
        }
    }
}
