extension ProtocolParser {
    /// Reads what `transport` has straight into the parser's buffer.
    func read(from transport: any Transport) throws(NATSError) -> ReadOutcome {
        var outcome = ReadOutcome.wouldBlock
        _ = try withWritableTail { (buffer) throws(NATSError) -> Int in
            outcome = try transport.read(into: buffer)
            if case .bytes(let n) = outcome { return n }
            return 0
        }
        return outcome
    }
}
