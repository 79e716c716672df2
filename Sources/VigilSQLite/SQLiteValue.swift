// SQLite's five storage classes as a Swift value, for argument lists that mix types and for reading a column whose
// type the caller does not know in advance.
public enum SQLiteValue: Hashable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLiteValue: CustomStringConvertible {
    /// Says which storage class the value has and how big it is, never what it holds: a value may be a secret bound
    /// to a statement, and descriptions end up in logs.
    public var description: String {
        switch self {
        case .null: "NULL"
        case .integer: "INTEGER"
        case .real: "REAL"
        case .text(let text): "TEXT(\(text.utf8.count) bytes)"
        case .blob(let bytes): "BLOB(\(bytes.count) bytes)"
        }
    }
}
