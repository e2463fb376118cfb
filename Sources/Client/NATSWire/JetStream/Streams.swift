#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A stream's configuration, as the JetStream API takes it. Fields left `nil` get the
/// server's defaults.
public struct StreamConfig: Codable, Sendable, Equatable {
    public enum Retention: String, Codable, Sendable { case limits, interest, workqueue }
    public enum Storage: String, Codable, Sendable { case file, memory }
    public enum Discard: String, Codable, Sendable { case old, new }

    public var name: String
    public var description: String?
    public var subjects: [String]?
    public var retention: Retention?
    public var maxConsumers: Int?
    public var maxMessages: Int64?
    public var maxBytes: Int64?
    /// Nanoseconds; 0 keeps messages forever.
    public var maxAgeNanoseconds: Int64?
    public var maxMessagesPerSubject: Int64?
    public var maxMessageSize: Int32?
    public var storage: Storage?
    public var discard: Discard?
    public var replicas: Int?
    /// The window in which a repeated `Nats-Msg-Id` is a duplicate, in nanoseconds.
    public var duplicateWindowNanoseconds: Int64?
    public var allowDirect: Bool?
    public var allowRollup: Bool?
    public var denyDelete: Bool?
    public var denyPurge: Bool?

    public init(
        name: String, subjects: [String]? = nil, retention: Retention? = nil, storage: Storage? = nil,
        maxMessages: Int64? = nil, maxBytes: Int64? = nil, maxAge: Duration? = nil, discard: Discard? = nil,
        replicas: Int? = nil, duplicateWindow: Duration? = nil, allowDirect: Bool? = nil,
        description: String? = nil
    ) {
        self.name = name
        self.subjects = subjects
        self.retention = retention
        self.storage = storage
        self.maxMessages = maxMessages
        self.maxBytes = maxBytes
        self.maxAgeNanoseconds = maxAge.map(Self.nanoseconds)
        self.discard = discard
        self.replicas = replicas
        self.duplicateWindowNanoseconds = duplicateWindow.map(Self.nanoseconds)
        self.allowDirect = allowDirect
        self.description = description
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    enum CodingKeys: String, CodingKey {
        case name, description, subjects, retention, storage, discard
        case maxConsumers = "max_consumers"
        case maxMessages = "max_msgs"
        case maxBytes = "max_bytes"
        case maxAgeNanoseconds = "max_age"
        case maxMessagesPerSubject = "max_msgs_per_subject"
        case maxMessageSize = "max_msg_size"
        case replicas = "num_replicas"
        case duplicateWindowNanoseconds = "duplicate_window"
        case allowDirect = "allow_direct"
        case allowRollup = "allow_rollup_hdrs"
        case denyDelete = "deny_delete"
        case denyPurge = "deny_purge"
    }
}

/// What a stream holds now.
public struct StreamState: Codable, Sendable, Equatable {
    public var messages: UInt64
    public var bytes: UInt64
    public var firstSequence: UInt64
    public var lastSequence: UInt64
    public var consumerCount: Int

    enum CodingKeys: String, CodingKey {
        case messages, bytes
        case firstSequence = "first_seq"
        case lastSequence = "last_seq"
        case consumerCount = "consumer_count"
    }
}

/// A stream: its configuration and state.
public struct StreamInfo: Decodable, Sendable, Equatable {
    public var config: StreamConfig
    public var state: StreamState
    /// When it was created (RFC 3339, as the server wrote it).
    public var created: String
}

/// A message read back from a stream by sequence or by subject.
public struct StoredMessage: Sendable, Equatable {
    public var subject: String
    public var sequence: UInt64
    public var headers: NATSHeaders?
    public var payload: [UInt8]
    /// When it was stored (RFC 3339).
    public var time: String
}

extension JetStream {
    /// Creates a stream; a stream of that name with another configuration is an error
    /// (``JetStreamError/Code/streamNameInUse``), the same configuration is not.
    public func addStream(_ config: StreamConfig) async throws -> StreamInfo {
        try await api("STREAM.CREATE.\(try Self.streamName(config.name))", config, as: StreamInfo.self)
    }

    public func updateStream(_ config: StreamConfig) async throws -> StreamInfo {
        try await api("STREAM.UPDATE.\(try Self.streamName(config.name))", config, as: StreamInfo.self)
    }

