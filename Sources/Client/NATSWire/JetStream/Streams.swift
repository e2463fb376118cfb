#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A stream's configuration, as the JetStream API takes it. Fields left `nil` get the
/// server's defaults.
public struct StreamConfig: Codable, Sendable, Equatable {
    /// When messages leave the stream.
    public enum Retention: String, Codable, Sendable {
        /// When a limit (messages, bytes, age) is reached.
        case limits
        /// Once every consumer has acknowledged them (and at the limits).
        case interest
        /// Once one consumer has acknowledged them: a work queue.
        case workqueue
    }
    /// Where messages are kept.
    public enum Storage: String, Codable, Sendable {
        /// On disk.
        case file
        /// In memory (lost when the server stops).
        case memory
    }
    /// What a full stream gives up.
    public enum Discard: String, Codable, Sendable {
        /// Its oldest messages.
        case old
        /// The new message (the publish fails).
        case new
    }

    /// The stream's name (no `.`, `*`, `>` or spaces).
    public var name: String
    /// A description for people.
    public var description: String?
    /// The subjects it captures (wildcards allowed).
    public var subjects: [String]?
    /// When messages may go: by limits (default), once every consumer has them, or once one has.
    public var retention: Retention?
    /// The most consumers; `-1` for no limit.
    public var maxConsumers: Int?
    /// The most messages kept; `-1` for no limit.
    public var maxMessages: Int64?
    /// The most bytes kept; `-1` for no limit.
    public var maxBytes: Int64?
    /// Nanoseconds; 0 keeps messages forever.
    public var maxAgeNanoseconds: Int64?
    /// The most messages kept per subject (1 for a key-value bucket without history).
    public var maxMessagesPerSubject: Int64?
    /// The largest message accepted, in bytes.
    public var maxMessageSize: Int32?
    /// File (default) or memory.
    public var storage: Storage?
    /// Which messages go when a limit is reached: the oldest (default) or the new one.
    public var discard: Discard?
    /// Copies kept in a cluster (1 to 5).
    public var replicas: Int?
    /// The window in which a repeated `Nats-Msg-Id` is a duplicate, in nanoseconds.
    public var duplicateWindowNanoseconds: Int64?
    /// Whether any replica may answer direct gets (`$JS.API.DIRECT.GET`).
    public var allowDirect: Bool?
    /// Whether a `Nats-Rollup` header may purge a subject's earlier messages.
    public var allowRollup: Bool?
    /// Whether deleting single messages is refused.
    public var denyDelete: Bool?
    /// Whether purging is refused.
    public var denyPurge: Bool?

    /// A configuration; only `name` is required, and `maxAge` and `duplicateWindow` are set as durations.
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
    /// Messages stored.
    public var messages: UInt64
    /// Bytes stored.
    public var bytes: UInt64
    /// The sequence of the oldest message kept.
    public var firstSequence: UInt64
    /// The sequence of the newest message.
    public var lastSequence: UInt64
    /// Consumers of the stream.
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
    /// Its configuration, with the server's defaults filled in.
    public var config: StreamConfig
    /// What it holds.
    public var state: StreamState
    /// When it was created (RFC 3339, as the server wrote it).
    public var created: String
}

/// A message read back from a stream by sequence or by subject.
public struct StoredMessage: Sendable, Equatable {
    /// The subject it was published to.
    public var subject: String
    /// Its sequence in the stream.
    public var sequence: UInt64
    /// Its headers.
    public var headers: NATSHeaders?
    /// Its payload.
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

    /// Changes a stream's configuration (the server refuses changes it cannot make, such as the storage).
    public func updateStream(_ config: StreamConfig) async throws -> StreamInfo {
        try await api("STREAM.UPDATE.\(try Self.streamName(config.name))", config, as: StreamInfo.self)
    }

    /// A stream's configuration and state; ``JetStreamError/Code/streamNotFound`` if there is none.
    public func streamInfo(_ name: String) async throws -> StreamInfo {
        try await api("STREAM.INFO.\(try Self.streamName(name))", as: StreamInfo.self)
    }

    /// Deletes a stream with its messages and consumers.
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
