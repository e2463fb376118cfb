import Contracts
import Testing

/// The list options the gateway checks in URL queries and the services decode from JSON.
@Suite(.timeLimit(.minutes(5))) struct ListRequestTests {
    @Test func decodesEveryOptionInItsOwnType() throws {
        let request = try ListOptions.products.decode([
            ("page", .number("3")), ("limit", .string("5")), ("search", .string("cha")),
            ("sort", .string("unit_price")), ("order", .string("DESC")), ("category_id", .string("1")),
            ("discontinued", .string("true")),
        ])
        #expect(request.page == 3 && request.limit == 5 && request.offset == 10)
        #expect(request.search == "cha" && request.sort == "unit_price" && request.descending)
        #expect(request.filters == ["category_id": .number("1"), "discontinued": .bool(true)])
    }

    @Test func defaultsAreThoseOfTheOriginalSystem() throws {
        let request = try ListOptions.customers.decode([("search", .string(""))])
        #expect(request.page == 1 && request.limit == 20 && request.offset == 0)
        #expect(
            request.search == nil && request.sort == nil && !request.descending && request.filters.isEmpty)
    }

    @Test func namesEveryWrongField() {
        #expect {
            try ListOptions.customers.decode([
                ("page", .number("0")), ("limit", .number("101")), ("sort", .string("password")),
                ("order", .string("sideways")), ("category_id", .number("1")), ("search", .number("1")),
            ])
        } throws: { error in
            let fields = (error as? ListRequestProblems)?.fields.map(\.field) ?? []
            return fields == ["page", "limit", "sort", "order", "category_id", "search"]
        }
    }

    @Test(arguments: [
        (JSONValue.bool(true), true), (.string("TRUE"), true), (.string("1"), true), (.number("1"), true),
        (.bool(false), false), (.string("false"), false), (.number("0"), false),
    ])
    func booleansInEveryFormTheyArrive(_ given: JSONValue, _ expected: Bool) throws {
        #expect(try ListOption("discontinued", .boolean).check(given).get() == .bool(expected))
    }

    @Test func refusesWhatIsNotItsKind() {
        #expect(throws: FieldProblem.self) { try ListOption("d", .boolean).check(.string("yes")).get() }
        #expect(throws: FieldProblem.self) {
            try ListOption("n", .integer(0...5)).check(.string("1.5")).get()
        }
        #expect(throws: FieldProblem.self) { try ListOption("n", .integer(0...5)).check(.number("6")).get() }
        #expect(throws: FieldProblem.self) { try ListOption("s", .string).check(.null).get() }
    }
}
