/// The parser's entry point for coverage-guided fuzzing (`scripts/fuzz.sh`) and for
/// replaying what fuzzing found (the regression tests).
@_spi(Fuzzing)
public enum ParserFuzzing {
    /// Feeds `data` to a fresh parser as a server would, in pieces whose size the first
    /// byte chooses (so the fuzzer explores splits too), and parses everything it can,
    /// including message headers. Returns the number of operations parsed; a malformed
    /// stream ends with a `ProtocolViolation`, never with a trap.
    @discardableResult
    public static func run(_ data: [UInt8]) -> Int {
        guard let first = data.first else { return 0 }
        let step = 1 + Int(first % 64)
        let stream = data.dropFirst()
        // Small limits, so that growth and the size checks are reached by short inputs.
        let parser = ProtocolParser(initialCapacity: 256, maxControlLine: 512, maxInboundPayload: 4096)
        var operations = 0
        var index = stream.startIndex
        do {
            while index < stream.endIndex {
                let end = stream.index(index, offsetBy: step, limitedBy: stream.endIndex) ?? stream.endIndex
                parser.append(stream[index..<end])
                index = end
                while let operation = try parser.next() {
                    operations += 1
                    if case .message(_, let message) = operation {
                        _ = message.headers?.status
                        _ = message.headers?.statusDescription
                        _ = message.string
                    }
                }
            }
        } catch {
            _ = error.reason
        }
        return operations
    }
}
