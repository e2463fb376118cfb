/// The `Idempotency-Key` a client may send with a POST or PATCH: the gateway checks it and
/// passes it on in the NATS header of the same name; the service stores it with the change.
public enum IdempotencyRule {
    public static let header = "Idempotency-Key"

    /// The requests whose service stores keys: a retry with the key changes nothing twice.
    public static let subjects: Set<String> = [
        CustomersSubject.create, CustomersSubject.update, ProductsSubject.create, ProductsSubject.update,
        AuthSubject.register,
    ]

    /// 1–255 printable ASCII characters (no spaces).
    public static func isValid(_ key: String) -> Bool {
        (1...255).contains(key.utf8.count) && key.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }
}
