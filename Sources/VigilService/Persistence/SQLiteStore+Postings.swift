// Writing the postings indexes in SQLite (Postings.swift has the pure half, SQLiteStore+PostingsReads the lists;
// docs/STORAGE.md, "Postings", the why): the indexer builds a slice's chunk rows of `postings` on its own read
// connection and inserts them on the writer, GetStats sums their chunks' counts, and retention takes deleted events and
// alerts out of them. A postings index has the same watermark in `index_marks` as an index table, with the same
// promise: in any snapshot a row is in the index (at or below the mark) or in its tail (above it), never both or
// neither.
import VigilAPI
import VigilSQLite

extension SQLiteStore {
    /// The indexes kept as postings: each keyed by a column of its table, or by nothing (the time indexes: one key,
    /// "", holds every row). Entries sort by the table's time (events' occurred_at, alerts' created_at). Alerts
    /// repeat their event's severity, source and type. alerts_by_status stays an index table: UpdateAlert moves
    /// alerts between its keys, and postings are written once.
    static let postingsIndexes: [String: PostingsIndex] = [
        "events_by_time": PostingsIndex(table: "events", column: ""),
        "events_by_severity": PostingsIndex(table: "events", column: "severity"),
        "events_by_source": PostingsIndex(table: "events", column: "source_name"),
        "events_by_type": PostingsIndex(table: "events", column: "event_type"),
        "alerts_by_time": PostingsIndex(table: "alerts", column: ""),
        "alerts_by_severity": PostingsIndex(table: "alerts", column: "severity"),
        "alerts_by_source": PostingsIndex(table: "alerts", column: "source_name"),
        "alerts_by_type": PostingsIndex(table: "alerts", column: "event_type"),
    ]

    // MARK: Writing (the indexer)

    /// Writes the entries of events (`from`, `through`] into each of `indexes` (postings indexes): `preparePostings`
    /// then `writePostings` on one connection. The indexer instead prepares on its own read connection, off the writer
    /// thread.
    static func derivePostings(
        _ database: Database, table: String, indexes: [String], from: Int64, through: Int64
    ) throws {
        try Self.writePostings(
            database, try Self.preparePostings(database, table: table, indexes: indexes, from: from, through: through))
    }

    /// Reads `table`'s rows (`from`, `through`] once and builds every chunk row of `indexes` (all of that table) for
    /// them: one run per key, cut into chunks, all as the segment `from + 1` (the slice's first id, which no other
    /// slice of an index has). Only reads, so it runs on a read connection in a snapshot that holds the whole slice
    /// (events never change, and ids at or below a committed one are never inserted later), while the writer goes on
    /// committing.
    static func preparePostings(
        _ database: Database, table: String, indexes: [String], from: Int64, through: Int64
    ) throws -> PreparedPostings {
        let columns = Set(indexes.compactMap { Self.postingsIndexes[$0]?.column })
        var all: [PostingEntry] = []
        var severities: [Int64: [PostingEntry]] = [:]
        var sources: [String: [PostingEntry]] = [:]
        var types: [String: [PostingEntry]] = [:]
        let byTime = columns.contains("")
        let bySeverity = columns.contains("severity")
        let bySource = columns.contains("source_name")
        let byType = columns.contains("event_type")
        let tableName = table == "alerts" ? "alerts" : "events"
        if tableName == "events" {
            // Fields scanned from the encodings (SQLiteStore+EventBatches), not decoded. Names become strings to
            // group by (short ones are stored inline, without an allocation, and hash faster than byte slices);
            // stored names were valid UTF-8 when they were ingested.
            try Self.forEachEventBatch(database, after: from, through: through) { batch in
                guard let blob = batch.blob else { return }
                for index in 0..<batch.count {
                    let id = batch.id(at: index)
                    guard id > from, id <= through else { continue }
                    let fields = try batch.fields(at: index)
                    let entry = PostingEntry(sort: fields.occurredAt, id: id)
                    if byTime { all.append(entry) }
                    if bySeverity { severities[Int64(fields.severity), default: []].append(entry) }
                    if bySource { sources[String(decoding: blob[fields.source], as: UTF8.self), default: []].append(entry) }
                    if byType { types[String(decoding: blob[fields.type], as: UTF8.self), default: []].append(entry) }
                }
            }
        } else {
            let select = try database.cachedStatement(
                """
                SELECT severity, source_name, event_type, created_at, id FROM alerts WHERE id > ? AND id <= ?
                """)
            try select.forEachRow(arguments: [from, through]) { row in
                let entry = PostingEntry(sort: row.int64(at: 3), id: row.int64(at: 4))
                if byTime { all.append(entry) }
                if bySeverity { severities[row.int64(at: 0), default: []].append(entry) }
                if bySource { sources[try row.string(at: 1) ?? "", default: []].append(entry) }
                if byType { types[try row.string(at: 2) ?? "", default: []].append(entry) }
            }
        }
        // Severities were grouped by rank (no string per row); their keys are the ranks as text.
        let bySeverityText = Dictionary(uniqueKeysWithValues: severities.map { (String($0.key), $0.value) })
        var rows: [PreparedPostings.Row] = []
        for index in indexes {
            let runs: [String: [PostingEntry]] =
                switch Self.postingsIndexes[index]?.column {
                case "": ["": all]
                case "severity": bySeverityText
                case "source_name": sources
                case "event_type": types
                default: [:]
                }
            // In key order: the rows of a step then fill pages in the order of `postings`' primary key.
            for (key, entries) in runs.sorted(by: { $0.key < $1.key }) {
                rows += Self.chunkRows(index: index, key: key, segment: from + 1, entries: entries.sorted())
            }
        }
        return PreparedPostings(table: tableName, indexes: indexes, from: from, through: through, rows: rows)
    }

