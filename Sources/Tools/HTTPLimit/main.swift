import Foundation
import Hummingbird
import NATSWire

/// The HTTP hop alone: a Hummingbird 2 app, built from the same package versions as the
/// gateway, that answers every GET with a fixed JSON body of `BODY_BYTES` bytes and does no
/// other work. `scripts/bench-gateway.sh` runs it beside the system to print how much of
/// this limit the end-to-end path reaches (`ratio=`).
///
/// With `NATS_URL`, the HTTP hop and one NATS request: every GET sends `NATS_PAYLOAD` to
/// `NATS_SUBJECT` and answers with the reply, and nothing else (no authentication, no
/// validation, no headers): what the gateway's own work is measured against.
///   HTTP_PORT (8090)  BODY_BYTES (276)
///   NATS_URL  NATS_NKEY_SEED_FILE  NATS_INBOX_PREFIX (_INBOX)
///   NATS_SUBJECT (products.findOneProduct)  NATS_PAYLOAD ({"product_id":1})
let environment = ProcessInfo.processInfo.environment
let port = environment["HTTP_PORT"].flatMap(Int.init) ?? 8090
let size = max(2, environment["BODY_BYTES"].flatMap(Int.init) ?? 276)
// `{"x":"xxx…"}` padded to exactly `size` bytes.
let padding = max(0, size - 8)
let body = ByteBuffer(string: #"{"x":""# + String(repeating: "x", count: padding) + #""}"#)

let router = Router()
if let url = environment["NATS_URL"] {
    var options = NATSOptions(servers: [url])
    options.inboxPrefix = environment["NATS_INBOX_PREFIX"] ?? options.inboxPrefix
    let nats: NATSClient
    do {
        if let seedFile = environment["NATS_NKEY_SEED_FILE"] {
            options.nkeySeed = try String(contentsOfFile: seedFile, encoding: .utf8)
        }
        nats = try await NATSClient.connect(options)
    } catch {
        FileHandle.standardError.write(Data("cannot connect to NATS at \(url): \(error)\n".utf8))
        exit(1)
    }
    let subject = environment["NATS_SUBJECT"] ?? "products.findOneProduct"
    let payload = Array((environment["NATS_PAYLOAD"] ?? #"{"product_id":1}"#).utf8)
    router.get("**") { _, _ in
        let reply = try await nats.request(payload, to: subject)
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.payload)))
    }
} else {
    router.get("**") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: body))
    }
}
let app = Application(
    router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "limit"),
    onServerRunning: { _ in
        FileHandle.standardError.write(Data("service ready\n".utf8))
    })
try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
