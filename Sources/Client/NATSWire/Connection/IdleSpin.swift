/// When the I/O thread spins before sleeping (``NATSOptions/spinBeforeSleep``), and when it
/// stops trying.
///
/// A spin that finds nothing was CPU spent for no gain: traffic is sparser than the window.
/// After such a miss the next spins are skipped, twice as many after each further miss (up
/// to ``maxSkipped``), so an idle or sparse connection spins only now and then to find out
/// whether traffic got denser; one hit spins on every sleep again.
struct IdleSpin {
    /// The longest skip after a run of misses.
    static let maxSkipped = 64

    let window: Duration
    private var penalty = 0
    private var skipped = 0

    init(window: Duration) {
        self.window = window > .zero ? window : .zero
    }

    /// Whether to spin before this sleep.
    mutating func shouldSpin() -> Bool {
        guard window > .zero else { return false }
        if skipped > 0 {
            skipped -= 1
            return false
        }
        return true
    }

    /// What the spin found.
    mutating func record(found: Bool) {
        if found {
            penalty = 0
        } else {
            penalty = min(max(1, penalty * 2), Self.maxSkipped)
            skipped = penalty
        }
    }
}
