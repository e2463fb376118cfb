import Contracts
import MongoStore
import NATSWire
import ServiceRuntime

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `auth.events.registered`, written into the new user's own document (`pending_event`) by the
/// insert that creates it: a store without multi-document transactions still never has the
/// user without its event or the event without the user. The relay publishes the event and
/// removes the field. The event carries the user's id, name, email and roles: never the
/// password hash, never a token.
enum UserEvents {
    static let field = "pending_event"
    static let registeredSubject = "auth.events.registered"

    /// Who asked for the change.
    struct Origin: Sendable {
        var requestID: String
    }

    static func registered(
        id: String, username: String, email: String, roles: [String], createdAt: Date, origin: Origin
    ) -> MongoValue {
        let eventID = UUID().uuidString.lowercased()
        let time = timestamp(createdAt)
        let document = JSONValue.object([
            ("event_id", .string(eventID)), ("type", .string(registeredSubject)),
            ("occurred_at", .string(time)), ("aggregate_id", .string(id)), ("version", .number("1")),
            ("request_id", .string(origin.requestID)),
            (
                "data",
                .object([
                    ("id", .string(id)), ("username", .string(username)), ("email", .string(email)),
                    ("roles", .array(roles.map(JSONValue.string))), ("created_at", .string(time)),
                ])
            ),
        ])
        return .document([
            "event_id": .string(eventID), "subject": .string(registeredSubject),
            "document": .string(String(decoding: document.json, as: UTF8.self)),
        ])
    }

    /// UTC with milliseconds and `Z`, as the data services write it.
    private static func timestamp(_ date: Date) -> String {
        date.formatted(
            .iso8601.year().month().day().dateTimeSeparator(.standard).time(includingFractionalSeconds: true)
                .timeZone(separator: .omitted)
        )
    }
}

/// The users collection as the relay's source. The lease is a document in
/// `event_relay_leases` that the holder renews; a replica takes it over once the holder has
/// not renewed it for ten seconds.
struct MongoEventSource: EventSource {
    let users: MongoCollection
    let leases: MongoCollection
    let settings: EventSettings
    let service = "auth"
    /// This process, as the lease's holder.
    let instance = UUID().uuidString

    func prepare() async throws {
        // Finds pending events without scanning every user.
        try await users.createIndex(
            name: "pending_events", keys: ["\(UserEvents.field).event_id": .int(1)])
    }

    func holdsLease() async throws -> Bool {
        let now = Date()
        do {
            let lease = try await leases.findOneAndUpdate(
                [
                    "_id": .string(service),
                    "$or": .array([
                        .document(["holder": .string(instance)]),
                        .document(["expires": .document(["$lt": .date(now)])]),
                    ]),
                ],
                [
                    "$set": .document([
                        "holder": .string(instance), "expires": .date(now.addingTimeInterval(10)),
                    ])
                ],
                upsert: true)
            return lease?["holder"]?.string == instance
        } catch let error as MongoError where error.kind == .duplicateKey {
            return false  // another instance holds it (the upsert met its document)
        }
    }

    func pending(limit: Int) async throws -> [PendingEvent] {
        let documents = try await users.find(
            ["\(UserEvents.field).event_id": .document(["$gt": .string("")])], sort: ["created_at": .int(1)],
            limit: limit)
        return documents.compactMap { user in
            guard let id = user["_id"]?.objectID, let event = user[UserEvents.field]?.document,
                let eventID = event["event_id"]?.string, let subject = event["subject"]?.string,
                let document = event["document"]?.string
            else { return nil }
            return PendingEvent(
                reference: id, subject: subject, eventID: eventID, document: Array(document.utf8))
        }
    }

    func published(_ events: [PendingEvent]) async throws {
        for event in events {
            _ = try await users.updateOne(
                ["_id": .objectID(event.reference), "\(UserEvents.field).event_id": .string(event.eventID)],
                ["$unset": .document([UserEvents.field: .string("")])])
        }
    }
}
