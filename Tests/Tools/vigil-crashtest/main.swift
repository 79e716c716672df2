// vigil-crashtest: the crash-safety proof of issue #8 (docs/RELIABILITY.md). It starts vigild itself on 127.0.0.1,
// streams events at it, and attacks its storage: `crash` SIGKILLs it at seeded random moments and restarts it;
// `disk-full` puts its data directory on a small tmpfs and fills it; `read-only` restarts it on a read-only
// remount. Each scenario checks the database file afterwards and prints one line ending in PASS, FAIL or SKIP.
// Every run is bounded by `--timeout`: past it the tool kills what it started, unmounts, prints FAIL and exits 1.
import Foundation

let options: Options
do {
    options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("vigil-crashtest: \(error)\n\(Options.usage)\n".utf8))
    System.exit(2)
}
guard FileManager.default.isExecutableFile(atPath: options.vigild) else {
    FileHandle.standardError.write(Data("vigil-crashtest: no vigild at \(options.vigild) (--vigild PATH)\n".utf8))
    System.exit(2)
}

Watchdog.arm(after: .seconds(options.timeoutSeconds))
var outcomes: [Outcome] = []
for scenario in options.scenarios {
    let outcome: Outcome
    do {
        switch scenario {
        case .crash: outcome = try await CrashRun(options: options).run()
        case .diskFull: outcome = try await DiskRun(options: options, kind: .full).run()
        case .readOnly: outcome = try await DiskRun(options: options, kind: .readOnly).run()
        }
    } catch {
        outcome = Outcome(line: "\(scenario.rawValue): error: \(error): FAIL", passed: false)
    }
    print(outcome.line)
    System.flushOutput()
    outcomes.append(outcome)
}
Watchdog.disarm()
if outcomes.contains(where: { !$0.passed && !$0.skipped }) { System.exit(1) }
System.exit(outcomes.allSatisfy(\.skipped) ? 77 : 0)
