import Synchronization

/// A key-value bucket's settings. The bucket is the stream `KV_<bucket>` on the subjects
/// `$KV.<bucket>.>` (the KV ADR's layout, so other clients read it too).
public struct KeyValueConfig: Sendable, Equatable {
    /// The bucket's name (`[A-Za-z0-9_-]+`); its stream is `KV_<bucket>`.
    public var bucket: String
    /// A description for people.
    public var description: String?
    /// Values kept per key, 1 to 64.
    public var history: Int
    /// How long a value lives; `nil` forever.
    public var ttl: Duration?
    /// The largest value accepted, in bytes; `nil` for the server's limit.
    public var maxValueSize: Int32?
    /// The most bytes the bucket keeps; `nil` for no limit.
    public var maxBytes: Int64?
    /// File (default) or memory.
    public var storage: StreamConfig.Storage
    /// Copies kept in a cluster (1 to 5).
    public var replicas: Int

    /// A configuration; only `bucket` is required.
    public init(
        bucket: String, history: Int = 1, ttl: Duration? = nil, maxValueSize: Int32? = nil,
        maxBytes: Int64? = nil,
        storage: StreamConfig.Storage = .file, replicas: Int = 1, description: String? = nil
    ) {
        self.bucket = bucket
        self.history = history
        self.ttl = ttl
        self.maxValueSize = maxValueSize
        self.maxBytes = maxBytes
        self.storage = storage
        self.replicas = replicas
        self.description = description
    }
}

/// One value of a key, or its deletion.
public struct KeyValueEntry: Sendable, Equatable {
    /// What the entry records (the `KV-Operation` header).
    public enum Operation: String, Sendable {
        /// A value.
        case put = "PUT"
        /// A deletion marker: the key has no value now; its history stays.
        case delete = "DEL"
        /// A purge marker: the key's earlier values are gone.
        case purge = "PURGE"
    }

    /// The bucket it belongs to.
    public var bucket: String
    /// The key.
    public var key: String
    /// The value (empty for a deletion or purge).
    public var value: [UInt8]
    /// The stream sequence of this value: what `update` expects.
    public var revision: UInt64
    /// A value, a deletion or a purge.
    public var operation: Operation
}

/// A key-value bucket over JetStream.
///
/// ```swift
/// let settings = try await nats.jetStream().createKeyValue(KeyValueConfig(bucket: "settings", history: 5))
/// let revision = try await settings.put("theme", Array("dark".utf8))
/// try await settings.update("theme", Array("light".utf8), revision: revision)
/// ```
public struct KeyValue: Sendable {
    /// The bucket's name.
    public let bucket: String
    let js: JetStream
    /// Reads by direct get (any replica answers) when the bucket's stream allows it.
    let direct: Bool
    var streamName: String { "KV_\(bucket)" }
    var prefix: String { "$KV.\(bucket)." }

    static let operationHeader = "KV-Operation"

