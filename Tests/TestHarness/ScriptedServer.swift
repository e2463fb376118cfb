import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A one-connection TCP server on 127.0.0.1 that plays a script, for what a real
/// nats-server never does: sending malformed frames. It greets like a NATS server (INFO),
/// answers the client's handshake PING with PONG, then sends `afterHandshake` verbatim.
public final class ScriptedServer: Sendable {
    public let port: Int
    public var url: String { "nats://127.0.0.1:\(port)" }
    private let listener: Int32

    public init(
        afterHandshake: [UInt8],
        info: String =
            #"{"server_id":"SCRIPTED","version":"2.9.10","proto":1,"headers":true,"max_payload":1048576}"#
    ) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket failed") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 1) == 0 else {
            close(fd)
            throw HarnessError("bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        let greeting = Array("INFO \(info)\r\n".utf8)
        Thread.detachNewThread {
            Self.serve(listener: fd, greeting: greeting, script: afterHandshake)
        }
    }

    deinit { close(listener) }

    private static func serve(listener: Int32, greeting: [UInt8], script: [UInt8]) {
        let client = accept(listener, nil, nil)
        guard client >= 0 else { return }
        defer { close(client) }
        _ = greeting.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        // Read until the handshake PING.
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: received, as: UTF8.self).contains("PING\r\n") {
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            received += buffer[0..<n]
        }
        let reply = Array("PONG\r\n".utf8) + script
        _ = reply.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        // Keep the socket open until the client hangs up, so the client's reaction is to
        // what it parsed, not to the end of the stream.
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
        }
    }
}
