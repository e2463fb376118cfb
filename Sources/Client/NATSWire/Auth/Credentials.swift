#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A `.creds` file as `nsc` writes it: the user JWT and the user's NKey seed, each between
/// `-----BEGIN …-----` and `------END …------` lines.
public struct NATSCredentials: Sendable {
    /// The user's JWT, signed by its account.
    public let jwt: String
    /// The user's NKey, which signs the server's nonce.
    public let key: NKeyPair

    /// Parses the text of a credentials file.
    public init(text: String) throws(NATSError) {
        let blocks = Self.blocks(in: text)
        guard let jwt = blocks.first(where: { $0.header.contains("JWT") })?.body, !jwt.isEmpty else {
            throw NATSError(.invalidArgument, "credentials: no user JWT block")
        }
        guard let seed = blocks.first(where: { $0.header.contains("SEED") })?.body else {
            throw NATSError(.invalidArgument, "credentials: no NKey seed block")
        }
        self.jwt = jwt
        key = try NKeyPair(seed: seed)
    }

    /// Reads and parses a credentials file.
    public init(contentsOf path: String) throws(NATSError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw NATSError(
                .invalidArgument, "cannot read credentials file \(path): \(error)")
        }
        try self.init(text: text)
    }

    /// Credentials from a JWT and its key pair.
    public init(jwt: String, key: NKeyPair) {
        self.jwt = jwt
        self.key = key
    }

    /// The text of a credentials file for `jwt` and `key`.
    public static func fileText(jwt: String, key: NKeyPair) -> String {
        """
        -----BEGIN NATS USER JWT-----
        \(jwt)
        ------END NATS USER JWT------

        ************************* IMPORTANT *************************
        NKEY Seed printed below can be used to sign and prove identity.
        NKEYs are sensitive and should be treated as secrets.

        -----BEGIN USER NKEY SEED-----
        \(key.encodedSeed)
        ------END USER NKEY SEED------

        *************************************************************

        """
    }

    private static func blocks(in text: String) -> [(header: String, body: String)] {
        var result: [(String, String)] = []
        var header: String?
        var body: [String] = []
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = String(rawLine).trimmingWhitespace()
            if line.hasPrefix("---") && line.contains("BEGIN") {
                header = line
                body = []
            } else if line.hasPrefix("---") && line.contains("END"), let open = header {
                result.append((open, body.joined()))
                header = nil
            } else if header != nil && !line.isEmpty {
                body.append(line)
            }
        }
        return result
    }
}
