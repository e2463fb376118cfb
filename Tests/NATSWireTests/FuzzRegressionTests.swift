import Foundation
@_spi(Fuzzing) import NATSWire
import Testing

/// Replays the fuzzer's seeds, the minimised corpus of a fuzz run (FuzzCorpus/) and every
/// input it ever found a problem with (scripts/fuzz.sh writes them to .state/fuzz/; they are
/// kept in FuzzRegressions/), through the same entry point the fuzzer uses.
@Suite("Fuzz inputs replayed", .timeLimit(.minutes(5)))
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

    @Test func corpusAndRegressionsReplayWithoutACrash() throws {
        #expect(Self.files("FuzzCorpus").count >= 100, "the committed corpus is missing")
        // Regressions: inputs that once crashed or hung the parser (none so far).
        let corpus = Self.files("FuzzCorpus") + Self.files("FuzzRegressions")
        var operations = 0
        var streamsWithOperations = 0
        for file in corpus {
            // Returning is the test for each input; the counts show the corpus reaches the parser.
            let parsed = ParserFuzzing.run(Array(try Data(contentsOf: file)))
            operations += parsed
            if parsed > 0 { streamsWithOperations += 1 }
        }
        #expect(operations > corpus.count && streamsWithOperations >= corpus.count / 4)
    }
}
