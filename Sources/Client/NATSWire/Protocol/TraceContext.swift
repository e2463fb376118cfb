/// A W3C Trace Context (`traceparent`, `tracestate`) as NATS headers carry it.
///
/// NATSWire records no spans and depends on no tracing package. It gives a tracing library
/// what it needs to follow a request across NATS: the header names, this value with the
/// `traceparent` syntax, and ``NATSTraceContextInjector``, which the client calls for every
/// message it publishes or requests so the caller's context travels with it. A receiver reads
/// ``NATSMessage/traceContext``.
///
/// ```swift
/// if let parent = message.traceContext {
///     print(parent.traceIDHex, parent.isSampled)
/// }
/// ```
public struct NATSTraceContext: Sendable, Hashable {
    /// The header that carries ``traceparent``.
    public static let traceparentHeader = "traceparent"
    /// The header that carries vendor state, passed on unchanged.
    public static let tracestateHeader = "tracestate"

    /// The first 8 of the trace id's 16 bytes.
    public var traceIDHigh: UInt64
    /// The last 8 of the trace id's 16 bytes.
    public var traceIDLow: UInt64
    /// The span id of the sender's span (the parent of the receiver's).
    public var spanID: UInt64
    /// Trace flags; bit 0 is "sampled".
    public var flags: UInt8
    /// The `tracestate` header, if any.
    public var state: String?

    /// A context; ids of zero are invalid in W3C Trace Context and not checked here.
    public init(
        traceIDHigh: UInt64, traceIDLow: UInt64, spanID: UInt64, flags: UInt8 = 1, state: String? = nil
    ) {
        self.traceIDHigh = traceIDHigh
        self.traceIDLow = traceIDLow
        self.spanID = spanID
        self.flags = flags
        self.state = state
    }

    /// Parses a `traceparent` value (`00-<32 hex>-<16 hex>-<2 hex>`); `nil` when it is not
    /// one, has an all-zero id, or has version `ff`. A later version is read by its first
    /// four fields, as the specification asks.
    public init?(traceparent: String, state: String? = nil) {
        // In place for a native string (every received header is one): no copy of its bytes.
        guard
            let fields = traceparent.utf8.withContiguousStorageIfAvailable({ Self.fields(of: $0) })
                ?? Self.fields(of: Array(traceparent.utf8))
        else { return nil }
        self.init(
            traceIDHigh: fields.high, traceIDLow: fields.low, spanID: fields.span, flags: fields.flags,
            state: state)
    }

    private static func fields<Bytes: RandomAccessCollection<UInt8>>(of bytes: Bytes)
        -> (high: UInt64, low: UInt64, span: UInt64, flags: UInt8)?
    where Bytes.Index == Int {
        let start = bytes.startIndex
        func at(_ offset: Int) -> UInt8 { bytes[start + offset] }
        func hex(_ range: Range<Int>) -> UInt64? {
            Self.hex(bytes[(start + range.lowerBound)..<(start + range.upperBound)])
        }
        guard bytes.count >= 55, at(2) == 0x2D, at(35) == 0x2D, at(52) == 0x2D,
            let version = hex(0..<2), version != 0xFF,
            version != 0 || bytes.count == 55, bytes.count == 55 || at(55) == 0x2D,
            let high = hex(3..<19), let low = hex(19..<35),
            let span = hex(36..<52), let flags = hex(53..<55),
            high != 0 || low != 0, span != 0
        else { return nil }
        return (high, low, span, UInt8(flags))
    }

    /// Reads the context from message headers; `nil` without a valid `traceparent`.
    public init?(headers: NATSHeaders?) {
        guard let headers, let parent = headers[Self.traceparentHeader] else { return nil }
        self.init(traceparent: parent, state: headers[Self.tracestateHeader])
    }

    /// Whether the sender records this trace.
    public var isSampled: Bool { flags & 1 == 1 }

    /// The trace id as 32 lowercase hex digits.
    public var traceIDHex: String {
        String(unsafeUninitializedCapacity: 32) { buffer in
            Self.writeHex(traceIDHigh, digits: 16, into: buffer, at: 0)
            Self.writeHex(traceIDLow, digits: 16, into: buffer, at: 16)
            return 32
        }
    }

    /// The span id as 16 lowercase hex digits.
    public var spanIDHex: String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            Self.writeHex(spanID, digits: 16, into: buffer, at: 0)
            return 16
        }
    }

    /// The `traceparent` value (version 00), written in one buffer (it goes with every
    /// traced message).
    public var traceparent: String {
        String(unsafeUninitializedCapacity: 55) { buffer in
            buffer[0] = 0x30
            buffer[1] = 0x30
            buffer[2] = 0x2D
            Self.writeHex(traceIDHigh, digits: 16, into: buffer, at: 3)
            Self.writeHex(traceIDLow, digits: 16, into: buffer, at: 19)
            buffer[35] = 0x2D
            Self.writeHex(spanID, digits: 16, into: buffer, at: 36)
            buffer[52] = 0x2D
            Self.writeHex(UInt64(flags), digits: 2, into: buffer, at: 53)
            return 55
        }
    }

    private static func writeHex(
        _ value: UInt64, digits: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int
    ) {
        for index in 0..<digits {
            let nibble = UInt8(truncatingIfNeeded: value >> (4 * UInt64(digits - 1 - index))) & 0xF
            buffer[offset + index] = nibble < 10 ? 0x30 + nibble : 0x61 + nibble - 10
        }
    }

    /// Sets `traceparent` (and `tracestate`, if any) in `headers`.
    public func write(into headers: inout NATSHeaders) {
        headers.set(traceparent, for: Self.traceparentHeader)
        if let state, !state.isEmpty { headers.set(state, for: Self.tracestateHeader) }
    }

    /// Lowercase hex only, as the specification requires (at most 16 digits).
    static func hex<Digits: Sequence<UInt8>>(_ digits: Digits) -> UInt64? {
        var value: UInt64 = 0
        for digit in digits {
            switch digit {
            case 0x30...0x39: value = value << 4 | UInt64(digit - 0x30)
            case 0x61...0x66: value = value << 4 | UInt64(digit - 0x61 + 10)
            default: return nil
            }
        }
        return value
    }
}

/// Adds the calling task's trace context to outgoing messages. Set one in
/// ``NATSOptions/traceContextInjector``; the client calls it for every `publish` and
/// `request` (not for the replies of the services API) whose headers do not already carry a
/// `traceparent`: a message that names its trace keeps it. A tracing library implements it by
/// writing its current span's context, typically with ``NATSTraceContext/write(into:)``.
public protocol NATSTraceContextInjector: Sendable {
    /// Adds trace headers to `headers`; adds nothing when no trace is active.
    func inject(into headers: inout NATSHeaders)
}

extension NATSMessage {
    /// The sender's trace context, from the `traceparent` and `tracestate` headers.
    public var traceContext: NATSTraceContext? { NATSTraceContext(headers: headers) }
}

extension NATSClient {
    /// `headers` with the injector's trace context added; unchanged without an injector, an
    /// active trace (no empty header block is sent), or when they name a trace already.
    func tracing(_ headers: NATSHeaders?) -> NATSHeaders? {
        guard let injector = options.traceContextInjector,
            headers?[NATSTraceContext.traceparentHeader] == nil
        else { return headers }
        var traced = headers ?? NATSHeaders()
        injector.inject(into: &traced)
        return traced.isEmpty ? headers : traced
    }
}
