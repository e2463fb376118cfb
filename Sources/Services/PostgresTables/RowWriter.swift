import Contracts
import PostgresStore
import Synchronization

/// Writes result rows straight from libpq's buffers to JSON: no dictionary, no `String` per
/// value, no reference counting per value.
public struct RowWriter {
    /// The column a list statement gives every row its total in (a scalar subquery, which
    /// PostgreSQL runs once); never written as a field.
    public static let totalColumn = "list_total"

    let result: PostgresResultSet
    let layout: RowLayout

    public var count: Int { result.rowCount }

    /// The list total the rows carry; `nil` if they carry none (or there are no rows).
    public var total: Int? {
        guard count > 0, let column = layout.totalColumn else { return nil }
        return result.int(0, column)
    }

    /// Row `row` as a JSON object.
    public func write(_ row: Int, into out: inout [UInt8]) {
        withExtendedLifetime(result) {
            layout.keys.withUnsafeBufferPointer { keys in
                layout.fields.withUnsafeBufferPointer { fields in
                    out.append(UInt8(ascii: "{"))
                    for position in fields.indices {
                        let field = fields[position]
                        out.append(
                            contentsOf: UnsafeBufferPointer(rebasing: keys[field.keyStart..<field.keyEnd]))
                        if let value = result.bytes(row, field.column) {
                            field.output.write(value, into: &out)
                        } else {
                            out.append(contentsOf: JSONOutput.null)
                        }
                    }
                    out.append(UInt8(ascii: "}"))
                }
            }
        }
    }

    /// Every row as a JSON array.
    public func writeAll(into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for row in 0..<count {
            if row > 0 { out.append(UInt8(ascii: ",")) }
            write(row, into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// The first row as a JSON object; `nil` when there is none.
    public var first: [UInt8]? {
        guard count > 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(320)
        write(0, into: &out)
        return out
    }
}

/// How a column's text (PostgreSQL's text output) becomes JSON.
enum ValueOutput: Sendable {
    case string
    /// Integers: PostgreSQL's text is already JSON.
    case integer
    case real
    /// Northwind's `discontinued` (0 or 1) as a boolean.
    case flag

    init(_ kind: FieldRule.Kind) {
        switch kind {
        case .text, .customerID, .email: self = .string
        case .smallint, .integer: self = .integer
        case .real: self = .real
        case .flag: self = .flag
        }
    }

    func write(_ text: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        switch self {
        case .string: JSONOutput.string(bytes: text, into: &out)
        case .integer: out.append(contentsOf: text)
        case .real:
            // A float4 in plain decimal ("18", "-0.5") is already the JSON a JavaScript client
            // writes; exponents ("1e+10") are written as JavaScript does, NaN and infinities
            // have no JSON form.
            if Self.isPlainDecimal(text) {
                out.append(contentsOf: text)
            } else if let number = Double(String(decoding: text, as: UTF8.self)), number.isFinite {
                out.append(contentsOf: JSONOutput.number(number).utf8)
            } else {
                out.append(contentsOf: JSONOutput.null)
            }
        case .flag:
            out.append(
                contentsOf: text.count == 1 && text[0] == UInt8(ascii: "1")
                    ? JSONOutput.true : JSONOutput.false)
        }
    }

    /// Digits with at most one `.` between digits and an optional leading `-`.
    static func isPlainDecimal(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = text.first == UInt8(ascii: "-") ? 1 : 0
        var digitsBefore = 0
        var digitsAfter = 0
        var seenPoint = false
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: ".") {
                if seenPoint { return false }
                seenPoint = true
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                if seenPoint { digitsAfter += 1 } else { digitsBefore += 1 }
            } else {
                return false
            }
            index += 1
        }
        return digitsBefore > 0 && (!seenPoint || digitsAfter > 0)
    }
}

/// Where each field of a result's rows comes from and how it is written, keys in sorted
/// order. All keys sit in one buffer so that writing a row touches no reference count.
struct RowLayout: Sendable {
    struct Field: Sendable {
        let column: Int
        let keyStart: Int
        let keyEnd: Int
        let output: ValueOutput
    }

    /// The result's column names, in result order, to recognise the same shape again.
    let names: [[UInt8]]
    /// Where ``RowWriter/totalColumn`` is, if the result has it.
    let totalColumn: Int?
    /// `"name":` of every field, one after another.
    let keys: [UInt8]
    let fields: [Field]

    init(result: PostgresResultSet, columns: [Column]) {
        let named = (0..<result.columnCount).map { (index: $0, name: result.columnName($0)) }
        names = named.map { Array($0.name.utf8) }
        totalColumn = named.first { $0.name == RowWriter.totalColumn }?.index
        var keys: [UInt8] = []
        var fields: [Field] = []
        for entry in named.sorted(by: { $0.name < $1.name }) where entry.name != RowWriter.totalColumn {
            let start = keys.count
            if !fields.isEmpty { keys.append(UInt8(ascii: ",")) }
            JSONOutput.string(entry.name, into: &keys)
            keys.append(UInt8(ascii: ":"))
            let kind = columns.first { $0.name == entry.name }?.kind ?? .text(maxLength: nil)
            fields.append(
                Field(column: entry.index, keyStart: start, keyEnd: keys.count, output: ValueOutput(kind)))
        }
        self.keys = keys
        self.fields = fields
    }

    func matches(_ result: PostgresResultSet) -> Bool {
        guard result.columnCount == names.count else { return false }
        for (index, name) in names.enumerated() where !result.columnName(index, is: name) { return false }
        return true
    }
}

/// The layouts a table's statements produced so far (a handful: one per result shape).
final class RowLayoutCache: Sendable {
    private static let limit = 32
    private let layouts = Mutex<[RowLayout]>([])

    func layout(for result: PostgresResultSet, columns: [Column]) -> RowLayout {
        if let known = layouts.withLock({ $0.first { $0.matches(result) } }) { return known }
        let layout = RowLayout(result: result, columns: columns)
        layouts.withLock { layouts in
            if layouts.count == Self.limit { layouts.removeFirst() }
            layouts.append(layout)
        }
        return layout
    }
}
