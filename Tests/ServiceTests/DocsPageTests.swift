import Foundation
import TestHarness
import Testing

/// `GET /docs` opened in a real browser (headless Chromium): every operation of the OpenAPI
/// document is on the page, and a try-it request runs against the live system.
@Suite("API docs in a browser", .serialized, .timeLimit(.minutes(5)))
struct DocsPageTests {
    @Test func everyOperationIsListedAndTryItAnswers() async throws {
        try await withFullStack { stack in
            let token = try #require(try await stack.login()["access_token"] as? String)
            let page = try await stack.send("GET", "/docs")
            #expect(page.status == 200)
            #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(page.headers["content-security-policy"]?.contains("default-src 'none'") == true)

            let document = try JSONSerialization.jsonObject(
                with: Data(try await stack.sendText("/openapi.json").utf8))
            let paths = try #require((document as? [String: Any])?["paths"] as? [String: [String: Any]])
            let operationIDs = paths.values.flatMap {
                $0.values.compactMap { ($0 as? [String: Any])?["operationId"] as? String }
            }
            #expect(operationIDs.count >= 20)

            let url = "\(stack.baseString)/docs#try=get_products_id&id=1&token=\(token)"
            let dom = try await Chromium.dumpDOM(url)
            #expect(dom.contains("data-operations=\"\(operationIDs.count)\""), "\(dom.prefix(2000))")
            for id in operationIDs { #expect(dom.contains("data-operation-id=\"\(id)\""), "\(id) missing") }
            // The try-it request ran through the gateway with the token and shows the product.
            #expect(dom.contains("data-status=\"200\""))
            #expect(dom.contains("product_name"))

            let screenshot = try Chromium.artifactsDirectory().appendingPathComponent("docs-page.png")
            try await Chromium.screenshot(url, to: screenshot)
            let size =
                (try? FileManager.default.attributesOfItem(atPath: screenshot.path)[.size] as? Int) ?? 0
            #expect(size > 10_000, "screenshot at \(screenshot.path): \(size) bytes")
        }
    }
}

/// Debian's `chromium`, headless, with a profile of its own for each run.
enum Chromium {
    static func dumpDOM(_ url: String) async throws -> String {
        try await run(["--dump-dom", url])
    }

    static func screenshot(_ url: String, to file: URL) async throws {
        try? FileManager.default.removeItem(at: file)
        _ = try await run(["--screenshot=\(file.path)", "--window-size=1280,1000", url])
    }

    /// Where tests leave files for a person to look at (`.build/test-artifacts`).
    static func artifactsDirectory() throws -> URL {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    private static func run(_ arguments: [String]) async throws -> String {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "chromium-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: profile) }
        // Root (CI) needs --no-sandbox; the virtual time budget lets the page's fetches finish
        // before the DOM is read or the screenshot taken.
        let (status, output) = try await ChildProcess.run(
            "chromium",
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--user-data-dir=\(profile.path)", "--virtual-time-budget=20000",
            ] + arguments, errorsToo: false, timeout: .seconds(120))
        guard status == 0 else { throw HarnessError("chromium exited with \(status): \(output.prefix(500))") }
        return output
    }
}
