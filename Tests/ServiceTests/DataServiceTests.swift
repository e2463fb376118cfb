import Contracts
import Foundation
import NATSWire
import PostgresStore
import ServiceRuntime
import TestHarness
import Testing

/// nats-server, the shared PostgreSQL, and one data service process.
final class DataStack: TestStack, Sendable {
    let nats: NATSServer
    let postgres: PostgresServer
    let client: NATSClient
    let services: [ServiceProcess]

    init(_ executables: [String], postgres: PostgresServer? = nil) async throws {
        nats = try NATSServer()
        if let postgres {
            self.postgres = postgres
        } else {
            self.postgres = try await PostgresServer.shared()
        }
        client = try await NATSClient.connect(url: nats.url)
        var started: [ServiceProcess] = []
        for executable in executables {
            started.append(
                try await ServiceProcess.start(
                    executable, environment: Self.environment(executable, nats: nats, postgres: self.postgres)
                ))
        }
        services = started
    }

    static func environment(_ executable: String, nats: NATSServer, postgres: PostgresServer) -> [String:
        String]
    {
        let (user, password) =
            executable == "CustomersService"
            ? ("customers_svc", PostgresServer.customersPassword)
            : ("products_svc", PostgresServer.productsPassword)
        return [
            "NATS_URL": nats.url, "DATABASE_URL": postgres.url(user: user, password: password),
            "DATABASE_POOL_SIZE": "4",
        ]
    }

    func shutdown() async {
        for service in services { service.stop() }
        await client.close()
        nats.stop()
    }

    /// Sends `body` (a JSON object) and returns the reply's JSON and error code.
    func call(_ subject: String, _ body: [String: Any] = [:]) async throws -> (
        json: Any?, code: Int?, message: String?
    ) {
        let payload = try JSONSerialization.data(withJSONObject: body)
        let reply = try await client.request(Array(payload), to: subject, timeout: .seconds(10))
        let error = ServiceError(reply: reply)
        return (try? JSONSerialization.jsonObject(with: Data(reply.payload)), error?.code, error?.message)
    }

    func object(_ subject: String, _ body: [String: Any] = [:]) async throws -> [String: Any] {
        let (json, code, message) = try await call(subject, body)
        guard code == nil, let object = json as? [String: Any] else {
            throw HarnessError("\(subject) failed: \(code ?? 0) \(message ?? "")")
        }
        return object
    }
}

func withDataStack(
    _ executables: [String], postgres: PostgresServer? = nil, _ body: (DataStack) async throws -> Void
) async throws {
    try await withStack({ try await DataStack(executables, postgres: postgres) }, body)
}