    /// Inserts prepared chunk rows (inside the caller's write transaction).
    static func writePostings(_ database: Database, _ prepared: PreparedPostings) throws {
        try Self.insert(database, prepared.rows)
    }

    /// Sorted `entries` as the chunk rows of (`index`, `key`, `segment`), numbered from 0.
    private static func chunkRows(
        index: String, key: String, segment: Int64, entries: [PostingEntry]
    ) -> [PreparedPostings.Row] {
        PostingChunk.chunks(of: entries).enumerated().map { number, chunk in
            PreparedPostings.Row(
                index: index, key: key, segment: segment, chunk: Int64(number), low: chunk.low, high: chunk.high,
                count: Int64(chunk.entries.count), entries: chunk.encoded())
        }
    }

    private static func insert(_ database: Database, _ rows: [PreparedPostings.Row]) throws {
        let insert = try database.cachedStatement(
            """
            INSERT INTO postings (index_name, key, segment, chunk, low, high, count, entries)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """
        )
        for row in rows {
            try insert.execute(arguments: [
                row.index, row.key, row.segment, row.chunk, row.low, row.high, row.count, row.entries,
            ])
        }
    }

    // MARK: Retention

    /// Takes `rows` of `table` (their ids and indexed columns, read before the rows are deleted) out of every
    /// postings index of that table: each affected segment of a key is read, filtered and written back.
    static func removePostings(_ database: Database, table: String, of rows: [PostingsVictim]) throws {
        guard !rows.isEmpty else { return }
        let marks = try Self.indexProgress(database).marks
        let findSegment = try database.cachedStatement(
            "SELECT max(segment) FROM postings WHERE index_name = ? AND key = ? AND segment <= ?")
        for (index, _) in Self.postingsIndexes.filter({ $0.value.table == table }).sorted(by: { $0.key < $1.key }) {
            let mark = marks.first { $0.index == index }?.indexedThrough ?? 0
            // (key, segment) → ids to remove: rows above the mark are in no chunk yet.
            var affected: [SegmentKey: Set<Int64>] = [:]
            for event in rows where event.id <= mark {
                let key = event.key(for: index)
                let segment = try findSegment.firstRow(arguments: [index, key, event.id]) { row in
                    row.isNull(at: 0) ? nil : row.int64(at: 0)
                }
                guard let segment = segment ?? nil else { continue }
                affected[SegmentKey(key: key, segment: segment), default: []].insert(event.id)
            }
            for (place, ids) in affected {
                try Self.rewriteSegment(database, index: index, place, removing: ids)
            }
        }
    }

    private struct SegmentKey: Hashable {
        let key: String
        let segment: Int64
    }

    private static func rewriteSegment(
        _ database: Database, index: String, _ place: SegmentKey, removing ids: Set<Int64>
    ) throws {
        let read = try database.cachedStatement(
            "SELECT entries FROM postings WHERE index_name = ? AND key = ? AND segment = ? ORDER BY chunk")
        var entries: [PostingEntry] = []
        try read.forEachRow(arguments: [index, place.key, place.segment]) { row in
            entries += try Self.decodeChunk(row)
        }
        let delete = try database.cachedStatement(
            "DELETE FROM postings WHERE index_name = ? AND key = ? AND segment = ?")
        try delete.execute(arguments: [index, place.key, place.segment])
        let kept = entries.filter { !ids.contains($0.id) }
        try Self.insert(
            database, Self.chunkRows(index: index, key: place.key, segment: place.segment, entries: kept))
    }

    static func decodeChunk(_ row: Statement, at column: Int = 0) throws -> [PostingEntry] {
        do {
            return try PostingChunk.decode(try row.blob(at: column) ?? [])
        } catch let error as PostingsError {
            throw StoreError(.internal, "damaged index row: \(error.message)")
        }
    }
}

/// A postings index: the table it indexes and the column that keys it ("" for one key holding every row).
struct PostingsIndex: Sendable {
    let table: String
    let column: String
}

/// A slice's postings chunk rows, built off the writer (`preparePostings`) and inserted on it (`writePostings`).
struct PreparedPostings: Sendable {
    struct Row: Sendable {
        let index: String
        let key: String
        let segment: Int64
        let chunk: Int64
        let low: Int64
        let high: Int64
        let count: Int64
        let entries: [UInt8]
    }

    let table: String
    /// The postings indexes it covers, all of `table` and at the mark `from` when it was read.
    let indexes: [String]
    let from: Int64
    let through: Int64
    let rows: [Row]
}

/// An event or alert leaving the store (retention), with what names its postings entries.
struct PostingsVictim: Sendable {
    let id: Int64
    let severity: Int64
    let sourceName: String
    let eventType: String

    func key(for index: String) -> String {
        switch SQLiteStore.postingsIndexes[index]?.column {
        case "": ""
        case "severity": String(self.severity)
        case "source_name": self.sourceName
        default: self.eventType
        }
    }
}
