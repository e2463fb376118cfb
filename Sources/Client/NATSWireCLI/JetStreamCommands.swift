#if Server
    import ArgumentParser
    #if canImport(FoundationEssentials)
        import FoundationEssentials
    #else
        import Foundation
    #endif
    import NATSWire

    /// Runs `body` with JetStream on a fresh connection; API errors become clear messages.
    func withJetStream<T>(_ server: ServerOptions, name: String, _ body: (JetStream) async throws -> T)
        async throws -> T
    {
        let nats = try await server.connect(name: name)
        do {
            let result = try await body(nats.jetStream())
            await nats.close()
            return result
        } catch let error as JetStreamError {
            await nats.close()
            throw CommandFailure("\(error.description) (code \(error.code), err_code \(error.errorCode))")
        } catch {
            await nats.close()
            throw error
        }
    }

    /// A command that could not do its work: printed as `Error: …`, exit status 1, no usage
    /// text (the command line itself was fine).
    struct CommandFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    extension StreamConfig.Storage: ExpressibleByArgument, CaseIterable {
        public static let allCases: [Self] = [.file, .memory]
    }
    extension StreamConfig.Retention: ExpressibleByArgument, CaseIterable {
        public static let allCases: [Self] = [.limits, .interest, .workqueue]
    }
    extension ConsumerConfig.DeliverPolicy: ExpressibleByArgument, CaseIterable {
        public static let allCases: [Self] = [.all, .last, .new, .lastPerSubject]
    }
    extension ConsumerConfig.AckPolicy: ExpressibleByArgument, CaseIterable {
        public static let allCases: [Self] = [.explicit, .all, .none]
    }

    /// Seconds as a `Duration`, for options given in seconds.
    func seconds(_ value: Double?) -> Duration? {
        value.map { .milliseconds(Int64(($0 * 1000).rounded())) }
    }

    /// `natswire stream ...`
    struct StreamCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stream", abstract: "Manage JetStream streams.",
            subcommands: [Add.self, Info.self, List.self, Remove.self, Purge.self, Get.self, Follow.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a stream.")
            @OptionGroup var server: ServerOptions
            @Argument var name: String
            @Option(name: .long, help: "A subject the stream captures (repeatable).") var subject: [String] =
                []
            @Option(name: .long, help: "Where messages are kept.") var storage = StreamConfig.Storage.file
            @Option(name: .long, help: "When messages go.") var retention = StreamConfig.Retention.limits
            @Option(name: .customLong("max-msgs"), help: "Most messages kept.") var maxMessages: Int64?
            @Option(name: .customLong("max-bytes"), help: "Most bytes kept.") var maxBytes: Int64?
            @Option(name: .customLong("max-age"), help: "Seconds a message is kept.") var maxAge: Double?
            @Option(name: .long, help: "Seconds in which a repeated Nats-Msg-Id is a duplicate.")
            var dupeWindow: Double?
            @Option(name: .long, help: "Replicas.") var replicas: Int?
            @Flag(name: .customLong("allow-direct"), help: "Let any replica answer direct gets.")
            var allowDirect =
                false

            func run() async throws {
                let config = StreamConfig(
                    name: name, subjects: subject.isEmpty ? nil : subject, retention: retention,
                    storage: storage,
                    maxMessages: maxMessages, maxBytes: maxBytes, maxAge: seconds(maxAge), replicas: replicas,
                    duplicateWindow: seconds(dupeWindow), allowDirect: allowDirect ? true : nil)
                let info = try await withJetStream(server, name: "natswire stream add") {
                    try await $0.addStream(config)
                }
                print(describe(info))
            }
        }

        struct Info: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show a stream's configuration and state.")
            @OptionGroup var server: ServerOptions
            @Argument var name: String

            func run() async throws {
                print(
                    describe(
                        try await withJetStream(server, name: "natswire stream info") {
                            try await $0.streamInfo(name)
                        }))
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the streams.")
            @OptionGroup var server: ServerOptions
            @Option(name: .long, help: "Only streams capturing this subject.") var subject: String?

            func run() async throws {
                let names = try await withJetStream(server, name: "natswire stream ls") {
                    try await $0.streamNames(subject: subject)
                }
                if names.isEmpty { print("(no streams)") }
                for name in names.sorted() { print(name) }
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete a stream.")
            @OptionGroup var server: ServerOptions
            @Argument var name: String

            func run() async throws {
                try await withJetStream(server, name: "natswire stream rm") {
                    try await $0.deleteStream(name)
                }
                print("deleted stream \(name)")
            }
        }

        struct Purge: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove messages from a stream.")
            @OptionGroup var server: ServerOptions
            @Argument var name: String
            @Option(name: .long, help: "Only messages on this subject.") var subject: String?
            @Option(name: .long, help: "Keep the newest N.") var keep: UInt64?
            @Option(name: .long, help: "Only messages below this sequence.") var sequence: UInt64?

            func run() async throws {
                let purged = try await withJetStream(server, name: "natswire stream purge") {
                    try await $0.purgeStream(name, subject: subject, upToSequence: sequence, keep: keep)
                }
                print("purged \(purged) message\(purged == 1 ? "" : "s") from \(name)")
            }
        }

        struct Get: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print a stored message, by sequence or the last on a subject.")
            @OptionGroup var server: ServerOptions
            @Argument var name: String
            @Option(name: .long, help: "The message's sequence.") var sequence: UInt64?
            @Option(name: .customLong("last-for"), help: "The last message on this subject.") var lastFor:
                String?
            @Flag(help: "Read with direct get (any replica answers; the stream must allow it).") var direct =
                false

            func run() async throws {
                let message = try await withJetStream(server, name: "natswire stream get") { js in
                    if let sequence {
                        return direct
                            ? try await js.directMessage(name, sequence: sequence)
                            : try await js.message(name, sequence: sequence)
                    }
                    guard let lastFor else { throw ValidationError("give --sequence or --last-for") }
                    return direct
                        ? try await js.directLastMessage(name, subject: lastFor)
                        : try await js.lastMessage(name, subject: lastFor)
                }
                var line = "#\(message.sequence) [\(message.subject)] \(message.time)"
                for field in message.headers ?? NATSHeaders() { line += " \(field.name)=\(field.value)" }
                print(line)
                print(String(decoding: message.payload, as: UTF8.self))
            }
        }

        struct Follow: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Print a stream's messages in order, from a sequence on, then new ones as they come.")
            @OptionGroup var server: ServerOptions
            @Argument var name: String
            @Option(name: .long, help: "Only messages on this subject.") var filter: String?
            @Option(name: .long, help: "The first stream sequence to print.") var from: UInt64 = 1
            @Option(name: .long, help: "Exit after this many messages.") var count: Int?

            func run() async throws {
                let nats = try await server.connect(name: "natswire stream follow")
                var printed = 0
                for try await message in nats.jetStream().orderedConsumer(
                    name, filter: filter, startSequence: from)
                {
                    print(
                        "#\(message.metadata.streamSequence) [\(message.subject)] \(String(decoding: message.payload, as: UTF8.self))"
                    )
                    TextOutput.flush()
                    printed += 1
                    if let count, printed >= count { break }
                }
                await nats.close()
            }
        }

        static func describe(_ info: StreamInfo) -> String {
            let config = info.config
            let state = info.state
            return """
                stream \(config.name): subjects \((config.subjects ?? []).joined(separator: ", ")); \
                storage \(config.storage?.rawValue ?? "-"), retention \(config.retention?.rawValue ?? "-")
                messages \(state.messages), bytes \(state.bytes), sequences \(state.firstSequence)...\(state.lastSequence), \
                consumers \(state.consumerCount)
                """
        }
    }

    /// `natswire consumer ...`
    struct ConsumerCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "consumer", abstract: "Manage JetStream consumers.",
            subcommands: [Add.self, Info.self, List.self, Remove.self, Next.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a durable pull consumer.")
            @OptionGroup var server: ServerOptions
            @Argument var stream: String
            @Argument var name: String
            @Option(name: .long, help: "Only messages on this subject.") var filter: String?
            @Option(name: .long, help: "Where in the stream it starts.") var deliver = ConsumerConfig
                .DeliverPolicy.all
            @Option(name: .long, help: "How messages are acknowledged.") var ack = ConsumerConfig.AckPolicy
                .explicit
            @Option(
                name: .customLong("ack-wait"), help: "Seconds before an unacknowledged message comes again.")
            var ackWait: Double?
            @Option(name: .customLong("max-deliver"), help: "Most deliveries of one message.") var maxDeliver:
                Int?

            func run() async throws {
                let config = ConsumerConfig(
                    durableName: name, deliverPolicy: deliver, ackPolicy: ack, ackWait: seconds(ackWait),
                    maxDeliver: maxDeliver, filterSubject: filter)
                let info = try await withJetStream(server, name: "natswire consumer add") {
                    try await $0.addConsumer(stream, config)
                }
                print(ConsumerCommand.describe(info))
            }
        }

        struct Info: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show where a consumer stands.")
            @OptionGroup var server: ServerOptions
            @Argument var stream: String
            @Argument var name: String

            func run() async throws {
                let info = try await withJetStream(server, name: "natswire consumer info") {
                    try await $0.consumerInfo(stream, name)
                }
                print(ConsumerCommand.describe(info))
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "ls", abstract: "List a stream's consumers.")
            @OptionGroup var server: ServerOptions
            @Argument var stream: String

            func run() async throws {
                let names = try await withJetStream(server, name: "natswire consumer ls") {
                    try await $0.consumerNames(stream)
                }
                if names.isEmpty { print("(no consumers)") }
                for name in names.sorted() { print(name) }
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete a consumer.")
            @OptionGroup var server: ServerOptions
            @Argument var stream: String
            @Argument var name: String

            func run() async throws {
                try await withJetStream(server, name: "natswire consumer rm") {
                    try await $0.deleteConsumer(stream, name)
                }
                print("deleted consumer \(name) of \(stream)")
            }
        }

        struct Next: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Fetch the next messages of a pull consumer, print and acknowledge them.")
            @OptionGroup var server: ServerOptions
            @Argument var stream: String
            @Argument var name: String
            @Option(name: .long, help: "How many.") var count = 1
            @Option(name: .long, help: "Seconds to wait for them.") var wait: Double = 5
            @Flag(name: .customLong("no-ack"), help: "Do not acknowledge.") var noAck = false

            func run() async throws {
                let messages = try await withJetStream(server, name: "natswire consumer next") { js in
                    let fetched = try await js.fetch(
                        stream, name, batch: count, expires: seconds(wait) ?? .seconds(5))
                    for message in fetched where !noAck { try await message.doubleAck() }
                    return fetched
                }
                for message in messages {
                    let meta = message.metadata
                    print(
                        "#\(meta.streamSequence) [\(message.subject)] delivered \(meta.delivered), pending \(meta.pending)"
                    )
                    print(String(decoding: message.payload, as: UTF8.self))
                }
                if messages.isEmpty { print("(no messages)") }
            }
        }

        static func describe(_ info: ConsumerInfo) -> String {
            "consumer \(info.name) of \(info.stream): pending \(info.pending), waiting for ack \(info.ackPending), "
                + "redelivered \(info.redelivered)"
        }
    }

    /// `natswire js pub`: publish to a stream and wait for its acknowledgement.
    struct JetStreamCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "js", abstract: "JetStream publishing.", subcommands: [Pub.self])

        struct Pub: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Publish to a stream and print its acknowledgement.")
            @OptionGroup var server: ServerOptions
            @Argument var subject: String
            @Argument var data: String
            @Option(name: .customLong("msg-id"), help: "Nats-Msg-Id, for de-duplication.") var messageID:
                String?
            @Option(name: .customLong("expect-last-seq"), help: "Only if the stream's last sequence is this.")
            var expectedLastSequence: UInt64?
            @Option(name: .long, help: "A header, KEY:VALUE (repeatable).") var header: [String] = []

            func run() async throws {
                let headers = try parseHeaders(header)
                let ack = try await withJetStream(server, name: "natswire js pub") {
                    try await $0.publish(
                        Array(data.utf8), to: subject, headers: headers,
                        options: .init(messageID: messageID, expectedLastSequence: expectedLastSequence))
                }
                print(
                    "stored in \(ack.stream) as #\(ack.sequence)\(ack.duplicate ? " (duplicate, not stored again)" : "")"
                )
            }
        }
    }

    /// `natswire kv ...`
    struct KeyValueCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kv", abstract: "Key-value buckets.",
            subcommands: [Add.self, Put.self, Get.self, Delete.self, History.self, List.self, Watch.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a bucket.")
            @OptionGroup var server: ServerOptions
            @Argument var bucket: String
            @Option(name: .long, help: "Values kept per key (1-64).") var history = 1
            @Option(name: .long, help: "Seconds a value lives.") var ttl: Double?
            @Option(name: .long, help: "Where values are kept.") var storage = StreamConfig.Storage.file

            func run() async throws {
                _ = try await withJetStream(server, name: "natswire kv add") {
                    try await $0.createKeyValue(
                        KeyValueConfig(bucket: bucket, history: history, ttl: seconds(ttl), storage: storage))
                }
                print("bucket \(bucket) ready")
            }
        }

        struct Put: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Set a key.")
            @OptionGroup var server: ServerOptions
            @Argument var bucket: String
            @Argument var key: String
            @Argument var value: String

            func run() async throws {
                let revision = try await withJetStream(server, name: "natswire kv put") {
                    try await $0.keyValue(bucket).put(key, Array(value.utf8))
                }
                print("\(key) revision \(revision)")
            }
        }

        struct Get: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print a key's value.")
            @OptionGroup var server: ServerOptions
            @Argument var bucket: String
            @Argument var key: String

            func run() async throws {
                let entry = try await withJetStream(server, name: "natswire kv get") {
                    try await $0.keyValue(bucket).get(key)
                }
                guard let entry else { throw CommandFailure("\(key) has no value in \(bucket)") }
                print(String(decoding: entry.value, as: UTF8.self))
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "del", abstract: "Delete a key.")
            @OptionGroup var server: ServerOptions
            @Argument var bucket: String
            @Argument var key: String
            @Flag(name: .long, help: "Remove its history too.") var purge = false

            func run() async throws {
                try await withJetStream(server, name: "natswire kv del") { js in
                    let kv = try await js.keyValue(bucket)
                    if purge { try await kv.purge(key) } else { try await kv.delete(key) }
                }
                print("\(purge ? "purged" : "deleted") \(key)")
            }
        }

        struct History: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print every kept value of a key.")
            @OptionGroup var server: ServerOptions
            @Argument var bucket: String
            @Argument var key: String

            func run() async throws {
                let entries = try await withJetStream(server, name: "natswire kv history") {
                    try await $0.keyValue(bucket).history(key)
                }
                for entry in entries {
                    print(
                        "revision \(entry.revision) \(entry.operation.rawValue) \(String(decoding: entry.value, as: UTF8.self))"
                    )
                }
            }
        }

        struct Watch: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print the current values, then every change as it happens.")
            @OptionGroup var server: ServerOptions
            @Argument var bucket: String
            @Option(name: .long, help: "Keys to watch (a subject pattern, default all).") var keys = ">"
            @Option(name: .long, help: "Exit after this many changes (after the current values).") var count:
                Int?

            func run() async throws {
                let nats = try await server.connect(name: "natswire kv watch")
                let kv: KeyValue
                do {
                    kv = try await nats.jetStream().keyValue(bucket)
                } catch let error as JetStreamError {
                    await nats.close()
                    throw CommandFailure(
                        "\(error.description) (code \(error.code), err_code \(error.errorCode))")
                }
                var changes = 0
                var live = false
                for try await event in kv.watch(keys) {
                    switch event {
                    case .initialValuesDone:
                        live = true
                        print("-- current values above, changes below --")
                    case .entry(let entry):
                        print(
                            "\(entry.key) \(entry.operation.rawValue) revision \(entry.revision) \(String(decoding: entry.value, as: UTF8.self))"
                        )
                        if live { changes += 1 }
                    }
                    TextOutput.flush()
                    if let count, live, changes >= count { break }
                }
                await nats.close()
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "ls", abstract: "List a bucket's keys.")
            @OptionGroup var server: ServerOptions
            @Argument var bucket: String

            func run() async throws {
                let keys = try await withJetStream(server, name: "natswire kv ls") {
                    try await $0.keyValue(bucket).keys()
                }
                if keys.isEmpty { print("(no keys)") }
                for key in keys { print(key) }
            }
        }
    }

    /// `natswire object ...`
    struct ObjectCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "object", abstract: "Object-store buckets.",
            subcommands: [Add.self, Put.self, Get.self, List.self, Remove.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a bucket.")
            @OptionGroup var server: ServerOptions
            @Argument var bucket: String
            @Option(name: .long, help: "Where objects are kept.") var storage = StreamConfig.Storage.file

            func run() async throws {
                _ = try await withJetStream(server, name: "natswire object add") {
                    try await $0.createObjectStore(bucket, storage: storage)
                }
                print("bucket \(bucket) ready")
            }
        }

        struct Put: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Store a file as an object.")
            @OptionGroup var server: ServerOptions
            @Argument var bucket: String
            @Argument(help: "The file to store.") var file: String
            @Option(name: .long, help: "The object's name (default: the file's name).") var name: String?

            func run() async throws {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw CommandFailure("cannot read \(file)")
                }
                let objectName = name ?? String(file.split(separator: "/").last ?? Substring(file))
                let info = try await withJetStream(server, name: "natswire object put") {
                    try await $0.objectStore(bucket).put(objectName, Array(data))
                }
                print("\(info.name): \(info.size) bytes in \(info.chunks) chunks, \(info.digest)")
            }
        }

        struct Get: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Write an object to a file (checked).")
            @OptionGroup var server: ServerOptions
            @Argument var bucket: String
            @Argument var name: String
            @Option(name: .long, help: "Where to write it (default: its name in this folder).") var out:
                String?

            func run() async throws {
                let data = try await withJetStream(server, name: "natswire object get") {
                    try await $0.objectStore(bucket).get(name)
                }
                let path = out ?? String(name.split(separator: "/").last ?? Substring(name))
                guard FileManager.default.createFile(atPath: path, contents: Data(data)) else {
                    throw CommandFailure("cannot write \(path)")
                }
                print("wrote \(data.count) bytes to \(path)")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "ls", abstract: "List a bucket's objects.")
            @OptionGroup var server: ServerOptions
            @Argument var bucket: String

            func run() async throws {
                let infos = try await withJetStream(server, name: "natswire object ls") {
                    try await $0.objectStore(bucket).list()
                }
                if infos.isEmpty { print("(no objects)") }
                for info in infos { print("\(info.name)\t\(info.size)\t\(info.modified ?? "")") }
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete an object.")
            @OptionGroup var server: ServerOptions
            @Argument var bucket: String
            @Argument var name: String

            func run() async throws {
                try await withJetStream(server, name: "natswire object rm") {
                    try await $0.objectStore(bucket).delete(name)
                }
                print("deleted \(name)")
            }
        }
    }
#endif
