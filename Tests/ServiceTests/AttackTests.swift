import Foundation
import TestHarness
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A plain TCP connection to the gateway, for requests URLSession will not send (huge
/// headers, requests left unfinished on purpose).
final class RawHTTPConnection: Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw HarnessError("connect failed: \(errno)")
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 { return }
            offset += n
        }
    }

    /// What the server sends until it closes or goes quiet for the receive timeout; `nil`
    /// when it closed without a byte.
    func readResponse() -> String? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data += buffer[0..<n]
            if let text = String(bytes: data, encoding: .utf8), text.contains("\r\n\r\n"),
                Self.isComplete(text)
            {
                break
            }
        }
        return data.isEmpty ? nil : String(decoding: data, as: UTF8.self)
    }

    /// What the server sends until `marker` appears (or it closes, or goes quiet for the
    /// receive timeout). Blocking: call it off the cooperative pool.
    func read(until marker: String) -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !String(decoding: data, as: UTF8.self).contains(marker) {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Whether the server closed the connection (a read returns end of stream).
    /// Whether the server has closed the connection, without waiting: reads what it sent
    /// (a last response, if any) to the end; an open connection says EAGAIN.
    func isClosedByServer() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    private static func isComplete(_ text: String) -> Bool {
        guard let headerEnd = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<headerEnd.lowerBound].lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return true }
        return text.utf8.count - text[..<headerEnd.upperBound].utf8.count >= length
    }

    static func status(of response: String?) -> Int? {
        guard let response, let line = response.split(separator: "\r\n").first else { return nil }
        let parts = line.split(separator: " ")
        return parts.count >= 2 ? Int(parts[1]) : nil
    }
}

extension FullStack {
    var port: Int { Int(baseString.split(separator: ":").last ?? "") ?? 0 }
}

