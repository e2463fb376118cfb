import ServiceRuntime
import Testing

@Suite struct IDGeneratorTests {
    @Test func uuidsAreVersion4InPostgresTextForm() {
        let hex = Set("0123456789abcdef")
        var seen = Set<String>()
        for _ in 0..<1_000 {
            let uuid = IDGenerator.uuid()
            let groups = uuid.split(separator: "-", omittingEmptySubsequences: false)
            #expect(groups.map(\.count) == [8, 4, 4, 4, 12], "\(uuid)")
            #expect(groups.joined().allSatisfy(hex.contains), "\(uuid)")
            #expect(groups[2].first == "4", "version 4: \(uuid)")
            #expect(groups[3].first.map { "89ab".contains($0) } == true, "variant 10: \(uuid)")
            seen.insert(uuid)
        }
        #expect(seen.count == 1_000)
    }
}
