import COpenSSL

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// An object's description, as the object-store ADR stores it on `$O.<bucket>.M.<name>`.
public struct ObjectInfo: Codable, Sendable, Equatable {
    /// The object's name.
    public var name: String
    /// The bucket it is in.
    public var bucket: String
    /// The id of this version's chunks (`$O.<bucket>.C.<nuid>`).
    public var nuid: String
    /// Its size in bytes.
    public var size: UInt64
    /// The chunks it was cut into.
    public var chunks: Int
    /// `SHA-256=<base64url>` of the whole object.
    public var digest: String
    /// When it was stored (RFC 3339), as the server stamped its description.
    public var modified: String?
    /// `true` for a deleted object (its description stays as a marker).
    public var deleted: Bool?
    /// A description for people.
    public var description: String?

    enum CodingKeys: String, CodingKey {
        case name, bucket, nuid, size, chunks, digest, deleted, description
        case modified = "mtime"
    }
}

/// An object-store bucket over JetStream (stream `OBJ_<bucket>`): objects of any size cut
/// into chunks, their SHA-256 checked on every read.
public struct ObjectStore: Sendable {
    /// The bucket's name.
    public let bucket: String
    let js: JetStream
    /// Bytes per chunk (the ADR's default, 128 KiB).
    public var chunkSize = 128 * 1024

    var streamName: String { "OBJ_\(bucket)" }

    /// Stores `data` under `name`, replacing an earlier version; returns its description.
    @discardableResult
    public func put(_ name: String, _ data: [UInt8], description: String? = nil) async throws -> ObjectInfo {
        let metaSubject = try self.metaSubject(name)
        let previous = try? await info(name, includingDeleted: true)
        let nuid = NUID.generate()
        let chunkSubject = "$O.\(bucket).C.\(nuid)"
        let publisher = try js.asyncPublisher(maxPending: 64)
        defer { publisher.close() }
        var digest = SHA256Digest()
        var chunks = 0
        var futures: [PubAckFuture] = []
        var offset = 0
        while offset < data.count {
            let end = Swift.min(offset + chunkSize, data.count)
            let chunk = Array(data[offset..<end])
            digest.update(chunk)
            futures.append(try await publisher.publish(chunk, to: chunkSubject))
            chunks += 1
            offset = end
        }
        try await publisher.complete()
        for future in futures { _ = try await future.value }
        let info = ObjectInfo(
            name: name, bucket: bucket, nuid: nuid, size: UInt64(data.count), chunks: chunks,
            digest: "SHA-256=" + Self.base64URL(digest.finish()), modified: nil, deleted: nil,
            description: description)
        var headers = NATSHeaders()
        headers.set("sub", for: "Nats-Rollup")
        _ = try await js.publish(
            Array(try JetStreamJSON.encoder.encode(info)), to: metaSubject, headers: headers)
        // The earlier version's chunks are no longer referenced.
        if let previous, previous.nuid != nuid {
            _ = try? await js.purgeStream(streamName, subject: "$O.\(bucket).C.\(previous.nuid)")
        }
        return try await self.info(name)
    }

    /// The object's bytes, checked against its digest.
    public func get(_ name: String) async throws -> [UInt8] {
        let info = try await self.info(name)
        var data: [UInt8] = []
        data.reserveCapacity(Int(info.size))
        var digest = SHA256Digest()
        if info.chunks > 0 {
            let reader = js.orderedConsumer(streamName, filter: "$O.\(bucket).C.\(info.nuid)", batch: 64)
            var received = 0
            for try await message in reader {
                data += message.payload
                digest.update(message.payload)
                received += 1
                if received == info.chunks { break }
            }
        }
        let actual = "SHA-256=" + Self.base64URL(digest.finish())
        guard data.count == Int(info.size), actual == info.digest else {
            throw NATSError(
                .protocolViolation,
                "object \(name) is damaged: \(data.count) of \(info.size) bytes, digest \(actual), expected \(info.digest)"
            )
        }
        return data
    }

