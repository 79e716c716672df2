// vigil-hostile: hostile clients against a running vigild (issue #8 item 3, docs/RELIABILITY.md). Each attack runs
// for a bounded time against 127.0.0.1 while a well-behaved client calls the server and measures its latency; the
// server's RSS and descriptors are read from /proc before and after. One line per attack, exit 1 if any FAILs.
//
//   vigil-hostile ATTACK[,ATTACK...]|all --server 127.0.0.1:PORT --ca CERT [--pid PID] [--username NAME
//       --password-env VAR] [--brute-username NAME] [--seconds N] [--max-connections N] [--handshake-timeout S]
//       [--rss-bound-mib M]
//
// The good client logs in as --username; brute force guesses the passwords of --brute-username (default
// "hostile-target", which need not exist: the throttle counts unknown names too), so the throttle it trips does not
// lock the good client's own account out of the next run.
import Foundation
import VigilAPI
import VigilClient
import VigilPOSIX
import VigilRPC
import VigilTLS

typealias AttackBody = @Sendable (AttackContext) async -> Verdict

let attacks: [(name: String, run: AttackBody)] = [
    ("connection-flood", { context in await onThread { ConnectionAttacks.connectionFlood(context) } }),
    ("slow-handshake", { context in await onThread { ConnectionAttacks.slowHandshake(context) } }),
    ("stream-hog", { context in await onThread { StreamAttacks.streamHog(context) } }),
    ("oversized", { context in await onThread { StreamAttacks.oversized(context) } }),
    ("ping-flood", { context in await onThread { ControlFloods.pingFlood(context) } }),
    ("empty-frames", { context in await onThread { ControlFloods.emptyFrames(context) } }),
    ("window-update-flood", { context in await onThread { ControlFloods.windowUpdateFlood(context) } }),
    ("settings-ack-flood", { context in await onThread { ControlFloods.settingsAckFlood(context) } }),
    ("rapid-reset", { context in await onThread { StreamAttacks.rapidReset(context) } }),
    ("window-starve", { context in await onThread { StreamAttacks.windowStarve(context) } }),
    ("garbage", { context in await onThread { ConnectionAttacks.garbage(context) } }),
    ("brute-force", { context in await AuthAttacks.bruteForce(context, username: context.options.bruteUsername) }),
]

func usage(_ message: String) -> Never {
    FileHandle.standardError.write(Data("vigil-hostile: \(message)\n".utf8))
    FileHandle.standardError.write(
        Data(
            ("usage: vigil-hostile ATTACK[,ATTACK...]|all --server 127.0.0.1:PORT --ca CERT [--pid PID] "
                + "[--username NAME --password-env VAR] [--brute-username NAME] [--seconds N] [--max-connections N] [--handshake-timeout S] "
                + "[--rss-bound-mib M]\nattacks: \(attacks.map(\.name).joined(separator: ", "))\n").utf8))
    exit(2)
}

func parse(_ arguments: [String]) -> Options {
    var options = Options()
    var index = 0
    func value() -> String {
        index += 1
        guard index < arguments.count else { usage("\(arguments[index - 1]) needs a value") }
        return arguments[index]
    }
    while index < arguments.count {
        let argument = arguments[index]
        switch argument {
        case "--server":
            let text = value()
            guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
                usage("--server: \(text) is not HOST:PORT")
            }
            options.host = String(text[..<colon])
            options.port = port
        case "--ca": options.caFile = value()
        case "--pid": options.pid = Int32(value())
        case "--username": options.username = value()
        case "--brute-username": options.bruteUsername = value()
        case "--password-env":
            let name = value()
            guard let password = ProcessInfo.processInfo.environment[name] else { usage("$\(name) is not set") }
            options.password = password
        case "--seconds": options.seconds = Double(value()) ?? options.seconds
        case "--max-connections": options.maxConnections = Int(value()) ?? options.maxConnections
        case "--handshake-timeout": options.handshakeTimeout = Double(value()) ?? options.handshakeTimeout
        case "--rss-bound-mib": options.rssBoundMiB = Double(value()) ?? options.rssBoundMiB
        default:
            guard !argument.hasPrefix("--") else { usage("unknown option \(argument)") }
            options.attacks += argument.split(separator: ",").map(String.init)
        }
        index += 1
    }
    guard options.port != 0, !options.caFile.isEmpty else { usage("--server and --ca are required") }
    guard options.host == "127.0.0.1" || options.host == "localhost" || options.host == "::1" else {
        usage("attacks run only against the loopback address")
    }
    if options.attacks.isEmpty || options.attacks == ["all"] { options.attacks = attacks.map(\.name) }
    for name in options.attacks where !attacks.contains(where: { $0.name == name }) { usage("unknown attack \(name)") }
    return options
}

