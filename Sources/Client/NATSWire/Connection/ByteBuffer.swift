#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A growable run of bytes with a stable owner, for the write path: appending is a bounds
/// check and a `memcpy`, with no copy-on-write or exclusivity bookkeeping per call.
///
/// Not thread-safe: the write buffer owns one under its lock, the I/O thread owns the
/// other, and they trade them under that same lock.
final class ByteBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var count = 0
    private(set) var capacity: Int

    init(capacity: Int = 64 * 1024) {
        self.capacity = max(capacity, 64)
        base = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    var isEmpty: Bool { count == 0 }
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    @inline(__always)
    func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    func append(contentsOf bytes: UnsafeRawBufferPointer) { append(bytes) }

    func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    func append(contentsOf text: String.UTF8View) {
        withUTF8Bytes(of: String(text)) { append($0) }
    }

    /// A copy of the contents (tests, handshake).
    var array: [UInt8] { [UInt8](bytes) }

    @inline(__always)
    func append(_ byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Lets `body` write into reserved capacity (the caller reserved enough) and counts
    /// the bytes it reports.
    @inline(__always)
    func writeUnchecked(_ body: (UnsafeMutableRawPointer) -> Int) {
        count += body(base + count)
    }

    /// Empties the buffer; keeps its memory unless it grew past `shrinkAbove`.
    func clear(shrinkAbove: Int = 4 << 20) {
        count = 0
        if capacity > shrinkAbove {
            base.deallocate()
            capacity = 64 * 1024
            base = .allocate(byteCount: capacity, alignment: 16)
        }
    }

    /// Puts `bytes` in front of what is there.
    func prepend(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        memmove(base + bytes.count, base, count)
        base.copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    /// Drops everything after the first `newCount` bytes.
    func truncate(to newCount: Int) {
        count = max(0, min(count, newCount))
    }
}