    /// The object's description; a ``JetStreamError`` (message not found) when there is none.
    public func info(_ name: String) async throws -> ObjectInfo {
        try await info(name, includingDeleted: false)
    }

    func info(_ name: String, includingDeleted: Bool) async throws -> ObjectInfo {
        let stored = try await js.lastMessage(streamName, subject: try metaSubject(name))
        var info = try JetStreamJSON.decoder.decode(ObjectInfo.self, from: Data(stored.payload))
        if info.modified == nil { info.modified = stored.time }
        if info.deleted == true && !includingDeleted {
            throw JetStreamError(
                code: 404, errorCode: JetStreamError.Code.messageNotFound,
                description: "object \(name) was deleted")
        }
        return info
    }

    /// Deletes the object: its chunks go, a deleted description stays.
    public func delete(_ name: String) async throws {
        var info = try await self.info(name)
        info.deleted = true
        info.size = 0
        info.chunks = 0
        info.digest = "SHA-256=" + Self.base64URL(SHA256Digest().finish())
        var headers = NATSHeaders()
        headers.set("sub", for: "Nats-Rollup")
        _ = try await js.publish(
            Array(try JetStreamJSON.encoder.encode(info)), to: try metaSubject(name), headers: headers)
        try await js.purgeStream(streamName, subject: "$O.\(bucket).C.\(info.nuid)")
    }

    /// The objects there are (not deleted), by name.
    public func list() async throws -> [ObjectInfo] {
        let consumer = try await js.addConsumer(
            streamName,
            ConsumerConfig(
                deliverPolicy: .lastPerSubject, ackPolicy: ConsumerConfig.AckPolicy.none,
                filterSubject: "$O.\(bucket).M.>", inactiveThreshold: .seconds(30)))
        var infos: [ObjectInfo] = []
        var remaining = consumer.pending
        while remaining > 0 {
            let batch = try await js.fetch(streamName, consumer.name, batch: Int(Swift.min(remaining, 256)))
            guard !batch.isEmpty else { break }
            for message in batch {
                remaining -= 1
                if let info = try? JetStreamJSON.decoder.decode(ObjectInfo.self, from: Data(message.payload)),
                    info.deleted != true
                {
                    infos.append(info)
                }
            }
        }
        try? await js.deleteConsumer(streamName, consumer.name)
        return infos.sorted { $0.name < $1.name }
    }

    /// `$O.<bucket>.M.<base64url(name)>`: any name fits a subject that way.
    func metaSubject(_ name: String) throws -> String {
        guard !name.isEmpty else { throw NATSError(.invalidArgument, "an object needs a name") }
        return "$O.\(bucket).M." + Self.base64URL(Array(name.utf8))
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacing("+", with: "-").replacing("/", with: "_")
    }
}

/// SHA-256 through OpenSSL's EVP interface, fed piece by piece.
struct SHA256Digest: ~Copyable {
    private let context: OpaquePointer?

    init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
    }

    consuming func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &out, &length)
        return Array(out.prefix(Int(length)))
    }
}

extension JetStream {
    /// Creates an object-store bucket (or returns the existing one of the same settings).
    public func createObjectStore(
        _ bucket: String, storage: StreamConfig.Storage = .file, maxBytes: Int64? = nil,
        description: String? = nil
    ) async throws -> ObjectStore {
        _ = try Self.streamName(bucket)
        var config = StreamConfig(
            name: "OBJ_\(bucket)", subjects: ["$O.\(bucket).C.>", "$O.\(bucket).M.>"], storage: storage,
            maxBytes: maxBytes, discard: .new, allowDirect: true, description: description)
        config.allowRollup = true
        _ = try await addStream(config)
        return ObjectStore(bucket: bucket, js: self)
    }

    /// An existing object-store bucket.
    public func objectStore(_ bucket: String) async throws -> ObjectStore {
        _ = try await streamInfo("OBJ_\(bucket)")
        return ObjectStore(bucket: bucket, js: self)
    }

    /// Deletes the bucket and every object in it.
    public func deleteObjectStore(_ bucket: String) async throws {
        try await deleteStream("OBJ_\(bucket)")
    }
}
