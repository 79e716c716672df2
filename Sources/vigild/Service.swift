// Builds the service from a prepared configuration: the SQLite store (migrated on open), the hashing pool, the
// login throttle and the VigilServer that registers every handler. Shared by `serve` and the offline commands, so
// `vigild user add` writes users exactly as the running server would.
import Foundation
import VigilAPI
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
            store: store, hashingPool: HashingPool(), throttle: LoginThrottle(), configuration: serverConfiguration
        )
        return Service(store: store, server: server)
    }

    func close() {
        self.server.hashingPool.shutdown()
        self.store.close()
    }
}
