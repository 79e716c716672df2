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

    /// The hashing pool: paced to `share` of a core while other RPCs are served (`--hashing-share`, HashingPace),
    /// its threads lowered to `nice` (`--hashing-nice`; best effort). Pacing is the default guard for lists and
    /// ingest during a login storm; a low priority is system-wide, so on a saturated or shared machine niced logins
    /// all but stop (in CI, with the test suite loading both cores, a 2.5-second run completed none at 10 or 19).
    static func hashingPool(nice: Int32, share: Double) -> HashingPool {
        // Named through pthread as well as by Foundation, whose `Thread.current` was seen to misidentify a new thread
        // under load (so its name setter may name nothing).
        HashingPool(pace: HashingPace(busyShare: share)) { name in
            POSIXThread.nameCurrentThread(name)
            try? ThreadPriority.setCurrentThreadNice(nice)
        }
    }

    static func open(_ configuration: Configuration, _ directory: DataDirectory) throws -> Service {
        var storeConfiguration = SQLiteStore.Configuration(path: configuration.resolvedDatabasePath)
        storeConfiguration.pageTokenKey = try Self.pageTokenKey(directory.tokenSecret)
        storeConfiguration.maximumTailEvents = configuration.indexTailMax
        storeConfiguration.maximumTailEventsWithoutLists = configuration.indexTailMaxWithoutLists
        storeConfiguration.indexSliceEvents = configuration.indexSliceEvents
        storeConfiguration.nameThread = { POSIXThread.nameCurrentThread($0) }
        storeConfiguration.walCheckpointPages = configuration.walCheckpointPages
        storeConfiguration.report = Log.store
        let store = try SQLiteStore(configuration: storeConfiguration)
        var serverConfiguration = VigilServer.Configuration(tokenSecret: directory.tokenSecret)
        serverConfiguration.accessTokenLifetime = configuration.accessTokenLifetime.components.seconds
        serverConfiguration.refreshTokenLifetime = configuration.refreshTokenLifetime.components.seconds
        let server = try VigilServer(
            store: store,
            hashingPool: Self.hashingPool(nice: configuration.hashingNice, share: configuration.hashingShare),
            throttle: LoginThrottle(),
            configuration: serverConfiguration
        )
        return Service(store: store, server: server)
    }

    func close() {
        self.server.hashingPool.shutdown()
        self.store.close()
    }
}
