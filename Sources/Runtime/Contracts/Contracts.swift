#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Message contracts on the NATS command bus, shared by the gateway and the services.
/// Field names are snake_case as on the wire; subjects keep the original system's names.
public enum AuthSubject {
    public static let register = "auth.registerUser"
    public static let login = "auth.loginUser"
    public static let refresh = "auth.refreshToken"
    public static let logout = "auth.logoutUser"
    public static let me = "auth.me"
    public static let jwks = "auth.jwks"
}

public struct RegisterUserRequest: Codable, Sendable, Equatable {
    public var username: String
    public var email: String
    public var password: String

    public init(username: String, email: String, password: String) {
        self.username = username
        self.email = email
        self.password = password
    }
}

public struct LoginRequest: Codable, Sendable, Equatable {
    public var email: String
    public var password: String

    public init(email: String, password: String) {
        self.email = email
        self.password = password
    }
}

public struct RefreshRequest: Codable, Sendable, Equatable {
    public var refresh_token: String
    public init(refresh_token: String) { self.refresh_token = refresh_token }
}

/// Logout revokes the refresh token's whole family.
public typealias LogoutRequest = RefreshRequest

public struct MeRequest: Codable, Sendable, Equatable {
    /// The access token's subject, as the gateway verified it.
    public var user_id: String
    public init(user_id: String) { self.user_id = user_id }
}

public struct TokenPair: Codable, Sendable, Equatable {
    public var access_token: String
    public var refresh_token: String
    public var token_type: String
    /// Seconds until the access token expires.
    public var expires_in: Int

    public init(access_token: String, refresh_token: String, token_type: String = "Bearer", expires_in: Int) {
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.token_type = token_type
        self.expires_in = expires_in
    }
}

public struct UserView: Codable, Sendable, Equatable {
    public var id: String
    public var username: String
    public var email: String
    public var roles: [String]
    public var created_at: Date

    public init(id: String, username: String, email: String, roles: [String], created_at: Date) {
        self.id = id
        self.username = username
        self.email = email
        self.roles = roles
        self.created_at = created_at
    }
}

public struct Acknowledgement: Codable, Sendable, Equatable {
    public var ok: Bool
    public init(ok: Bool = true) { self.ok = ok }
}

/// The claims of an access token.
public enum TokenClaims {
    public static let defaultIssuer = "natswire-auth"
    public static let defaultAudience = "natswire-api"
}

/// JSON coding as every service and the gateway use it: ISO 8601 dates, sorted keys.
public enum WireJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

public enum CustomersSubject {
    public static let list = "customers.findCustomers"
    public static let get = "customers.findCustomer"
    public static let create = "customers.createCustomer"
    public static let update = "customers.updateCustomer"
    public static let delete = "customers.deleteCustomer"
}

public enum ProductsSubject {
    public static let list = "products.findAllProducts"
    public static let get = "products.findOneProduct"
    public static let create = "products.createProduct"
    public static let update = "products.updateProduct"
    public static let delete = "products.deleteProduct"
    public static let listCategories = "products.findAllCategories"
    public static let getCategory = "products.findOneCategory"
    public static let listSuppliers = "products.findAllSuppliers"
    public static let getSupplier = "products.findOneSupplier"
}
