// The storage-failure scenarios, on a real small filesystem: vigild's data directory on a tmpfs of `--tmpfs-mib`
// that the tool mounts (root only; otherwise the scenario prints SKIP and why). Its logs stay outside the tmpfs.
//
// disk-full: a filler file takes all but `--headroom-mib` of the tmpfs, then raw producers send until each has been
// refused several times: every refusal must be UNAVAILABLE and nothing refused may be stored. The filler goes
// (space returns): every producer must get its batches acked again, the indexer must catch up on its own, and
// vigild must never have died (it is stopped with SIGTERM at the end and must exit 0).
//
// read-only: a running server cannot be made read-only underneath (Linux refuses `mount -o remount,ro` with EBUSY
// while vigild holds the database open for writing), so vigild is SIGKILLed, the tmpfs remounted read-only, and
// vigild started on it: it either serves and refuses every batch UNAVAILABLE, or refuses to start; either way
// nothing is acked. Then it is killed, the tmpfs remounted read-write, vigild started again, and ingest continues.
//
// Both end with the same check of the file as the crash scenario.
import Foundation
import VigilAPI
import VigilClient
import VigilRPC

struct DiskRun {
    enum Kind {
        case full, readOnly
        var name: String { self == .full ? "disk-full" : "read-only" }
    }

    let options: Options
    let kind: Kind
    let producers = 3
    let batchSize = 200
    let refusalsPerProducer = 3

    func run() async throws -> Outcome {
        let name = self.kind.name
        guard System.isRoot else {
            return Outcome(line: "\(name): SKIP: mounting a tmpfs needs root", passed: false, skipped: true)
        }
        let work = try System.makeTemporaryDirectory("vigil-crashtest-\(name)")
        let mountPoint = work + "/mnt"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        let mounted = try System.run(
            "/bin/mount", ["-t", "tmpfs", "-o", "size=\(self.options.tmpfsMiB)m", "tmpfs", mountPoint])
        guard mounted.status == 0 else {
            try? FileManager.default.removeItem(atPath: work)
            let reason = mounted.output.split(separator: "\n").first.map(String.init) ?? "status \(mounted.status)"
            return Outcome(line: "\(name): SKIP: cannot mount a tmpfs: \(reason)", passed: false, skipped: true)
        }
        Watchdog.register(mount: mountPoint)
        let outcome: Outcome
        do {
            outcome = try await self.attack(mountPoint: mountPoint, work: work)
        } catch {
            _ = try? System.run("/bin/umount", [mountPoint])
            Watchdog.unregister(mount: mountPoint)
            throw error
        }
        _ = try? System.run("/bin/umount", [mountPoint])
        Watchdog.unregister(mount: mountPoint)
        if outcome.passed && !self.options.keep { try? FileManager.default.removeItem(atPath: work) }
        if !outcome.passed { FileHandle.standardError.write(Data("vigil-crashtest: kept logs in \(work)\n".utf8)) }
        return outcome
    }

