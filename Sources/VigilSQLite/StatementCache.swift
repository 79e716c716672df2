// Prepared statements kept by SQL text, so hot statements (the writer's INSERTs, BEGIN/COMMIT) are parsed once per
// connection. Bounded: the least recently used statement is finalized when a new one would exceed the capacity.
struct StatementCache {
    private struct Entry {
        let statement: Statement
        var lastUse: UInt64
    }

    let capacity: Int
    private var entries: [String: Entry] = [:]
    private var clock: UInt64 = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int {
        self.entries.count
    }

    mutating func statement(for sql: String) -> Statement? {
        guard self.entries[sql] != nil else {
            return nil
        }
        self.clock += 1
        self.entries[sql]?.lastUse = self.clock
        return self.entries[sql]?.statement
    }

    mutating func insert(_ statement: Statement) {
        guard self.capacity > 0 else {
            return
        }
        if self.entries.count >= self.capacity,
            let oldest = self.entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
        {
            self.entries.removeValue(forKey: oldest)
        }
        self.clock += 1
        self.entries[statement.sql] = Entry(statement: statement, lastUse: self.clock)
    }

    mutating func removeAll() {
        self.entries.removeAll()
    }
}
