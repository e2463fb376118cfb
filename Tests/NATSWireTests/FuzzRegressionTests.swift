import Foundation
@_spi(Fuzzing) import NATSWire
import Testing

/// Replays the fuzzer's seeds and every input it ever found a problem with (scripts/fuzz.sh
/// writes them to .state/fuzz/; they are kept in FuzzRegressions/), through the same entry
/// point the fuzzer uses.
@Suite("Fuzz inputs replayed")
struct FuzzRegressionTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    static func files(_ folder: String) -> [URL] {
        let url = directory.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map {
            url.appendingPathComponent($0)
        }
    }

    @Test func seedsParseToOperations() throws {
        let seeds = Self.files("FuzzSeeds")
        #expect(seeds.count >= 4)
        for file in seeds {
            let operations = ParserFuzzing.run(Array(try Data(contentsOf: file)))
            #expect(operations >= 2, "\(file.lastPathComponent) gave \(operations) operations")
        }
    }

    @Test func regressionsNoLongerCrash() throws {
        for file in Self.files("FuzzRegressions") {
            // Reaching the next line is the test: these inputs once crashed the parser.
            _ = ParserFuzzing.run(Array(try Data(contentsOf: file)))
        }
    }
}
