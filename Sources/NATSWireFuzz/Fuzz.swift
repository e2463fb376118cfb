@_spi(Fuzzing) import NATSWire

#if NATSWIRE_FUZZ
    /// libFuzzer's entry point (built by scripts/fuzz.sh with `-sanitize=fuzzer`).
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
        ParserFuzzing.run(Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }
#else
    import Foundation

    /// Without the fuzzer: replays the files given (crash inputs, corpus entries) through
    /// the same entry point and says how many operations each produced.
    @main
    struct ReplayFuzzInputs {
        static func main() throws {
            for path in CommandLine.arguments.dropFirst() {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                print("\(path): \(ParserFuzzing.run(Array(data))) operations")
            }
        }
    }
#endif
