import NATSWire
import Tracing

/// The OTLP trace export request (`opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest`)
/// in protobuf's wire format, written by hand: the message is small and fixed, and a
/// protobuf library would bring Foundation into every process (see the README, "Tracing").
///
/// Field numbers are those of opentelemetry-proto's `trace.proto`, `resource.proto` and
/// `common.proto`; the tests decode what this writes with opentelemetry-proto's own Python
/// classes.
enum OTLPProtobuf {
    /// What every export request of a process repeats, written once: its `Resource` and
    /// `InstrumentationScope` messages.
    struct Framing: Sendable {
        let resource: [UInt8]
        let scope: [UInt8]

        init(resource attributes: [(String, AttributeValue)], scope name: String) {
            var resource = ProtobufWriter()
            for (key, value) in attributes { resource.message(1) { keyValue(key, value, into: &$0) } }
            self.resource = resource.bytes
            var scope = ProtobufWriter()
            scope.string(1, name)
            self.scope = scope.bytes
        }

        /// The body of one `POST /v1/traces` around `spans` (spans as ``SpanBatcher`` keeps
        /// them: each a `ScopeSpans.spans` field), written into `body` after what it holds.
        /// The lengths are worked out first, so the spans are copied once, never moved.
        func write(spans: [UInt8], into body: inout ProtobufWriter) {
            let scopeSpans = ProtobufWriter.fieldSize(scope.count) + spans.count
            let resourceSpans =
                ProtobufWriter.fieldSize(resource.count) + ProtobufWriter.fieldSize(scopeSpans)
            body.header(1, length: resourceSpans)  // ExportTraceServiceRequest.resource_spans
            body.header(1, length: resource.count)  // ResourceSpans.resource
            body.append(resource)
            body.header(2, length: scopeSpans)  // ResourceSpans.scope_spans
            body.header(1, length: scope.count)  // ScopeSpans.scope
            body.append(scope)
            body.append(spans)
        }
    }

    /// The fields of a span known when it ends (`Span` of `trace.proto`); attributes, events
    /// and links were written as they were added.
    static func finishSpan(
        into writer: inout ProtobufWriter, context: NATSTraceContext, parentSpanID: UInt64, name: String,
        kind: SpanKindCode, start: UInt64, end: UInt64, status: SpanStatusCode, statusMessage: String?
    ) {
        writer.ids(1, context.traceIDHigh, context.traceIDLow)
        writer.ids(2, context.spanID)
        if let state = context.state, !state.isEmpty { writer.string(3, state) }
        if parentSpanID != 0 { writer.ids(4, parentSpanID) }
        writer.string(5, name)
        writer.varint(6, UInt64(kind.rawValue))
        writer.fixed64(7, start)
        writer.fixed64(8, end)
        if status != .unset {
            writer.message(15) { writer in
                if let statusMessage { writer.string(2, statusMessage) }
                writer.varint(3, UInt64(status.rawValue))
            }
        }
        writer.fixed32(16, UInt32(context.flags))
    }

    /// A span attribute (`Span.attributes`).
    static func attribute(_ key: String, _ value: AttributeValue, into writer: inout ProtobufWriter) {
        writer.message(9) { keyValue(key, value, into: &$0) }
    }

    /// A span event (`Span.events`).
    static func event(
        _ name: String, nanoseconds: UInt64, attributes: [(String, AttributeValue)],
        into writer: inout ProtobufWriter
    ) {
        writer.message(11) { writer in
            writer.fixed64(1, nanoseconds)
            writer.string(2, name)
            for (key, value) in attributes { writer.message(3) { keyValue(key, value, into: &$0) } }
        }
    }

    /// A span link (`Span.links`).
    static func link(_ linked: NATSTraceContext, into writer: inout ProtobufWriter) {
        writer.message(13) { writer in
            writer.ids(1, linked.traceIDHigh, linked.traceIDLow)
            writer.ids(2, linked.spanID)
        }
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

/// OTLP's `Span.SpanKind`.
enum SpanKindCode: Int, Sendable {
    case `internal` = 1, server, client, producer, consumer

    init(_ kind: SpanKind) {
        switch kind {
        case .server: self = .server
        case .client: self = .client
        case .producer: self = .producer
        case .consumer: self = .consumer
        default: self = .internal
        }
    }
}

/// OTLP's `Status.StatusCode`.
enum SpanStatusCode: Int, Sendable {
    case unset = 0, ok, error
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
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        tag(field, wireType: 5)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// The tag and length of a length-delimited field whose content follows.
    mutating func header(_ field: Int, length: Int) {
        tag(field, wireType: 2)
        rawVarint(UInt64(length))
    }

    /// Bytes already in the wire format.
    mutating func append(_ encoded: [UInt8]) { bytes.append(contentsOf: encoded) }

    /// Empties the writer, keeping its storage for the next message.
    mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    /// The bytes of a length-delimited field of `length` content bytes with a one-byte tag.
    static func fieldSize(_ length: Int) -> Int { 1 + VarintBytes(UInt64(length)).count + length }

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
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
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
