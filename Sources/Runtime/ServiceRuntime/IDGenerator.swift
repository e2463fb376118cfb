import Synchronization

/// Random ids made without a system call: a SplitMix64 sequence seeded once from the system's
/// generator and advanced by one atomic add, so threads making ids at once do not queue for a
/// lock. `next()` never repeats within a process (SplitMix64 maps distinct counters to distinct
/// outputs) and, with a random seed per process, collides across processes as rarely as random
/// ids do. Predictable, though, to whoever sees one id (the mix can be inverted): not for
/// secrets, nor for ids whose guessing would let someone in.
public enum IDGenerator {
    private static let state = Atomic<UInt64>(UInt64.random(in: 1...UInt64.max))

    /// A non-zero random 64-bit id (span and trace ids).
    public static func next() -> UInt64 {
        while true {
            var z = state.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            if z != 0 { return z }
        }
    }

    /// A random (version 4) UUID in its lower-case text form, as PostgreSQL and the event
    /// schema write it: `8-4-4-4-12` hex digits.
    public static func uuid() -> String {
        let high = (next() & ~0xF000) | 0x4000  // the 13th digit: version 4
        let low = (next() & ~(0xC000 << 48)) | (0x8000 << 48)  // the 17th digit's top bits: variant 10
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var at = 0
            for nibble in 0..<32 {
                if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                    buffer[at] = UInt8(ascii: "-")
                    at += 1
                }
                let word = nibble < 16 ? high : low
                let digit = UInt8((word >> UInt64(60 - 4 * (nibble % 16))) & 0xF)
                buffer[at] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
                at += 1
            }
            return at
        }
    }
}
