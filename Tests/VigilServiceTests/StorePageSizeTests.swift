// The page size a store creates its database with (16 KiB: sustained ingest +15 % over SQLite's 4 KiB, docs/STORAGE.md)
// and that an existing file keeps its own, still served.
import Testing
import VigilAPI
import VigilSQLite
import VigilTesting

@testable import VigilService

@Suite("Store page size")
struct StorePageSizeTests {
    @Test("a new database gets the configured page size; an existing one keeps its own and still takes events")
    func pageSize() async throws {
        try await StoreFixture.with { fixture in
            _ = try await fixture.store.insertEvents([makeEvent(.high)], submittedBy: agent)
            let database = try Database(path: fixture.path, options: .init(access: .readOnly))
            #expect(try database.pragma("page_size") == .integer(16_384))
        }

        let directory = try TemporaryDirectory(prefix: "vigil-page-size")
        let path = directory.file("vigil.db")
        do {
            let old = try Database(path: path, options: .init(access: .readWriteCreate))
            try old.execute("PRAGMA page_size = 4096")
            try old.execute("CREATE TABLE made_by_an_older_vigil (x)")
        }
        var configuration = SQLiteStore.Configuration(path: path)
        configuration.writerCacheKiB = 8_192
        configuration.readerCacheKiB = 2_048
        let store = try SQLiteStore(configuration: configuration)
        defer { store.close() }
        let outcomes = try await store.insertEvents([makeEvent(.critical)], submittedBy: agent)
        guard case .stored(_, let alertID)? = outcomes.first else {
            Issue.record("the event was not stored: \(outcomes)")
            return
        }
        #expect(alertID != nil)
        let database = try Database(path: path, options: .init(access: .readOnly))
        #expect(try database.pragma("page_size") == .integer(4_096))
    }
}
