/// A first-in, first-out queue over an array with a moving head: O(1) amortized, and the
/// storage is reused once it drains.
struct FIFO<Element> {
    private var items: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var elements: ArraySlice<Element> { items[head...] }

    mutating func append(_ element: Element) { items.append(element) }

    mutating func popFirst() -> Element? {
        guard head < items.count else { return nil }
        let element = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
        return element
    }

    /// Removes and returns everything.
    mutating func removeAll() -> ArraySlice<Element> {
        defer {
            items.removeAll()
            head = 0
        }
        return items[head...]
    }
}