    /// Stores `value`; returns its revision.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8]) async throws -> UInt64 {
        try await js.publish(value, to: try subject(key)).sequence
    }

    /// Stores `value` only if the key has none (or was deleted); a ``JetStreamError`` with
    /// ``JetStreamError/Code/wrongLastSequence`` when it exists.
    @discardableResult
    public func create(_ key: String, _ value: [UInt8]) async throws -> UInt64 {
        do {
            return try await js.publish(
                value, to: try subject(key), options: .init(expectedLastSubjectSequence: 0)
            )
            .sequence
        } catch let error as JetStreamError where error.errorCode == JetStreamError.Code.wrongLastSequence {
            // A deleted key may be created again: expect its delete marker instead.
            guard let last = try await entry(key, includingDeletions: true), last.operation != .put else {
                throw error
            }
            return try await update(key, value, revision: last.revision)
        }
    }

    /// Stores `value` only if the key's latest revision is `revision` (optimistic locking).
    @discardableResult
    public func update(_ key: String, _ value: [UInt8], revision: UInt64) async throws -> UInt64 {
        try await js.publish(
            value, to: try subject(key), options: .init(expectedLastSubjectSequence: revision)
        )
        .sequence
    }

    /// The current value; `nil` when the key has none or was deleted.
    public func get(_ key: String) async throws -> KeyValueEntry? {
        try await entry(key, includingDeletions: false)
    }

    /// Deletes the key (its history stays, up to the bucket's `history`).
    public func delete(_ key: String) async throws {
        var headers = NATSHeaders()
        headers.set(KeyValueEntry.Operation.delete.rawValue, for: Self.operationHeader)
        _ = try await js.publish([], to: try subject(key), headers: headers)
    }

    /// Deletes the key and every earlier value of it.
    public func purge(_ key: String) async throws {
        var headers = NATSHeaders()
        headers.set(KeyValueEntry.Operation.purge.rawValue, for: Self.operationHeader)
        headers.set("sub", for: "Nats-Rollup")
        _ = try await js.publish([], to: try subject(key), headers: headers)
    }

    /// The keys that have a value now.
    public func keys() async throws -> [String] {
        try await latestPerKey().filter { $0.operation == .put }.map(\.key).sorted()
    }

    /// Every kept value of `key`, oldest first, deletions included.
    public func history(_ key: String) async throws -> [KeyValueEntry] {
        try await read(filter: try subject(key), deliver: .all)
    }

    /// What `watch` reports: each value (the latest of every key first, then every change),
    /// and once, when those latest values are all in.
    public enum WatchEvent: Sendable, Equatable {
        /// A value, a deletion or a purge of a key.
        case entry(KeyValueEntry)
        /// Every key's latest value has been reported; changes follow.
        case initialValuesDone
    }

    /// The keys matching `keys` (a subject pattern under the bucket, `>` for all): their
    /// current values, ``WatchEvent/initialValuesDone``, then every put, delete and purge as
    /// it happens, in order, each once. Ends when the consuming task is cancelled.
    public func watch(_ keys: String = ">") -> AsyncThrowingStream<WatchEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<WatchEvent, any Error>.makeStream()
        let announced = Mutex(false)
        let announce: @Sendable () -> Void = {
            if announced.withLock({ done in
                defer { done = true }; return !done
            }) {
                continuation.yield(.initialValuesDone)
            }
        }
        var reader = OrderedConsumer(
            js: js, stream: streamName, filter: prefix + keys, startSequence: 1, deliverLastPerSubject: true,
            batch: 256, wait: .seconds(5))
        reader.onIdle = announce
        let task = Task { [reader] in
            do {
                for try await message in reader {
                    continuation.yield(
                        .entry(entry(message.subject, message.payload, message.headers, message.metadata)))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func latestPerKey() async throws -> [KeyValueEntry] {
        try await read(filter: prefix + ">", deliver: .lastPerSubject)
    }

    /// Reads through an ephemeral consumer everything it has pending.
    private func read(filter: String, deliver: ConsumerConfig.DeliverPolicy) async throws -> [KeyValueEntry] {
        let consumer = try await js.addConsumer(
            streamName,
            ConsumerConfig(
                deliverPolicy: deliver, ackPolicy: ConsumerConfig.AckPolicy.none, filterSubject: filter,
                inactiveThreshold: .seconds(30)))
        var entries: [KeyValueEntry] = []
        var remaining = consumer.pending
        do {
            while remaining > 0 {
                let batch = try await js.fetch(streamName, consumer.name, batch: Int(min(remaining, 256)))
                guard !batch.isEmpty else { break }
                for message in batch {
                    entries.append(entry(message.subject, message.payload, message.headers, message.metadata))
                    remaining = message.metadata.pending
                }
            }
        } catch {
            try? await js.deleteConsumer(streamName, consumer.name)
            throw error
        }
        try? await js.deleteConsumer(streamName, consumer.name)
        return entries
    }

    private func entry(_ key: String, includingDeletions: Bool) async throws -> KeyValueEntry? {
        let stored: StoredMessage
        do {
            stored =
                direct
                ? try await js.directLastMessage(streamName, subject: try subject(key))
                : try await js.lastMessage(streamName, subject: try subject(key))
        } catch let error as JetStreamError where error.errorCode == JetStreamError.Code.messageNotFound {
            return nil
        }
        let found = KeyValueEntry(
            bucket: bucket, key: key, value: stored.payload, revision: stored.sequence,
            operation: Self.operation(stored.headers))
        return includingDeletions || found.operation == .put ? found : nil
    }

    private func entry(
        _ subject: String, _ value: [UInt8], _ headers: NATSHeaders?, _ metadata: JetStreamMetadata
    )
        -> KeyValueEntry
    {
        KeyValueEntry(
            bucket: bucket, key: String(subject.dropFirst(prefix.count)), value: value,
            revision: metadata.streamSequence, operation: Self.operation(headers))
    }

    static func operation(_ headers: NATSHeaders?) -> KeyValueEntry.Operation {
        headers?[operationHeader].flatMap(KeyValueEntry.Operation.init(rawValue:)) ?? .put
    }

    /// `$KV.<bucket>.<key>`; keys are `[-/_=.a-zA-Z0-9]+`, not starting or ending with `.`.
    func subject(_ key: String) throws -> String {
        let allowed = key.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || "-/_=.".utf8.contains(byte)
        }
        guard !key.isEmpty, allowed, !key.hasPrefix("."), !key.hasSuffix(".") else {
            throw NATSError(.invalidArgument, "\(key.debugDescription) is not a valid key")
        }
        return prefix + key
    }
}

extension JetStream {
    /// Creates a key-value bucket (or returns the existing one of the same settings).
    public func createKeyValue(_ config: KeyValueConfig) async throws -> KeyValue {
        guard !config.bucket.isEmpty,
            config.bucket.utf8.allSatisfy({ byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
                    || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            })
        else {
            throw NATSError(.invalidArgument, "\(config.bucket.debugDescription) is not a valid bucket name")
        }
        guard (1...64).contains(config.history) else {
            throw NATSError(.invalidArgument, "history must be from 1 to 64, not \(config.history)")
        }
        var stream = StreamConfig(
            name: "KV_\(config.bucket)", subjects: ["$KV.\(config.bucket).>"], storage: config.storage,
            maxBytes: config.maxBytes, maxAge: config.ttl, discard: .new, replicas: config.replicas,
            duplicateWindow: config.ttl.map { min($0, .seconds(120)) }, allowDirect: true,
            description: config.description)
        stream.maxMessagesPerSubject = Int64(config.history)
        stream.maxMessageSize = config.maxValueSize
        stream.allowRollup = true
        stream.denyDelete = true
        let info = try await addStream(stream)
        return KeyValue(bucket: config.bucket, js: self, direct: info.config.allowDirect == true)
    }

    /// An existing bucket; a ``JetStreamError`` (stream not found) when there is none.
    public func keyValue(_ bucket: String) async throws -> KeyValue {
        let info = try await streamInfo("KV_\(bucket)")
        return KeyValue(bucket: bucket, js: self, direct: info.config.allowDirect == true)
    }

    /// Deletes the bucket and every value in it.
    public func deleteKeyValue(_ bucket: String) async throws {
        try await deleteStream("KV_\(bucket)")
    }
}
