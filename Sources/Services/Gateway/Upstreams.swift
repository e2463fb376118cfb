import ServiceRuntime

/// Which system answers a service's subjects: ours (the default), or the original NestJS/Go
/// service, called with the NestJS envelope and the original's payloads, during a migration.
enum Upstream: String, Sendable, CaseIterable {
    case natswire
    case nest
}

/// The upstream of each service, from `UPSTREAM_AUTH`, `UPSTREAM_CUSTOMERS` and
/// `UPSTREAM_PRODUCTS`.
struct Upstreams: Sendable {
    var auth = Upstream.natswire
    var customers = Upstream.natswire
    var products = Upstream.natswire

    static let services = ["auth", "customers", "products"]

    static let variables: [ConfigVariable] = services.map { service in
        ConfigVariable(
            "UPSTREAM_\(service.uppercased())",
            help: "natswire, or nest: the original NestJS/Go \(service) service answers",
            default: Upstream.natswire.rawValue)
    }

    init() {}

    init(_ reader: SettingsReader) {
        func read(_ service: String) -> Upstream {
            let choices = Upstream.allCases.map(\.rawValue)
            return Upstream(
                rawValue: reader.oneOf("UPSTREAM_\(service.uppercased())", choices, default: "natswire"))
                ?? .natswire
        }
        auth = read("auth")
        customers = read("customers")
        products = read("products")
    }

    /// The upstream of a service by name (`auth`, `customers`, `products`).
    func of(service: String) -> Upstream {
        switch service {
        case "auth": auth
        case "customers": customers
        case "products": products
        default: .natswire
        }
    }

    /// The upstream that answers `subject` (its first token names the service).
    func of(subject: String) -> Upstream {
        of(service: String(subject.prefix { $0 != "." }))
    }
}
