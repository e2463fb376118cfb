@_spi(Fuzzing) import NATSWire

#if NATSWIRE_FUZZ
    /// libFuzzer's entry point (built by scripts/fuzz.sh with `-sanitize=fuzzer`).
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        guard let data else { return 0 }
        ParserFuzzing.run(Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }

    typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: FuzzCallback
    ) -> CInt

    /// SwiftPM links an executable's entry point under this name; it hands over to
    /// libFuzzer's driver (libFuzzer's own `main` is not the one linked).
    @_cdecl("NATSWireFuzz_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var count = argc
        var arguments = argv
        return runFuzzerDriver(&count, &arguments, fuzzOneInput)
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
