import Glibc
import Testing
import VigilPOSIX

/// Serialized: the handler state is process-wide, so two of these tests at once would see each other's signals.
@Suite("SignalSource", .serialized)
struct SignalSourceTests {
    @Test("a signal sent to the process arrives as readiness and is reported once")
    func receives() throws {
        let source = try SignalSource([.user1, .user2])
        #expect(try source.wait(timeout: .zero).isEmpty)
        #expect(kill(getpid(), SIGUSR1) == 0)
        #expect(try source.wait(timeout: testTimeout) == [.user1])
        #expect(source.received().isEmpty)

        // Through epoll, as vigild's loop would see it; two kinds before reading come back together.
        #expect(kill(getpid(), SIGUSR2) == 0)
        #expect(kill(getpid(), SIGUSR1) == 0)
        try waitFor(source.fileDescriptor, .readable, what: "the signal")
        var received = Set(source.received())
        if received.count < 2 {
            received.formUnion(try source.wait(timeout: testTimeout))
        }
        #expect(received == [.user1, .user2])
    }

    @Test("only one source may be installed at a time")
    func single() throws {
        do {
            let source = try SignalSource([.user1])
            #expect(throws: Errno.busy) { _ = try SignalSource([.user2]) }
            withExtendedLifetime(source) {}
        }
        // Once the first is gone (deinit restored the default dispositions), another may be installed.
        let again = try SignalSource([.user2])
        #expect(again.signals == [.user2])
    }

    @Test("signals have readable names")
    func names() {
        #expect(Signal.interrupt.description == "SIGINT")
        #expect(Signal.terminate.description == "SIGTERM")
        #expect(Signal(rawValue: 40).description == "signal 40")
    }

    @Test("ignoring SIGPIPE lets a raised SIGPIPE pass harmlessly")
    func ignorePipe() async {
        // In a child: the disposition is process-wide, and ignoring it here would hide a missing MSG_NOSIGNAL from
        // the broken-pipe test.
        await #expect(processExitsWith: .success) {
            try Signal.brokenPipe.ignore()
            guard kill(getpid(), SIGPIPE) == 0 else {
                exit(10)
            }
        }
        await #expect(processExitsWith: .signal(SIGPIPE)) {
            try Signal.brokenPipe.restoreDefault()
            _ = kill(getpid(), SIGPIPE)
            usleep(1_000_000)
        }
    }
}