    public func streamInfo(_ name: String) async throws -> StreamInfo {
        try await api("STREAM.INFO.\(try Self.streamName(name))", as: StreamInfo.self)
    }

    public func deleteStream(_ name: String) async throws {
        _ = try await api("STREAM.DELETE.\(try Self.streamName(name))", as: Success.self)
    }

    /// Removes messages: all of them, those of one subject, those below a sequence, or all
    /// but the newest `keep`. Returns how many went.
    @discardableResult
    public func purgeStream(
        _ name: String, subject: String? = nil, upToSequence: UInt64? = nil, keep: UInt64? = nil
    )
        async throws -> UInt64
    {
        let request = PurgeRequest(filter: subject, seq: upToSequence, keep: keep)
        return try await api("STREAM.PURGE.\(try Self.streamName(name))", request, as: Success.self).purged
            ?? 0
    }

    /// The names of every stream (optionally those that capture `subject`), page by page.
    public func streamNames(subject: String? = nil) async throws -> [String] {
        try await names("STREAM.NAMES", subject: subject)
    }

    /// Every stream with its configuration and state (optionally those that capture
    /// `subject`), page by page.
    public func streams(subject: String? = nil) async throws -> [StreamInfo] {
        try await pages("STREAM.LIST", subject: subject)
    }

    /// Every name of a paged names request.
    func names(_ path: String, subject: String? = nil) async throws -> [String] {
        try await pages(path, subject: subject)
    }

    /// Every item of a paged request (`streams` or `consumers` in each page).
    func pages<Item: Decodable>(_ path: String, subject: String? = nil) async throws -> [Item] {
        var items: [Item] = []
        while true {
            let page = try await api(
                path, NamesRequest(offset: items.count, subject: subject), as: Page<Item>.self)
            let found = page.streams ?? page.consumers ?? []
            items += found
            if found.isEmpty || items.count >= page.total { return items }
        }
    }

    /// The message at `sequence`.
    public func message(_ stream: String, sequence: UInt64) async throws -> StoredMessage {
        try await message(stream, MessageRequest(seq: sequence, lastBySubject: nil))
    }

    /// The newest message on `subject`.
    public func lastMessage(_ stream: String, subject: String) async throws -> StoredMessage {
        try await message(stream, MessageRequest(seq: nil, lastBySubject: subject))
    }

    private func message(_ stream: String, _ request: MessageRequest) async throws -> StoredMessage {
        let raw = try await api(
            "STREAM.MSG.GET.\(try Self.streamName(stream))", request, as: MessageEnvelope.self
        )
        .message
        var headers: NATSHeaders?
        if let encoded = raw.hdrs, let block = Data(base64Encoded: encoded) {
            headers = Array(block).withUnsafeBytes { try? NATSHeaders.parse($0) }
        }
        return StoredMessage(
            subject: raw.subject, sequence: raw.seq, headers: headers,
            payload: raw.data.flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? [], time: raw.time)
    }

    /// A stream name may not hold `.`, `*`, `>` or spaces (it is a subject token).
    static func streamName(_ name: String) throws -> String {
        guard !name.isEmpty, !name.contains(where: { ".*> \t\r\n".contains($0) }) else {
            throw NATSError(.invalidArgument, "\(name.debugDescription) is not a valid stream name")
        }
        return name
    }

    struct Success: Decodable {
        var success: Bool
        var purged: UInt64?
    }

    struct PurgeRequest: Encodable {
        var filter: String?
        var seq: UInt64?
        var keep: UInt64?
    }

    struct NamesRequest: Encodable {
        var offset: Int
        var subject: String?
    }

    struct Page<Item: Decodable>: Decodable {
        var total: Int
        var streams: [Item]?
        var consumers: [Item]?
    }

    struct MessageRequest: Encodable {
        var seq: UInt64?
        var lastBySubject: String?
        enum CodingKeys: String, CodingKey {
            case seq
            case lastBySubject = "last_by_subj"
        }
    }

    struct MessageEnvelope: Decodable {
        struct Raw: Decodable {
            var subject: String
            var seq: UInt64
            var hdrs: String?
            var data: String?
            var time: String
        }
        var message: Raw
    }
}
