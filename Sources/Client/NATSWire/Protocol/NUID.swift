import Synchronization

/// Unique identifiers in the NATS style: 22 base-62 characters, a 12-character prefix from
/// the system's cryptographic random source and a 10-character sequence that advances by a
/// random step. Cheap enough to name every inbox and service instance.
///
/// Not thread-safe on its own: one instance belongs to one owner; ``NUID/next()`` on the
/// shared generator takes a lock.
public struct NUID: Sendable {
    static let digits: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    static let base: UInt64 = 62
    static let prefixLength = 12
    static let sequenceLength = 10
    static let maxSequence: UInt64 = 839_299_365_868_340_224  // 62^10
    static let minIncrement: UInt64 = 33
    static let maxIncrement: UInt64 = 333

    private var prefix: [UInt8] = []
    private var sequence: UInt64 = 0
    private var increment: UInt64 = 0
    private var random = SystemRandomNumberGenerator()

    /// A generator with a random prefix and sequence.
    public init() {
        randomizePrefix()
        resetSequence()
    }

    /// The next identifier.
    public mutating func next() -> String {
        sequence += increment
        if sequence >= Self.maxSequence {
            randomizePrefix()
            resetSequence()
        }
        var out = prefix
        out.reserveCapacity(Self.prefixLength + Self.sequenceLength)
        var digitsReversed = InlineArray<10, UInt8>(repeating: Self.digits[0])
        var value = sequence
        for i in 0..<Self.sequenceLength {
            digitsReversed[i] = Self.digits[Int(value % Self.base)]
            value /= Self.base
        }
        for i in (0..<Self.sequenceLength).reversed() { out.append(digitsReversed[i]) }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func randomizePrefix() {
        prefix = (0..<Self.prefixLength).map { _ in Self.digits[Int(random.next(upperBound: Self.base))] }
    }

    private mutating func resetSequence() {
        sequence = random.next(upperBound: Self.maxSequence)
        increment = Self.minIncrement + random.next(upperBound: Self.maxIncrement - Self.minIncrement)
    }
}

extension NUID {
    /// A fresh identifier from a process-wide generator.
    public static func generate() -> String { shared.withLock { $0.next() } }

    private static let shared = Mutex(NUID())
}