func line(
    _ name: String, _ verdict: Verdict, _ report: GoodClient.Report, _ before: Footprint?, _ after: Footprint?,
    peak: Footprint?, _ options: Options
) -> (String, Bool) {
    var passed = verdict.passed
    var problems: [String] = []
    if report.errors > 0 || report.latencies.isEmpty {
        passed = false
        problems.append("good client failed: \(report.lastError ?? "no call completed")")
    }
    var footprint = "server footprint not sampled (no --pid)"
    if let before, let after {
        let highest = max(peak?.rssKiB ?? 0, after.rssKiB)
        footprint =
            "server RSS \(before.mib)→\(after.mib) MiB (peak \(Footprint(rssKiB: highest, fds: 0).mib)), "
            + "fds \(before.fds)→\(after.fds) (peak \(max(peak?.fds ?? 0, after.fds)))"
        if Double(highest - before.rssKiB) / 1024 > options.rssBoundMiB {
            passed = false
            problems.append("RSS grew past \(Int(options.rssBoundMiB)) MiB")
        }
        if after.fds > before.fds + 4 {
            passed = false
            problems.append("descriptors leaked")
        }
    } else if options.pid != nil {
        passed = false
        problems.append("the server process is gone")
    }
    let skipped = verdict.detail.hasPrefix("SKIP")
    let outcome = skipped ? "SKIP" : passed ? "PASS" : "FAIL"
    let text =
        "\(name): \(verdict.detail); \(report.summary); \(footprint)"
        + (problems.isEmpty ? "" : " [\(problems.joined(separator: "; "))]") + ": \(outcome)"
    return (text, passed || skipped)
}

let options = parse(Array(CommandLine.arguments.dropFirst()))

var failed = false
do {
    let good = try await VigilClient.connect(host: options.host, port: options.port, caFile: options.caFile)
    var token = Metadata()
    if let username = options.username, let password = options.password {
        try await good.authenticate(username: username, password: password)
        token = bearer(good.tokens)
    }
    let goodClient = GoodClient(client: good, authenticated: !token.isEmpty)
    let context = AttackContext(
        options: options, address: try options.address, tls: try clientTLS(options), token: token)
    for name in options.attacks {
        guard let attack = attacks.first(where: { $0.name == name }) else { continue }
        let before = Footprint.sample(options.pid)
        // The peak matters more than the end: a server may free what an attack made it hold once the attacker goes.
        let sampler = Task {
            var peak: Footprint?
            while !Task.isCancelled {
                if let now = Footprint.sample(options.pid) {
                    peak = Footprint(rssKiB: max(peak?.rssKiB ?? 0, now.rssKiB), fds: max(peak?.fds ?? 0, now.fds))
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return peak
        }
        let (verdict, report) = await goodClient.measure { await attack.run(context) }
        sampler.cancel()
        let peak = await sampler.value
        // Let the server notice closed connections before counting its descriptors.
        try? await Task.sleep(for: .milliseconds(500))
        let after = Footprint.sample(options.pid)
        let (text, passed) = line(name, verdict, report, before, after, peak: peak, options)
        print(text)
        fflush(nil)
        if !passed { failed = true }
    }
    await good.close()
} catch {
    print("vigil-hostile: cannot start: \(error)")
    failed = true
}
exit(failed ? 1 : 0)
