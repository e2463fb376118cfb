/// The `Idempotency-Key` a client may send with a POST or PATCH: the gateway checks it and
/// passes it on in the NATS header of the same name; the service stores it with the change.
public enum IdempotencyRule {
    public static let header = "Idempotency-Key"

    /// The requests whose service stores keys: a retry with the key changes nothing twice.
    public static let subjects: Set<String> = [
        CustomersSubject.create, CustomersSubject.update, ProductsSubject.create, ProductsSubject.update,
        AuthSubject.register, AuthSubject.refresh,
    ]

    /// What a key promises for `subject`, as the API documents it.
    public static func promise(for subject: String) -> String {
        if subject == AuthSubject.refresh {
            return
                "Makes a retry safe: the same refresh sent again with the same key within 10 minutes, while the pair it gave is unused, returns that pair instead of revoking the login as a replay."
        }
        return
            "Makes a retry safe: the same key with the same body returns the first answer and changes nothing again; with another body, 422. Kept a day."
    }

    /// Whether the same key with another body is refused with 422 (a refresh's key belongs to
    /// the token it refreshes: another token is another request).
    public static func refusesOtherBodies(_ subject: String) -> Bool {
        subjects.contains(subject) && subject != AuthSubject.refresh
    }

    /// 1–255 printable ASCII characters (no spaces).
    public static func isValid(_ key: String) -> Bool {
        (1...255).contains(key.utf8.count) && key.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }
}
