#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// An NKey: an Ed25519 key pair in NATS's text form (base32 with a type prefix and a
/// CRC-16 checksum). A seed (`SU…`, `SA…`, `SO…`) holds the private key; the public key
/// (`U…`, `A…`, `O…`) is what servers and JWTs name.
public struct NKeyPair: Sendable {
    /// What the key identifies: the first letter of its public key.
    public enum Kind: UInt8, Sendable, CaseIterable {
        /// A user (seeds `SU…`, public keys `U…`).
        case user = 160  // 'U'
        /// An account (`SA…`, `A…`).
        case account = 0  // 'A'
        /// An operator (`SO…`, `O…`).
        case `operator` = 112  // 'O'
        /// A server (`SN…`, `N…`).
        case server = 104  // 'N'
        /// A cluster (`SC…`, `C…`).
        case cluster = 16  // 'C'
    }

    private static let seedPrefix: UInt8 = 18 << 3  // 'S'

    /// What the key identifies.
    public let kind: Kind
    private let seed: [UInt8]
    /// The public key, e.g. `UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4`.
    public let publicKey: String

    /// Decodes a seed (`SU…`), checking its prefix, length and checksum.
    public init(seed text: String) throws(NATSError) {
        let trimmed = text.trimmingWhitespace()
        guard let raw = Base32.decode(trimmed), raw.count == 36 else {
            throw NATSError(.invalidArgument, "not an NKey seed (bad encoding or length)")
        }
        let body = raw[0..<34]
        let stored = UInt16(raw[34]) | UInt16(raw[35]) << 8
        guard CRC16.checksum(body) == stored else {
            throw NATSError(.invalidArgument, "NKey seed checksum does not match")
        }
        guard raw[0] & 0xF8 == Self.seedPrefix,
            let kind = Kind(rawValue: (raw[0] & 0x07) << 5 | (raw[1] & 0xF8) >> 3)
        else { throw NATSError(.invalidArgument, "NKey seed has an unknown prefix") }
        try self.init(kind: kind, seed: Array(raw[2..<34]))
    }

    private init(kind: Kind, seed: [UInt8]) throws(NATSError) {
        self.kind = kind
        self.seed = seed
        publicKey = Self.encode(prefix: [kind.rawValue], payload: try Ed25519.publicKey(seed: seed))
    }

    /// A new random key pair (for tools and tests that issue credentials).
    public static func generate(_ kind: Kind) throws(NATSError) -> NKeyPair {
        try NKeyPair(kind: kind, seed: try Ed25519.randomSeed())
    }

    /// The seed in text form, to store (it is the secret).
    public var encodedSeed: String {
        let first = Self.seedPrefix | kind.rawValue >> 5
        let second = (kind.rawValue & 0x1F) << 3
        return Self.encode(prefix: [first, second], payload: seed)
    }

    /// The Ed25519 signature of `message`.
    public func sign(_ message: [UInt8]) throws(NATSError) -> [UInt8] {
        try Ed25519.sign(message, seed: seed)
    }

    /// The signature of the server's nonce as CONNECT wants it: base64url, no padding.
    func signNonce(_ nonce: String) throws(NATSError) -> String {
        Base64URL.encode(try sign(Array(nonce.utf8)))
    }

    private static func encode(prefix: [UInt8], payload: [UInt8]) -> String {
        var raw = prefix + payload
        let crc = CRC16.checksum(raw)
        raw.append(UInt8(crc & 0xFF))
        raw.append(UInt8(crc >> 8))
        return Base32.encode(raw)
    }
}

/// Base64 with the URL alphabet and no padding (JWT, NKey signatures).
public enum Base64URL {
    /// The bytes in Base64 with `-` and `_` and no `=` padding.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        String(
            Data(bytes).base64EncodedString().compactMap { character -> Character? in
                switch character {
                case "+": "-"
                case "/": "_"
                case "=": nil
                default: character
                }
            })
    }
}
