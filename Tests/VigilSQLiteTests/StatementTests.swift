// Binding and reading every storage class, UTF-8 validation, argument-count checks, the reset-after-read helpers,
// and errors that never carry bound values.
import Testing
import VigilSQLite
import VigilTesting

@Suite("Statement")
struct StatementTests {
    static let roundTripValues: [SQLiteValue] = [
        .null,
        .integer(0),
        .integer(Int64.max),
        .integer(Int64.min),
        .real(3.25),
        .real(-1e300),
        .text(""),
        .text("plain ascii"),
        .text("héllo wörld · 日本語 · 🛡️🔥"),
        .text("nul\u{0}inside"),
        .blob([]),
        .blob([0, 0, 0]),
        .blob([0xFF, 0x00, 0x7F, 0x80]),
    ]

    @Test("binds and reads back a value of each storage class, keeping its type", arguments: Self.roundTripValues)
    func roundTrip(value: SQLiteValue) throws {
        try withDirectory { directory in
            let database = try Database(path: directory.file("values.sqlite"))
            try database.execute("CREATE TABLE t (v)")
            try database.execute("INSERT INTO t (v) VALUES (?)", arguments: [value])
            let (read, type) = try #require(
                try database.queryFirst("SELECT v, typeof(v) FROM t") { row in
                    (try row.value(at: 0), try row.string(at: 1))
                }
            )
            #expect(read == value)
            let expectedType =
                switch value {
                case .null: "null"
                case .integer: "integer"
                case .real: "real"
                case .text: "text"
                case .blob: "blob"
                }
            #expect(type == expectedType)
        }
    }

    @Test("binds Swift values by index and reads them with the typed readers")
    func typedReaders() throws {
        try withDirectory { directory in
            let database = try Database(path: directory.file("typed.sqlite"))
            let statement = try database.prepare("SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?")
            #expect(statement.parameterCount == 9)
            try statement.bind(Int64(-7), at: 1)
            try statement.bind(42, at: 2)
            try statement.bind(2.5, at: 3)
            try statement.bind("ünïcødé", at: 4)
            try statement.bind([UInt8]([1, 2, 3]), at: 5)
            try statement.bind(true, at: 6)
            try statement.bindNull(at: 7)
            try statement.bind(String?.none, at: 8)
            try statement.bind(Optional(""), at: 9)
            #expect(try statement.step())
            #expect(statement.columnCount == 9)
            #expect(statement.int64(at: 0) == -7)
            #expect(statement.int(at: 1) == 42)
            #expect(statement.double(at: 2) == 2.5)
            #expect(try statement.string(at: 3) == "ünïcødé")
            #expect(try statement.blob(at: 4) == [1, 2, 3])
            #expect(statement.byteCount(at: 4) == 3 && statement.byteCount(at: 6) == 0)
            #expect(try statement.blob(at: 4, range: 1..<3) == [2, 3])
            #expect(try statement.blob(at: 4, range: 3..<3) == [])
            #expect(try statement.blob(at: 4, range: 2..<4) == nil, "a range past the end is refused, not read")
            #expect(try statement.blob(at: 6, range: 0..<0) == nil)
            #expect(statement.bool(at: 5))
            #expect(statement.isNull(at: 6))
            #expect(try statement.string(at: 6) == nil)
            #expect(try statement.blob(at: 6) == nil)
            #expect(statement.isNull(at: 7))
            #expect(!statement.isNull(at: 8))
            #expect(try statement.string(at: 8) == "")
            #expect(try !statement.step())
        }
    }

    @Test("binds by parameter name and reports an unknown name")
    func namedParameters() throws {
        try withDirectory { directory in
            let database = try Database(path: directory.file("named.sqlite"))
            let statement = try database.prepare("SELECT :first || '-' || :second AS joined")
            try statement.bind("b", named: ":second")
            try statement.bind("a", named: ":first")
            #expect(statement.columnName(at: 0) == "joined")
            #expect(try statement.firstRow { try $0.string(at: 0) } == "a-b")
            let error = #expect(throws: SQLiteError.self) { try statement.bind(1, named: ":third") }
            #expect(error?.code == .range)
        }
    }

    @Test("refuses an argument list whose length does not match the parameters", arguments: [0, 1, 3])
    func argumentCount(given: Int) throws {
        try withDirectory { directory in
            let database = try Database(path: directory.file("count.sqlite"))
            let statement = try database.prepare("SELECT ?, ?")
            let arguments: [any SQLiteBindable] = Array(repeating: 1, count: given)
            let error = #expect(throws: SQLiteError.self) { try statement.bind(arguments) }
            #expect(error?.code == .range)
            #expect(error?.message.contains("2 arguments, \(given) given") == true)
        }
    }

    @Test("reports text that is not valid UTF-8 as a typed error instead of repairing it")
    func invalidUTF8() throws {
        try withDirectory { directory in
            let database = try Database(path: directory.file("utf8.sqlite"))
            try database.execute(
                """
                CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
                INSERT INTO t VALUES (1, CAST(x'c3a9' AS TEXT)), (2, CAST(x'ff' AS TEXT)), (3, CAST(x'61c3' AS TEXT)),
                    (4, 'host-01.example.internal'), (5, 'host-01.example.internal' || CAST(x'ff' AS TEXT)),
                    (6, 'host-01.example.internal' || CAST(x'c3a9' AS TEXT));
                """
            )
            let read = { (id: Int) throws in
                try database.queryFirst("SELECT v, typeof(v) FROM t WHERE id = ?", arguments: [id]) { row in
                    #expect(try row.string(at: 1) == "text")
                    return try row.string(at: 0)
                }
            }
            // The same path with valid bytes decodes, so the failures below are about the bytes.
            #expect(try read(1) == "é")
            // ASCII takes a shorter path; a bad byte after a long ASCII run still fails, a good one still decodes.
            #expect(try read(4) == "host-01.example.internal")
            #expect(try read(6) == "host-01.example.internalé")
            for id in [2, 3, 5] {
                let error = #expect(throws: SQLiteError.self) { _ = try read(id) }
                #expect(error?.code == .invalidUTF8)
                #expect(error?.message.contains("column 0") == true)
            }
            let viaValue = #expect(throws: SQLiteError.self) {
                _ = try database.queryFirst("SELECT CAST(x'ff' AS TEXT)") { try $0.value(at: 0) }
            }
            #expect(viaValue?.code == .invalidUTF8)
            // The bytes are still there, readable as a blob.
            #expect(try database.queryFirst("SELECT v FROM t WHERE id = 2") { try $0.blob(at: 0) } == [0xFF])
        }
    }

    @Test("never puts bound values in an error, its description or its reflection")
    func errorsHideArguments() throws {
        try withDirectory { directory in
            let database = try Database(path: directory.file("secret.sqlite"))
            try database.execute("CREATE TABLE tokens (token TEXT UNIQUE CHECK (length(token) < 40))")
            let secret = "hunter2-TOKEN-7f3a9c"
            try database.execute("INSERT INTO tokens VALUES (?)", arguments: [secret])
            let unique = #expect(throws: SQLiteError.self) {
                try database.execute("INSERT INTO tokens VALUES (?)", arguments: [secret])
            }
            let long = String(repeating: secret, count: 3)
            let check = #expect(throws: SQLiteError.self) {
                try database.execute("INSERT INTO tokens VALUES (?)", arguments: [long])
            }
            #expect(unique?.code == .constraint)
            #expect(unique?.extendedCode == 2067)  // SQLITE_CONSTRAINT_UNIQUE
            #expect(check?.code == .constraint)
            for error in [unique, check].compactMap({ $0 }) {
                #expect(error.sql == "INSERT INTO tokens VALUES (?)")
                for text in [error.description, String(reflecting: error), error.message] {
                    #expect(!text.contains("hunter2"), "\(text)")
                }
            }
            #expect(!SQLiteValue.text(secret).description.contains("hunter2"))
        }
    }

    @Test("resets after the first row and after a throwing body, so no snapshot stays open")
    func helpersReset() throws {
        try withDirectory { directory in
            let database = try Database(path: directory.file("reset.sqlite"))
            try database.execute("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)")
            let statement = try database.prepare("SELECT x FROM t ORDER BY x")
            #expect(try statement.step())
            #expect(statement.isBusy)  // control: a half-read statement is busy
            statement.reset()

            #expect(try statement.firstRow { $0.int(at: 0) } == 1)
            #expect(!statement.isBusy)

            var seen: [Int] = []
            #expect(throws: ExpectedFailure(tag: "stop")) {
                try statement.forEachRow { row in
                    seen.append(row.int(at: 0))
                    if seen.count == 2 { throw ExpectedFailure(tag: "stop") }
                }
            }
            #expect(seen == [1, 2])
            #expect(!statement.isBusy)
            #expect(try statement.rows { $0.int(at: 0) } == [1, 2, 3])
        }
    }

    @Test("runs with values bound beforehand when no arguments are given, and clears them afterwards")
    func manualBindingsThenHelper() throws {
        try withDirectory { directory in
            let database = try Database(path: directory.file("manual.sqlite"))
            let statement = try database.prepare("SELECT ?1 * 2")
            try statement.bind(21, at: 1)
            #expect(try statement.firstRow { $0.int(at: 0) } == 42)
            #expect(try statement.firstRow { $0.isNull(at: 0) } == true)
            #expect(try statement.firstRow(arguments: [5]) { $0.int(at: 0) } == 10)
        }
    }
}
