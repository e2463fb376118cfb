/// The OTLP trace export request (`opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest`)
/// in protobuf's wire format, written by hand: the message is small and fixed, and a
/// protobuf library would bring Foundation into every process (see the README, "Tracing").
///
/// Field numbers are those of opentelemetry-proto's `trace.proto`, `resource.proto` and
/// `common.proto`; the tests decode what this writes with opentelemetry-proto's own Python
/// classes.
enum OTLPProtobuf {
    /// The body of one `POST /v1/traces`.
    static func exportRequest(_ spans: [FinishedSpan], resource: [(String, AttributeValue)], scope: String)
        -> [UInt8]
    {
        var request = ProtobufWriter(capacity: 256 + spans.count * 400)
        request.message(1) { resourceSpans in
            resourceSpans.message(1) { writer in  // Resource
                for (key, value) in resource { writer.message(1) { keyValue(key, value, into: &$0) } }
            }
            resourceSpans.message(2) { scopeSpans in
                scopeSpans.message(1) { $0.string(1, scope) }  // InstrumentationScope
                for span in spans { scopeSpans.message(2) { encode(span, into: &$0) } }
            }
        }
        return request.bytes
    }

    static func encode(_ span: FinishedSpan, into writer: inout ProtobufWriter) {
        writer.ids(1, span.context.traceIDHigh, span.context.traceIDLow)
        writer.ids(2, span.context.spanID)
        if let state = span.context.state, !state.isEmpty { writer.string(3, state) }
        if span.parentSpanID != 0 { writer.ids(4, span.parentSpanID) }
        writer.string(5, span.name)
        writer.varint(6, UInt64(span.kind.rawValue))
        writer.fixed64(7, span.startNanoseconds)
        writer.fixed64(8, span.endNanoseconds)
        for (key, value) in span.attributes { writer.message(9) { keyValue(key, value, into: &$0) } }
        for event in span.events {
            writer.message(11) { writer in
                writer.fixed64(1, event.nanoseconds)
                writer.string(2, event.name)
                for (key, value) in event.attributes { writer.message(3) { keyValue(key, value, into: &$0) } }
            }
        }
        for link in span.links {
            writer.message(13) { writer in
                writer.ids(1, link.traceIDHigh, link.traceIDLow)
                writer.ids(2, link.spanID)
            }
        }
        if span.status != .unset {
            writer.message(15) { writer in
                if let message = span.statusMessage { writer.string(2, message) }
                writer.varint(3, UInt64(span.status.rawValue))
            }
        }
        writer.fixed32(16, UInt32(span.context.flags))
    }

    static func keyValue(_ key: String, _ value: AttributeValue, into writer: inout ProtobufWriter) {
        writer.string(1, key)
        writer.message(2) { anyValue(value, into: &$0) }
    }

    static func anyValue(_ value: AttributeValue, into writer: inout ProtobufWriter) {
        switch value {
        case .string(let text): writer.string(1, text)
        case .bool(let flag): writer.varint(2, flag ? 1 : 0)
        case .int(let number): writer.varint(3, UInt64(bitPattern: number))
        case .double(let number): writer.fixed64(4, number.bitPattern)
        case .array(let values):
            writer.message(5) { array in
                for value in values { array.message(1) { anyValue(value, into: &$0) } }
            }
        }
    }
}

/// An attribute value as OTLP carries it.
enum AttributeValue: Sendable, Equatable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case array([AttributeValue])
}

/// Protobuf's wire format: tags, varints, fixed-width numbers, length-delimited fields.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func varint(_ field: Int, _ value: UInt64) {
        tag(field, wireType: 0)
        rawVarint(value)
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, wireType: 1)
        for shift in stride(from: 0, to: 64, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        tag(field, wireType: 5)
        for shift in stride(from: 0, to: 32, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        tag(field, wireType: 2)
        rawVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func string(_ field: Int, _ value: String) {
        tag(field, wireType: 2)
        rawVarint(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    /// A span id: 8 bytes, big-endian.
    mutating func ids(_ field: Int, _ value: UInt64) {
        tag(field, wireType: 2)
        rawVarint(8)
        bigEndian(value)
    }

    /// A trace id: 16 bytes, big-endian (not variadic: that would be an array per span).
    mutating func ids(_ field: Int, _ high: UInt64, _ low: UInt64) {
        tag(field, wireType: 2)
        rawVarint(16)
        bigEndian(high)
        bigEndian(low)
    }

    private mutating func bigEndian(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }

    /// A nested message, written by `body` in place: one byte is kept for its length and
    /// the content moved up only when the length needs more (no buffer per message).
    mutating func message(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        tag(field, wireType: 2)
        let lengthAt = bytes.count
        bytes.append(0)
        body(&self)
        let length = bytes.count - lengthAt - 1
        if length < 0x80 {
            bytes[lengthAt] = UInt8(length)
        } else {
            bytes.replaceSubrange(lengthAt..<(lengthAt + 1), with: VarintBytes(UInt64(length)))
        }
    }

    private mutating func tag(_ field: Int, wireType: UInt64) { rawVarint(UInt64(field) << 3 | wireType) }

    fileprivate mutating func rawVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }
}

/// A varint's bytes as a collection without storage of its own (a nested message's length,
/// spliced in front of it without an array per message).
struct VarintBytes: RandomAccessCollection {
    let value: UInt64
    let count: Int

    init(_ value: UInt64) {
        var count = 1
        var rest = value
        while rest >= 0x80 {
            rest >>= 7
            count += 1
        }
        self.value = value
        self.count = count
    }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(position: Int) -> UInt8 {
        let group = UInt8(truncatingIfNeeded: value >> (7 * UInt64(position))) & 0x7F
        return position < count - 1 ? group | 0x80 : group
    }
}