    /// The scenario proper, on the mounted tmpfs.
    private func attack(mountPoint: String, work: String) async throws -> Outcome {
        let name = self.kind.name
        let vigild = try Vigild(binary: self.options.vigild, dataDirectory: mountPoint + "/data", logDirectory: work)
        defer { vigild.killHard() }
        try vigild.start()
        try await vigild.waitUntilServing()
        let client = try await vigild.client()
        let ledger = Ledger(streams: self.producers)
        let producers = (0..<self.producers).map { RawProducer(stream: $0, batchSize: self.batchSize) }
        var findings: [String] = []

        // Warm up: a few batches each, acked.
        _ = await self.each(producers, client, ledger, seconds: 30) { producer in producer.acked >= 3 }

        // Make writes fail.
        var failurePhase = ""
        switch self.kind {
        case .full:
            let free = try System.freeBytes(mountPoint)
            let filler = free - Int64(self.options.headroomMiB) << 20
            if filler > 0 { try System.fill(mountPoint + "/filler", bytes: filler) }
            failurePhase = "\(self.options.tmpfsMiB) MiB tmpfs filled to \(self.options.headroomMiB) MiB free"
        case .readOnly:
            vigild.killHard()
            let remount = try System.run("/bin/mount", ["-o", "remount,ro", mountPoint])
            guard remount.status == 0 else {
                return Outcome(line: "\(name): remount ro failed: \(remount.output): FAIL", passed: false)
            }
            try vigild.start()
            do {
                try await vigild.waitUntilServing(timeout: .seconds(20))
                // Its writer connection is read-only for life: it could never store an event until restarted.
                failurePhase = "restarted on a read-only remount, serving"
                findings.append("vigild served on a database it can only open read-only")
            } catch {
                let refusal = vigild.log().split(separator: "\n").last { $0.contains("read-only") }
                let exit = vigild.takeDeaths().last.flatMap { $0.split(separator: " ").last } ?? "?"
                failurePhase =
                    "restarted on a read-only remount, refused to start"
                    + (refusal == nil ? " (exit \(exit), no log line says why)" : " (exit \(exit), logged why)")
                if refusal == nil { findings.append("vigild stopped on a read-only database without saying why") }
            }
        }
        let ackedBefore = producers.map(\.acked)
        let storedBefore = ledger.totalAcked
        let refusedEnough = await self.each(producers, client, ledger, seconds: 60) { producer in
            producer.failures(.unavailable) >= self.refusalsPerProducer
        }
        if producers.map(\.acked) != ackedBefore && self.kind == .readOnly {
            findings.append("batches acked while the database was read-only")
        }
        if !refusedEnough { findings.append("ingest was not refused \(self.refusalsPerProducer) times per stream") }
        let refusals = producers.reduce(0) { $0 + $1.failures(.unavailable) }
        var otherCodes: [String: Int] = [:]
        for producer in producers {
            for (code, count) in producer.codes where code != "\(Status.Code.unavailable)" {
                otherCodes[code, default: 0] += count
            }
        }
        // The read-only restart that refused to start is seen as a transport failure, not a status: fine there.
        if self.kind == .full && !otherCodes.isEmpty {
            findings.append("refusals other than UNAVAILABLE: \(otherCodes) \(producers.map(\.firstMessages))")
        }
        // Nothing sends now: a committer or indexer that spins on the failure would show as CPU time.
        var idleCPU = ""
        if self.kind == .full, let pid = vigild.pid, let before = System.cpuSeconds(pid) {
            try await Task.sleep(for: .seconds(2))
            if let after = System.cpuSeconds(pid) {
                idleCPU = String(format: ", vigild CPU while full and idle %.0f %%", (after - before) / 2 * 100)
                if after - before > 0.5 { findings.append("vigild used \(after - before) s of CPU in 2 idle s") }
            }
        }
        let refusalMessage = producers.compactMap { $0.firstMessages["\(Status.Code.unavailable)"] }.first ?? "none"
        let ackedWhileFailing = ledger.totalAcked - storedBefore
        if self.kind == .full { vigild.checkAlive() }  // a death is recorded, and reported below

        // Make writes work again.
        switch self.kind {
        case .full:
            try FileManager.default.removeItem(atPath: mountPoint + "/filler")
        case .readOnly:
            vigild.killHard()
            let remount = try System.run("/bin/mount", ["-o", "remount,rw", mountPoint])
            guard remount.status == 0 else {
                return Outcome(line: "\(name): remount rw failed: \(remount.output): FAIL", passed: false)
            }
            try vigild.start()
            try await vigild.waitUntilServing()
        }
        let target = producers.map { $0.acked + 10 }
        let recovered = await self.each(producers, client, ledger, seconds: 60) { producer in
            producer.acked >= target[producer.stream]
        }
        if !recovered { findings.append("ingest did not resume within 60 s once writes were possible again") }
        // The indexer must catch up by itself (its retry backs off to at most 30 s).
        let database = mountPoint + "/data/vigil.db"
        let indexEnd = ContinuousClock.now + .seconds(45)
        var tail = try StoreCheck.tail(database)
        while tail != 0 && ContinuousClock.now < indexEnd {
            try await Task.sleep(for: .milliseconds(200))
            tail = try StoreCheck.tail(database)
        }
        if tail != 0 { findings.append("the indexer left \(tail) events unindexed 45 s after writes returned") }

        let stats = try? await client.getStats()
        await client.close()
        findings += vigild.deaths
        let logs = vigild.allLogs()
        let commitLines = logs.components(separatedBy: "ingest group commit failed").count - 1
        let indexLines = logs.components(separatedBy: "indexing slice failed").count - 1
        // Failures must be visible to the operator, and thinned: a line per doubling of a streak, not per refusal.
        if self.kind == .full && commitLines == 0 { findings.append("no log line says that group commits failed") }
        if commitLines > refusals / 2 + 4 { findings.append("\(commitLines) log lines for \(refusals) refusals") }
        let status = await vigild.stop()
        if status != 0 { findings.append("vigild exited \(status) on SIGTERM") }
        let check = try StoreCheck.run(database, ledger)
        if let stats, stats.totalEvents != Int64(check.stored) || stats.totalAlerts != Int64(check.alerts) {
            findings.append("GetStats \(stats.totalEvents)/\(stats.totalAlerts), file \(check.stored)/\(check.alerts)")
        }
        if check.highOrCritical != check.alerts { findings.append("alerts do not match high/critical events") }
        findings += check.examples
        let passed = check.passed && findings.isEmpty
        let line =
            "\(name): \(failurePhase), \(self.producers) streams, \(refusals) batches refused UNAVAILABLE"
            + (otherCodes.isEmpty ? "" : " (other failures \(otherCodes))")
            + ", \(ackedWhileFailing) events acked meanwhile\(idleCPU), resumed: \(recovered ? "yes" : "no"),"
            + " index tail \(tail), \(check), log lines: \(commitLines) commit + \(indexLines) indexing failures"
            + " [first refusal: \(refusalMessage.prefix(120))]: \(passed ? "PASS" : "FAIL")"
            + (passed ? "" : " [\(findings.prefix(6).joined(separator: "; "))]")
        return Outcome(line: line, passed: passed)
    }

    /// Runs every producer until `done` holds for it (true) or `seconds` pass (false).
    private func each(
        _ producers: [RawProducer], _ client: VigilClient, _ ledger: Ledger, seconds: Int,
        done: @escaping @Sendable (RawProducer) -> Bool
    ) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        return await withTaskGroup(of: Bool.self) { group in
            for producer in producers {
                group.addTask { await producer.run(client, ledger, deadline: deadline) { done(producer) } }
            }
            var all = true
            for await finished in group { all = all && finished }
            return all
        }
    }
}
