// vigild's configuration: defaults, the environment, flags over the environment, and every refusal worded so an
// operator can act on it; `--help` lists every option the parser knows.
import Testing
import VigilPOSIX
import VigilService
import VigilTesting
@testable import vigild

@Suite struct ConfigurationTests {
    @Test("defaults are the embedded ones")
    func defaults() throws {
        let configuration = try Configuration.parse(flags: [], environment: [:])
        #expect(configuration.dataDirectory == "./vigil-data")
        #expect(configuration.listen.description == "127.0.0.1:7443")
        #expect(configuration.resolvedDatabasePath == "./vigil-data/vigil.db")
        #expect(configuration.resolvedCertificatePath == "./vigil-data/tls/cert.pem")
        #expect(configuration.resolvedTokenSecretPath == "./vigil-data/token-secret")
        #expect(configuration.accessTokenLifetime == .seconds(3600))
        #expect(configuration.refreshTokenLifetime == .seconds(604_800))
        #expect(configuration.maxMessageBytes == 4 * 1024 * 1024)
        #expect(configuration.retentionDays == 0)
        #expect(configuration.indexTailMax == 100_000)
        #expect(configuration.indexTailMaxWithoutLists == 200_000)
        #expect(configuration.hashingNice == 0)
        #expect(configuration.hashingShare == 0.5)
        #expect(configuration.indexSliceEvents == 100_000)
        #expect(configuration.walCheckpointPages == 1_000)
    }

    @Test("the environment sets options and a flag overrides its variable")
    func precedence() throws {
        let environment = ["VIGIL_MAX_STREAMS": "7", "VIGIL_DATA_DIR": "/srv/vigil", "VIGIL_LISTEN": "[::1]:9000"]
        let fromEnvironment = try Configuration.parse(flags: [], environment: environment)
        #expect(fromEnvironment.maxStreams == 7)
        #expect(fromEnvironment.resolvedDatabasePath == "/srv/vigil/vigil.db")
        #expect(fromEnvironment.listen.description == "[::1]:9000")
        let overridden = try Configuration.parse(flags: ["--max-streams", "9", "--listen=0.0.0.0:7000"], environment: environment)
        #expect(overridden.maxStreams == 9)
        #expect(try Configuration.parse(flags: [], environment: ["VIGIL_INDEX_TAIL_MAX": "50000"]).indexTailMax == 50_000)
        #expect(
            try Configuration.parse(flags: ["--index-tail-max-idle", "400000"], environment: [:])
                .indexTailMaxWithoutLists == 400_000)
        let storage = try Configuration.parse(
            flags: ["--index-slice-events", "50000", "--wal-checkpoint-pages=10000"], environment: [:])
        #expect(storage.indexSliceEvents == 50_000 && storage.walCheckpointPages == 10_000)
        #expect(try Configuration.parse(flags: ["--hashing-nice", "19"], environment: [:]).hashingNice == 19)
        #expect(try Configuration.parse(flags: ["--hashing-share=0.25"], environment: [:]).hashingShare == 0.25)
        #expect(overridden.listen.description == "0.0.0.0:7000")
    }

    @Test("the hashing pool vigild builds is paced at --hashing-share")
    func hashingShareReachesThePool() {
        let pool = Service.hashingPool(nice: 0, share: 0.75)
        defer { pool.shutdown() }
        #expect(pool.pace.busyShare == 0.75)
        let defaults = Service.hashingPool(nice: 0, share: Configuration().hashingShare)
        defer { defaults.shutdown() }
        #expect(defaults.pace == HashingPace())
    }

    static let refusals: [(flags: [String], environment: [String: String], message: String)] = [
        (["--bogus"], [:], "unknown option --bogus"),
        (["--max-streams"], [:], "--max-streams needs a value"),
        (["--max-streams", "0"], [:], "--max-streams: \"0\" is not a whole number from 1"),
        (["--index-tail-max", "10"], [:], "--index-tail-max: \"10\" is not a whole number from 1000"),
        (["--index-tail-max-idle", "10"], [:], "--index-tail-max-idle: \"10\" is not a whole number from 1000"),
        (["--index-slice-events", "0"], [:], "--index-slice-events: \"0\" is not a whole number from 100"),
        (["--wal-checkpoint-pages", "1"], [:], "--wal-checkpoint-pages: \"1\" is not a whole number from 100"),
        (["--hashing-nice", "20"], [:], "--hashing-nice: \"20\" is not a whole number from 0"),
        (["--hashing-nice", "-1"], [:], "--hashing-nice: \"-1\" is not a whole number from 0"),
        (["--hashing-share", "0"], [:], "--hashing-share: \"0\" is not a number of cores from 0.05 to 2"),
        (["--hashing-share", "3"], [:], "--hashing-share: \"3\" is not a number of cores"),
        (["--hashing-share", "nan"], [:], "--hashing-share: \"nan\" is not a number of cores"),
        (["--idle-timeout", "ten"], [:], "--idle-timeout: \"ten\" is not a whole number"),
        (["--listen", "localhost"], [:], "--listen: \"localhost\" is not HOST:PORT"),
        (["--tls-cert", "/c.pem"], [:], "--tls-cert and --tls-key go together"),
        ([], ["VIGIL_MAX_CONNECTIONS": "-1"], "VIGIL_MAX_CONNECTIONS: --max-connections: \"-1\""),
    ]

    @Test("refuses bad input with a message that names the option", arguments: refusals.indices)
    func refusal(index: Int) {
        let (flags, environment, message) = Self.refusals[index]
        let error = #expect(throws: ConfigurationError.self) {
            try Configuration.parse(flags: flags, environment: environment)
        }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    @Test("--help lists every option with its environment spelling explained")
    func help() {
        for option in Option.all { #expect(Configuration.help.contains(option.flag + " " + option.valueName)) }
        #expect(Configuration.help.contains("VIGIL_<NAME>"))
        #expect(Option.all.first { $0.name == "max-message-bytes" }?.environmentName == "VIGIL_MAX_MESSAGE_BYTES")
    }
}