func uniqueCustomerID() -> String {
    String((0..<5).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZ".randomElement() ?? "Q" })
}

let sqlMetacharacters = "x'); DROP TABLE t;--\\%_\"$1"

@Suite("CustomersService and ProductsService on PostgreSQL", .serialized, .timeLimit(.minutes(5)))
struct DataServiceTests {
    // MARK: Customers

    @Test func customersListSearchSortAndPaging() async throws {
        try await withDataStack(["CustomersService"]) { stack in
            // As for products: other suites may write customers between the two reads.
            var total = -1
            var page: [String: Any] = [:]
            let matched = await eventually(timeout: .seconds(20)) {
                total =
                    (try? stack.postgres.query("SELECT count(*) FROM customers")).flatMap { Int($0) } ?? -1
                page = (try? await stack.object(CustomersSubject.list)) ?? [:]
                return page["total"] as? Int == total
            }
            #expect(matched, "total \(String(describing: page["total"])) against count(*) \(total)")
            #expect(page["page"] as? Int == 1 && page["limit"] as? Int == 20)
            #expect(page["pages"] as? Int == (total + 19) / 20)
            let rows = page["data"] as? [[String: Any]] ?? []
            #expect(rows.count == min(20, total))
            #expect(
                Set(rows.first?.keys.map { $0 } ?? []) == [
                    "customer_id", "company_name", "contact_name", "contact_title", "address", "city",
                    "region",
                    "postal_code", "country", "phone", "fax",
                ])
            // An empty page still says how many there are: past the end, and nothing matched.
            let pastTheEnd = try await stack.object(CustomersSubject.list, ["page": 100_000, "limit": 1])
            #expect(
                (pastTheEnd["data"] as? [Any])?.isEmpty == true && (pastTheEnd["total"] as? Int ?? 0) >= 91)
            let search = ["search": "no such company \(uniqueCustomerID())"]
            for pageNumber in [1, 3] {
                let none = try await stack.object(
                    CustomersSubject.list, search.merging(["page": "\(pageNumber)"]) { $1 })
                #expect(
                    (none["data"] as? [Any])?.isEmpty == true && none["total"] as? Int == 0
                        && none["pages"] as? Int == 0)
            }
            let found = try await stack.object(CustomersSubject.list, ["search": "futterkiste"])
            #expect((found["data"] as? [[String: Any]])?.first?["customer_id"] as? String == "ALFKI")
            // Sorted as PostgreSQL sorts (its collation, not Swift's code-point order); another
            // suite's customer may come and go meanwhile, so both are read until they agree.
            var names: [String] = []
            var expected: [String] = []
            let agreed = await eventually(timeout: .seconds(20)) {
                let sorted = try? await stack.object(
                    CustomersSubject.list, ["sort": "company_name", "order": "desc", "limit": 5])
                names = (sorted?["data"] as? [[String: Any]] ?? []).compactMap {
                    $0["company_name"] as? String
                }
                let listed = try? stack.postgres.query(
                    "SELECT string_agg(company_name, E'\\x1f' ORDER BY company_name DESC) FROM "
                        + "(SELECT company_name FROM customers ORDER BY company_name DESC LIMIT 5) top")
                expected = listed.map { $0.split(separator: "\u{1F}").map(String.init) } ?? []
                return names.count == 5 && names == expected
            }
            #expect(agreed, "\(names) against \(expected)")
            for bad: [String: Any] in [
                ["limit": 101], ["page": 0], ["sort": "password"], ["order": "sideways"], ["bogus": 1],
            ] {
                let (_, code, _) = try await stack.call(CustomersSubject.list, bad)
                #expect(code == 400, "\(bad)")
            }
        }
    }

    @Test func customersCreateGetUpdateDelete() async throws {
        try await withDataStack(["CustomersService"]) { stack in
            let id = uniqueCustomerID()
            let created = try await stack.object(
                CustomersSubject.create,
                ["customer_id": id, "company_name": sqlMetacharacters, "city": "Oslo"])
            #expect(created["company_name"] as? String == sqlMetacharacters && created["fax"] is NSNull)
            let fetched = try await stack.object(CustomersSubject.get, ["customer_id": id])
            #expect(
                fetched["company_name"] as? String == sqlMetacharacters
                    && fetched["city"] as? String == "Oslo")
            #expect(
                try stack.postgres.query("SELECT company_name FROM customers WHERE customer_id = '\(id)'")
                    == sqlMetacharacters)

            let duplicate = try await stack.call(
                CustomersSubject.create, ["customer_id": id, "company_name": "Again"])
            #expect(duplicate.code == 409)
            let invalid = try await stack.call(
                CustomersSubject.create,
                [
                    "customer_id": "TOOLONG", "city": String(repeating: "c", count: 16), "phone": 5,
                    "extra": true,
                ])
            #expect(invalid.code == 400)
            let errors = (invalid.json as? [String: Any])?["errors"] as? [String: String] ?? [:]
            #expect(Set(errors.keys) == ["customer_id", "company_name", "city", "phone", "extra"])

            let updated = try await stack.object(
                CustomersSubject.update,
                ["customer_id": id, "city": "Bergen", "contact_name": sqlMetacharacters, "region": NSNull()])
            #expect(
                updated["city"] as? String == "Bergen"
                    && updated["company_name"] as? String == sqlMetacharacters)
            #expect(updated["contact_name"] as? String == sqlMetacharacters && updated["region"] is NSNull)
            #expect(
                try await stack.call(CustomersSubject.update, ["customer_id": id, "company_name": NSNull()])
                    .code == 400)
            #expect(
                try await stack.call(CustomersSubject.update, ["customer_id": "NOONE", "city": "x"]).code
                    == 404)

            let withOrders = try await stack.call(CustomersSubject.delete, ["customer_id": "ALFKI"])
            #expect(withOrders.code == 409 && withOrders.message?.contains("orders") == true)
            _ = try await stack.object(CustomersSubject.delete, ["customer_id": id])
            #expect(try await stack.call(CustomersSubject.get, ["customer_id": id]).code == 404)
            #expect(try await stack.call(CustomersSubject.get, ["customer_id": "x"]).code == 400)
        }
    }

    /// Each set of fields a create names is its own prepared statement; PostgreSQL cuts
    /// statement names at 63 bytes, so two sets with the same first columns once collided
    /// ("prepared statement already exists", a 500 found by schemathesis).
    @Test func createsNamingDifferentLongFieldSetsAllSucceed() async throws {
        try await withDataStack(["CustomersService"]) { stack in
            let shapes: [[String: Any]] = [
                ["contact_title": "t", "region": "r", "phone": "p"],
                ["contact_title": "t", "region": "r", "fax": "f"],
                ["contact_title": "t", "region": "r", "phone": "p", "fax": "f"],
            ]
            for (index, shape) in shapes.enumerated() {
                let id = "LONG\(index)"
                let created = try await stack.object(
                    CustomersSubject.create, shape.merging(["customer_id": id, "company_name": "c"]) { $1 })
                #expect(created["customer_id"] as? String == id)
            }
            _ = try stack.postgres.query("DELETE FROM customers WHERE customer_id LIKE 'LONG_'")
        }
        let long = String(repeating: "x", count: 70)
        #expect(PostgresPool.statementName("short") == "short")
        #expect(PostgresPool.statementName(long + "a").utf8.count <= 63)
        #expect(PostgresPool.statementName(long + "a") != PostgresPool.statementName(long + "b"))
    }

    @Test func sqlMetacharactersInEveryStringFieldAreStoredLiterally() async throws {
        try await withDataStack(["CustomersService", "ProductsService"]) { stack in
            // Each value fits its column and is full of quoting and pattern characters.
            func hostile(_ length: Int) -> String { String("';--\\%_\"$1)".prefix(length)) }
            let customerFields = [
                ("company_name", 40), ("contact_name", 30), ("contact_title", 30), ("address", 60),
                ("city", 15),
                ("region", 15), ("postal_code", 10), ("country", 15), ("phone", 24), ("fax", 24),
            ]
            let id = uniqueCustomerID()
            var body: [String: Any] = ["customer_id": id]
            for (field, length) in customerFields { body[field] = hostile(length) }
            let created = try await stack.object(CustomersSubject.create, body)
            for (field, length) in customerFields {
                #expect(created[field] as? String == hostile(length), "\(field)")
                let stored = try stack.postgres.query(
                    "SELECT \(field) FROM customers WHERE customer_id = '\(id)'")
                #expect(stored == hostile(length), "\(field)")
            }
            let search = try await stack.object(CustomersSubject.list, ["search": hostile(10)])
            #expect((search["data"] as? [[String: Any]])?.map { $0["customer_id"] as? String } == [id])
            _ = try await stack.object(CustomersSubject.delete, ["customer_id": id])

            let product = try await stack.object(
                ProductsSubject.create, ["product_name": hostile(40), "quantity_per_unit": hostile(20)])
            #expect(product["product_name"] as? String == hostile(40))
            #expect(product["quantity_per_unit"] as? String == hostile(20))
            let found = try await stack.object(ProductsSubject.list, ["search": hostile(40)])
            #expect((found["data"] as? [[String: Any]])?.count == 1)
            _ = try await stack.object(
                ProductsSubject.delete, ["product_id": product["product_id"] as? Int ?? 0])
            #expect(Int(try stack.postgres.query("SELECT count(*) FROM customers")) ?? 0 > 0)
        }
    }

    @Test func eachServiceRoleSeesOnlyItsOwnTables() async throws {
        let postgres = try await PostgresServer.shared()
        #expect(throws: HarnessError.self) {
            try postgres.psql([
                "-d", "northwind", "-U", "customers_svc", "-c", "SELECT count(*) FROM products",
            ])
        }
        #expect(throws: HarnessError.self) {
            try postgres.psql([
                "-d", "northwind", "-U", "products_svc", "-c", "SELECT count(*) FROM customers",
            ])
        }
    }

    // MARK: Products

    @Test func productsListEnvelopeFiltersAndGet() async throws {
        try await withDataStack(["ProductsService"]) { stack in
            // Other suites write products in the same database at the same time: the list's
            // total matches count(*) once nothing writes between the two reads.
            var total = -1
            var page: [String: Any] = [:]
            let matched = await eventually(timeout: .seconds(20)) {
                total = (try? stack.postgres.query("SELECT count(*) FROM products")).flatMap { Int($0) } ?? -1
                page = (try? await stack.object(ProductsSubject.list)) ?? [:]
                return page["total"] as? Int == total
            }
            #expect(matched, "total \(String(describing: page["total"])) against count(*) \(total)")
            #expect(page["page"] as? Int == 1 && page["limit"] as? Int == 20)
            #expect(page["pages"] as? Int == (total + 19) / 20)
            let beverages = try await stack.object(ProductsSubject.list, ["category_id": 1, "limit": 100])
            let rows = beverages["data"] as? [[String: Any]] ?? []
            #expect(
                !rows.isEmpty
                    && rows.allSatisfy {
                        $0["category_id"] as? Int == 1 && $0["category_name"] as? String == "Beverages"
                    })
            let discontinued = try await stack.object(
                ProductsSubject.list, ["discontinued": true, "limit": 100])
            #expect(
                (discontinued["data"] as? [[String: Any]] ?? []).allSatisfy {
                    $0["discontinued"] as? Bool == true
                })
            // An empty page still says how many there are: past the end, with and without a
            // filter, and nothing matched.
            let pastTheEnd = try await stack.object(ProductsSubject.list, ["page": 100_000, "limit": 1])
            #expect(
                (pastTheEnd["data"] as? [Any])?.isEmpty == true && (pastTheEnd["total"] as? Int ?? 0) >= 77)
            // Other suites create products meanwhile: compare with count(*) until no write
            // falls between the two reads.
            var filteredTotal = -1
            var counted = -2
            let filteredAgrees = await eventually(timeout: .seconds(20)) {
                counted =
                    (try? stack.postgres.query("SELECT count(*) FROM products WHERE category_id = 1"))
                    .flatMap { Int($0) } ?? -2
                let page = try? await stack.object(
                    ProductsSubject.list, ["category_id": 1, "page": 100_000, "limit": 1])
                filteredTotal = page?["total"] as? Int ?? -1
                return (page?["data"] as? [Any])?.isEmpty == true && filteredTotal == counted
            }
            #expect(filteredAgrees, "filtered total \(filteredTotal) against count(*) \(counted)")
            for pageNumber in [1, 3] {
                let none = try await stack.object(
                    ProductsSubject.list,
                    ["search": "no such product \(uniqueCustomerID())", "page": pageNumber])
                #expect((none["data"] as? [Any])?.isEmpty == true && none["total"] as? Int == 0)
            }
            let chai = try await stack.object(ProductsSubject.list, ["search": "cha"])
            #expect(
                (chai["data"] as? [[String: Any]] ?? []).contains { $0["product_name"] as? String == "Chai" })
            #expect(try await stack.call(ProductsSubject.list, ["limit": 101]).code == 400)

            let one = try await stack.object(ProductsSubject.get, ["product_id": 1])
            #expect(
                one["product_name"] as? String == "Chai" && one["category_name"] as? String == "Beverages")
            let supplier = try stack.postgres.query(
                "SELECT s.company_name FROM products p JOIN suppliers s ON s.supplier_id = p.supplier_id WHERE p.product_id = 1"
            )
            #expect(one["supplier_name"] as? String == supplier && one["unit_price"] is Double)
            #expect(try await stack.call(ProductsSubject.get, ["product_id": 32000]).code == 404)

            let categories = try await stack.call(ProductsSubject.listCategories)
            #expect((categories.json as? [[String: Any]])?.first?["category_name"] as? String == "Beverages")
            #expect(
                try await stack.object(ProductsSubject.getCategory, ["category_id": 2])["category_name"]
                    as? String == "Condiments")
            #expect(try await stack.call(ProductsSubject.getCategory, ["category_id": 999]).code == 404)
            let suppliers = try await stack.call(ProductsSubject.listSuppliers)
            #expect(((suppliers.json as? [[String: Any]])?.count ?? 0) >= 3)
            #expect(
                try await stack.object(ProductsSubject.getSupplier, ["supplier_id": 1])["company_name"]
                    as? String == "Exotic Liquids")
        }
    }

    @Test func productsCreateValidateUpdateDelete() async throws {
        try await withDataStack(["ProductsService"]) { stack in
            let created = try await stack.object(
                ProductsSubject.create,
                [
                    "product_name": sqlMetacharacters, "quantity_per_unit": "1' OR '1'='1", "unit_price": 4.5,
                    "category_id": 2, "supplier_id": 3, "units_in_stock": 7,
                ])
            let id = created["product_id"] as? Int ?? 0
            #expect(
                id > 0 && created["discontinued"] as? Bool == false
                    && created["category_name"] as? String == "Condiments")
            #expect(
                created["product_name"] as? String == sqlMetacharacters
                    && created["quantity_per_unit"] as? String == "1' OR '1'='1")

            let invalid = try await stack.call(
                ProductsSubject.create,
                ["unit_price": -1, "units_in_stock": -5, "reorder_level": 40000, "discontinued": "yes"])
            let errors = (invalid.json as? [String: Any])?["errors"] as? [String: String] ?? [:]
            #expect(invalid.code == 400)
            #expect(
                Set(errors.keys) == [
                    "product_name", "unit_price", "units_in_stock", "reorder_level", "discontinued",
                ])
            let unknownCategory = try await stack.call(
                ProductsSubject.create, ["product_name": "X", "category_id": 999])
            #expect(unknownCategory.code == 409 && unknownCategory.message?.contains("category_id") == true)
            let unknownSupplier = try await stack.call(
                ProductsSubject.create, ["product_name": "X", "supplier_id": 999])
            #expect(unknownSupplier.code == 409 && unknownSupplier.message?.contains("supplier_id") == true)

            let updated = try await stack.object(
                ProductsSubject.update, ["product_id": id, "unit_price": 9, "discontinued": true])
            #expect(updated["unit_price"] as? Double == 9 && updated["discontinued"] as? Bool == true)
            #expect(updated["product_name"] as? String == sqlMetacharacters)
            #expect(
                try await stack.call(ProductsSubject.update, ["product_id": id, "category_id": 999]).code
                    == 409)
            #expect(
                try await stack.call(ProductsSubject.update, ["product_id": 32000, "unit_price": 1]).code
                    == 404)

            let referenced = try await stack.call(ProductsSubject.delete, ["product_id": 1])
            #expect(referenced.code == 409)
            _ = try await stack.object(ProductsSubject.delete, ["product_id": id])
            #expect(try await stack.call(ProductsSubject.get, ["product_id": id]).code == 404)
        }
    }

    @Test func concurrentCreatesGetDistinctIds() async throws {
        try await withDataStack(["ProductsService"]) { stack in
            let analyzed = "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'products'"
            let analyzedBefore = Int(try stack.postgres.query(analyzed)) ?? -1
            let ids = try await withThrowingTaskGroup(of: Int?.self) { group in
                for i in 0..<200 {
                    group.addTask {
                        try await stack.object(ProductsSubject.create, ["product_name": "Bulk \(i)"])[
                            "product_id"] as? Int
                    }
                }
                var out: [Int] = []
                for try await id in group { if let id { out.append(id) } }
                return out
            }
            #expect(ids.count == 200 && Set(ids).count == 200)
            // 200 new rows (far more than a fifth of the table) make the service analyze it, so
            // that its cached generic plans are made again for the table's new size.
            let reanalyzed = await eventually(timeout: .seconds(20)) {
                ((try? stack.postgres.query(analyzed)).flatMap { Int($0) } ?? -1) > analyzedBefore
            }
            #expect(reanalyzed, "the service did not analyze products after 200 inserts")
            // The unfiltered list's total comes from the trigger-kept counts, not count(*): they
            // must agree after concurrent inserts and after a delete made outside the service.
            // One statement, one snapshot (other suites write products at the same time).
            let agree = "SELECT (SELECT sum(n) FROM products_row_counts) = (SELECT count(*) FROM products)"
            #expect(try stack.postgres.query(agree) == "t")
            _ = try stack.postgres.query("DELETE FROM products WHERE product_name LIKE 'Bulk %'")
            #expect(try stack.postgres.query(agree) == "t")
            #expect((try await stack.object(ProductsSubject.list)["total"] as? Int ?? 0) > 0)
        }
    }

    @Test func migrationIsIdempotent() async throws {
        try await withDataStack(["ProductsService"]) { stack in
            _ = try await stack.object(ProductsSubject.get, ["product_id": 1])
            let before = try stack.postgres.query(
                "SELECT last_value || ',' || is_called FROM products_product_id_seq")
            stack.services[0].stop()
            let again = try await ServiceProcess.start(
                "ProductsService",
                environment: DataStack.environment(
                    "ProductsService", nats: stack.nats, postgres: stack.postgres))
            defer { again.stop() }
            let after = try stack.postgres.query(
                "SELECT last_value || ',' || is_called FROM products_product_id_seq")
            #expect(before == after)
            // The id sequence and the outbox's, each once, whatever ran the migration before.
            #expect(
                try stack.postgres.query(
                    "SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relname LIKE 'products%'") == "2")
            #expect(try stack.postgres.query("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal") == "3")
        }
    }

    @Test func databaseRestartFailsFastThenRecovers() async throws {
        // Its own PostgreSQL: restarting the shared one would disturb suites running in parallel.
        try await withDataStack(["ProductsService", "CustomersService"], postgres: try PostgresServer()) {
            stack in
            _ = try await stack.object(ProductsSubject.get, ["product_id": 1])
            try await Task.detached { try stack.postgres.pause() }.value
            // While it is down, requests get 503 at once, each without hanging (the pool fails
            // fast; the first may find a connection that died with the server: also a 503).
            for _ in 0..<3 {
                let start = ContinuousClock.now
                let during = try await stack.call(ProductsSubject.get, ["product_id": 1])
                #expect(during.code == 503, "\(during.code ?? 0) \(during.message ?? "")")
                #expect(ContinuousClock.now - start < .seconds(5))
            }
            try await Task.detached { try stack.postgres.resume() }.value
            // Back up: both services recover by themselves (a back-off of 0.5 s at most).
            let recovered = await eventually(timeout: .seconds(30)) {
                let products = try? await stack.call(ProductsSubject.get, ["product_id": 1])
                let customers = try? await stack.call(CustomersSubject.get, ["customer_id": "ALFKI"])
                return products.map { $0.code == nil } == true && customers.map { $0.code == nil } == true
            }
            #expect(recovered)
        }
    }

    @Test func nestEnvelopeAndServicesAPI() async throws {
        try await withDataStack(["ProductsService", "CustomersService"]) { stack in
            let envelope = #"{"pattern":"products.findAllProducts","data":{"page":1,"limit":2},"id":"n1"}"#
            let reply = try await stack.client.request(envelope, to: ProductsSubject.list)
            let object = try JSONSerialization.jsonObject(with: Data(reply.payload)) as? [String: Any]
            #expect(object?["id"] as? String == "n1" && object?["isDisposed"] as? Bool == true)
            #expect(((object?["response"] as? [String: Any])?["data"] as? [Any])?.count == 2)
            for name in ["products", "customers"] {
                let ping = try await stack.client.request([UInt8](), to: "$SRV.PING.\(name)")
                let info = try await stack.client.request([UInt8](), to: "$SRV.INFO.\(name)")
                let stats = try await stack.client.request([UInt8](), to: "$SRV.STATS.\(name)")
                let verdict = try validateAgainstMicroSchema([
                    ("ping_response.json", ping.payload), ("info_response.json", info.payload),
                    ("stats_response.json", stats.payload),
                ])
                #expect(verdict == "valid", "\(name)")
            }
        }
    }

    @Test func aRequestIDGoesBackOnlyWhenTheServiceMadeIt() async throws {
        try await withDataStack(["ProductsService"]) { stack in
            let payload = Array(#"{"product_id":1}"#.utf8)
            // Without one, the service makes an id and says which (for the caller's logs).
            let made = try await stack.client.request(payload, to: ProductsSubject.get)
            #expect(made.headers?[HandlerContext.requestIDHeader]?.isEmpty == false)
            // With one, the caller has it: the reply is a plain message, no header block.
            var headers = NATSHeaders()
            headers.append("given-1", for: HandlerContext.requestIDHeader)
            let given = try await stack.client.request(payload, to: ProductsSubject.get, headers: headers)
            #expect(given.headers == nil && !given.payload.isEmpty)
        }
    }
}
