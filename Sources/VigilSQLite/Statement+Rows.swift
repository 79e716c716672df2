// Run-to-completion helpers. Each one resets the statement and clears its bindings as soon as its rows are read
// (also when the body throws), so an idle statement never holds a read snapshot open, which in WAL mode would stop
// checkpoints from recycling the log, and never keeps copies of bound secrets around.
//
// `arguments` replaces the bindings when it is not empty; when empty, values bound beforehand with `bind` are used.
extension Statement {
    /// Runs the statement to completion, ignoring any rows: for INSERT, UPDATE, DELETE and DDL.
    public func execute(arguments: [any SQLiteBindable] = []) throws(SQLiteError) {
        defer { self.reset() }
        try self.prepareForRun(arguments)
        while try self.step() {}
    }

    /// Calls `body` with the statement positioned on each row in turn.
    public func forEachRow(
        arguments: [any SQLiteBindable] = [],
        _ body: (Statement) throws -> Void
    ) throws {
        defer { self.reset() }
        try self.prepareForRun(arguments)
        while try self.step() {
            try body(self)
        }
    }

    /// Maps every row through `transform`.
    public func rows<Row>(
        arguments: [any SQLiteBindable] = [],
        _ transform: (Statement) throws -> Row
    ) throws -> [Row] {
        var rows: [Row] = []
        try self.forEachRow(arguments: arguments) { statement in
            rows.append(try transform(statement))
        }
        return rows
    }

    /// Maps the first row through `transform`, or returns nil when there is none; the rest is never stepped.
    public func firstRow<Row>(
        arguments: [any SQLiteBindable] = [],
        _ transform: (Statement) throws -> Row
    ) throws -> Row? {
        defer { self.reset() }
        try self.prepareForRun(arguments)
        guard try self.step() else {
            return nil
        }
        return try transform(self)
    }

    /// Rewinds a statement left mid-way by a caller, keeping bindings made beforehand unless arguments replace them.
    private func prepareForRun(_ arguments: [any SQLiteBindable]) throws(SQLiteError) {
        if self.isBusy {
            self.rewind()
        }
        if !arguments.isEmpty {
            try self.bind(arguments)
        }
    }
}
