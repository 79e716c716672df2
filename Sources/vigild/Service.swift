// Builds the service from a prepared configuration: the SQLite store (migrated on open), the hashing pool, the
// login throttle and the VigilServer that registers every handler. Shared by `serve` and the offline commands, so
// `vigild user add` writes users exactly as the running server would.
import Foundation
import VigilAPI
import VigilPOSIX
import VigilService
import VigilTLS

struct Service {
    let store: SQLiteStore
    let server: VigilServer

    /// Page tokens are signed with a key derived from the token secret, so a list a client is paging through
    /// survives a restart of the server (a random key would not).
    static func pageTokenKey(_ tokenSecret: [UInt8]) throws -> [UInt8] {
        try HMACSHA256.authenticationCode(key: tokenSecret, message: Array("vigil page tokens v1".utf8))
    }

    /// Password hashing's nice value: the lowest, so logins (PBKDF2, ~0.25 s of CPU each) wait for idle CPU rather
    /// than take it from lists and ingest. Not SCHED_IDLE: a nice-19 thread still gets a small share of a saturated
    /// core, so logins slow down but never stop.
    static let hashingNice: Int32 = 19

    /// The hashing pool, its threads lowered to `hashingNice` (best effort: at normal priority they still work).
    static func hashingPool() -> HashingPool {
        HashingPool(onThreadStart: { try? ThreadPriority.setCurrentThreadNice(Self.hashingNice) })
    }

    static func open(_ configuration: Configuration, _ directory: DataDirectory) throws -> Service {
        var storeConfiguration = SQLiteStore.Configuration(path: configuration.resolvedDatabasePath)
        storeConfiguration.pageTokenKey = try Self.pageTokenKey(directory.tokenSecret)
        storeConfiguration.maximumTailEvents = configuration.indexTailMax
        storeConfiguration.indexSliceEvents = configuration.indexSliceEvents
        storeConfiguration.walCheckpointPages = configuration.walCheckpointPages
        storeConfiguration.report = Log.store
        let store = try SQLiteStore(configuration: storeConfiguration)
        var serverConfiguration = VigilServer.Configuration(tokenSecret: directory.tokenSecret)
        serverConfiguration.accessTokenLifetime = configuration.accessTokenLifetime.components.seconds
        serverConfiguration.refreshTokenLifetime = configuration.refreshTokenLifetime.components.seconds
        let server = try VigilServer(
            store: store, hashingPool: Self.hashingPool(), throttle: LoginThrottle(), configuration: serverConfiguration
        )
        return Service(store: store, server: server)
    }

    func close() {
        self.server.hashingPool.shutdown()
        self.store.close()
    }
}
