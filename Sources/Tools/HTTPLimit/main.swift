import Foundation
import Hummingbird

/// The HTTP hop alone: a Hummingbird 2 app, built from the same package versions as the
/// gateway, that answers every GET with a fixed JSON body of `BODY_BYTES` bytes and does no
/// other work. `scripts/bench-gateway.sh` runs it beside the system to print how much of
/// this limit the end-to-end path reaches (`ratio=`).
///   HTTP_PORT (8090)  BODY_BYTES (276)
let environment = ProcessInfo.processInfo.environment
let port = environment["HTTP_PORT"].flatMap(Int.init) ?? 8090
let size = max(2, environment["BODY_BYTES"].flatMap(Int.init) ?? 276)
// `{"x":"xxx…"}` padded to exactly `size` bytes.
let padding = max(0, size - 8)
let body = ByteBuffer(string: #"{"x":""# + String(repeating: "x", count: padding) + #""}"#)

let router = Router()
router.get("**") { _, _ in
    Response(
        status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: body))
}
let app = Application(
    router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "limit"),
    onServerRunning: { _ in
        FileHandle.standardError.write(Data("service ready\n".utf8))
    })
try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
