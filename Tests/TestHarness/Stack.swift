/// A set of processes and connections a test starts and must stop, whatever happens.
public protocol TestStack {
    func shutdown() async
}

/// Makes a stack, runs `body` with it and shuts it down, also when `body` throws: the one
/// way the suites start their stacks.
public func withStack<Stack: TestStack>(
    _ make: () async throws -> Stack, _ body: (Stack) async throws -> Void
) async throws {
    let stack = try await make()
    do {
        try await body(stack)
    } catch {
        await stack.shutdown()
        throw error
    }
    await stack.shutdown()
}