/// Hostile input against the whole system over HTTP: injection into MongoDB and SQL,
/// oversized requests, slow clients. Token attacks are in GatewayTests.
@Suite("Attacks on the gateway", .serialized, .timeLimit(.minutes(5)))
struct AttackTests {
    @Test func mongoOperatorsInAuthJSONAreRefused() async throws {
        try await withFullStack { stack in
            let email = "victim\(UInt32.random(in: 0...UInt32.max))@example.com"
            let created = try await stack.send(
                "POST", "/auth/register",
                json: ["username": "victim", "email": email, "password": "victim-pass-1"])
            #expect(created.status == 201)
            let attempts: [[String: Any]] = [
                ["email": ["$gt": ""], "password": ["$gt": ""]],
                ["email": email, "password": ["$ne": "wrong"]],
                ["email": ["$regex": ".*"], "password": "victim-pass-1"],
                ["email": email, "password": "x", "$where": "1 == 1"],
            ]
            for attempt in attempts {
                let reply = try await stack.send("POST", "/auth/login", json: attempt)
                #expect(reply.status == 400, "\(attempt) → \(reply.status)")
                #expect(reply.object["access_token"] == nil)
            }
            // Operators spelled inside strings are just text: wrong credentials.
            let asText = try await stack.send(
                "POST", "/auth/login", json: ["email": #"{"$gt": ""}"#, "password": #"{"$ne": null}"#])
            #expect(asText.status == 401)
            let register = try await stack.send(
                "POST", "/auth/register",
                json: ["username": "mallory", "email": ["$gt": ""], "password": "long-enough-1"])
            #expect(register.status == 400)
            #expect((register.object["errors"] as? [String: String])?["email"] != nil)
            // The real password still works: nothing was changed.
            let login = try await stack.send(
                "POST", "/auth/login", json: ["email": email, "password": "victim-pass-1"])
            #expect(login.status == 200)
        }
    }

    @Test func sqlMetacharactersInEveryStringFieldAreStoredLiterally() async throws {
        try await withFullStack { stack in
            let token = try #require(try await stack.login()["access_token"] as? String)
            let evil = #"'; DROP TABLE customers; -- " \ % _ /* */ OR '1'='1"#
            let lengths = [
                "company_name": 40, "contact_name": 30, "contact_title": 30, "address": 60, "city": 15,
                "region": 15, "postal_code": 10, "country": 15, "phone": 24, "fax": 24,
            ]
            var customer: [String: Any] = ["customer_id": "Q\(Int.random(in: 1000...9999))"]
            for (field, length) in lengths { customer[field] = String(evil.prefix(length)) }
            let created = try await stack.send("POST", "/customers", json: customer, token: token)
            #expect(created.status == 201)
            let id = try #require(customer["customer_id"] as? String)
            let fetched = try await stack.send("GET", "/customers/\(id)", token: token)
            for (field, _) in lengths {
                #expect(fetched.object[field] as? String == customer[field] as? String, "\(field)")
            }
            // A search is a literal substring, not SQL: nothing matches the injection.
            let search = try await stack.send(
                "GET", "/customers?search=%25'%20OR%20'1'%3D'1", token: token)
            #expect(search.status == 200 && search.object["total"] as? Int == 0)

            let product = try await stack.send(
                "POST", "/products",
                json: [
                    "product_name": String(evil.prefix(40)), "quantity_per_unit": String(evil.prefix(20)),
                ],
                token: token)
            #expect(product.status == 201)
            #expect(product.object["product_name"] as? String == String(evil.prefix(40)))
            // The tables are all still there.
            #expect(try await stack.send("GET", "/customers?limit=1", token: token).status == 200)
            #expect(try await stack.send("GET", "/products/1", token: token).status == 200)
        }
    }

    @Test func oversizedRequestsAreRefusedAndTheGatewayLivesOn() async throws {
        try await withFullStack { stack in
            let big = String(repeating: "x", count: 2 << 20)
            let body = try await stack.send(
                "POST", "/auth/register", raw: #"{"username":"u","email":"a@b.co","password":""# + big + "\"}"
            )
            #expect(body.status == 413)

            // A 200 KB header, a 200 KB URL and 2,000 headers: refused (4xx) or the
            // connection closed — never a 5xx, never a hang.
            let hugeHeader = try RawHTTPConnection(port: stack.port)
            hugeHeader.send(
                "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 200_000))\r\n\r\n")
            let headerStatus = RawHTTPConnection.status(of: hugeHeader.readResponse())
            #expect(
                headerStatus == nil || (400..<500).contains(headerStatus ?? 0),
                "\(String(describing: headerStatus))")

            let hugeURL = try RawHTTPConnection(port: stack.port)
            hugeURL.send(
                "GET /products/\(String(repeating: "9", count: 200_000)) HTTP/1.1\r\nHost: x\r\n\r\n")
            let urlStatus = RawHTTPConnection.status(of: hugeURL.readResponse())
            #expect(
                urlStatus == nil || (400..<500).contains(urlStatus ?? 0), "\(String(describing: urlStatus))")

            let manyHeaders = try RawHTTPConnection(port: stack.port)
            let headers = (0..<2000).map { "X-H\($0): v\r\n" }.joined()
            manyHeaders.send("GET /health HTTP/1.1\r\nHost: x\r\n\(headers)\r\n")
            let manyStatus = RawHTTPConnection.status(of: manyHeaders.readResponse())
            #expect(manyStatus == nil || manyStatus == 200 || (400..<500).contains(manyStatus ?? 0))

            #expect(try await stack.send("GET", "/health").status == 200)
        }
    }

    @Test func slowClientsDoNotExhaustTheGateway() async throws {
        try await withFullStack(gatewayEnvironment: ["HTTP_IDLE_TIMEOUT_S": "2"]) { stack in
            // 300 clients that start a request and never finish it.
            var stalled: [RawHTTPConnection] = []
            for _ in 0..<300 {
                let connection = try RawHTTPConnection(port: stack.port)
                connection.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                stalled.append(connection)
            }
            // Everyone else is served as usual meanwhile.
            let clock = ContinuousClock()
            let start = clock.now
            for _ in 0..<20 { #expect(try await stack.send("GET", "/health").status == 200) }
            #expect(clock.now - start < .seconds(5))
            // And the stalled connections are closed after the idle timeout, not kept forever.
            var closed = 0
            let allClosed = await eventually(timeout: .seconds(30)) {
                closed = stalled.prefix(20).filter { $0.isClosedByServer() }.count
                return closed == 20
            }
            #expect(allClosed, "\(closed) of 20 stalled connections closed")
            #expect(try await stack.send("GET", "/health").status == 200)
        }
    }
}
