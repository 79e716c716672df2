// vigilbench: Vigil's load-test tool. Subcommands measure one thing each and print medians of several runs.
import Foundation
import VigilPOSIX

let usage = """
    usage: vigilbench COMMAND [OPTIONS]
    commands:
      codec        protobuf encode/decode throughput of an EventBatch (no server needed)
      echo         RPC throughput and latency against vigild: unary, streaming or one-way (sink) calls
      connections  server memory per idle TLS connection
      ingest       durable ingest throughput and ack latency (IngestEvents through the ingest session);
                   --find-max --slo-p99 MS finds the highest arrival rate within a p99 SLO
      list         ListAlerts / ListEvents latency per call, with random filters
      mixed        ListAlerts latency while ingest runs at a fixed rate (and, with --logins N, logins too)
    ingest, list and mixed share --warmup, --json, --html, --compare BASELINE.json [--tolerance PCT]: the exit
    status is 1 when throughput dropped or p99 rose past the tolerance, 2 on usage or setup errors.
    Run `vigilbench COMMAND --help` for the options of a command.
    """

// As vigild: a larger per-thread malloc cache (a restart with it, once), and read turns and frames that reuse heap
// buffers instead of mapping fresh pages each time.
MemoryAllocator.restartWithLargerThreadCache()
MemoryAllocator.keepBuffersInHeap()
let arguments = CommandLine.arguments.dropFirst()
guard let command = arguments.first else {
    print(usage)
    exit(2)
}
let rest = arguments.dropFirst()
do {
    switch command {
    case "codec":
        if rest.contains("--help") {
            print(CodecBenchmark.usage)
        } else {
            try CodecBenchmark(CommandLineOptions(rest)).run()
        }
    case "echo":
        if rest.contains("--help") {
            print(EchoBenchmark.usage)
        } else {
            try await EchoBenchmark(CommandLineOptions(rest)).run()
        }
    case "connections":
        if rest.contains("--help") {
            print(ConnectionsBenchmark.usage)
        } else {
            try await ConnectionsBenchmark(CommandLineOptions(rest)).run()
        }
    case "ingest":
        if rest.contains("--help") {
            print(IngestBenchmark.usage)
        } else {
            try await IngestBenchmark(CommandLineOptions(rest, booleanFlags: IngestBenchmark.booleanFlags)).run()
        }
    case "list":
        if rest.contains("--help") {
            print(ListBenchmark.usage)
        } else {
            try await ListBenchmark(CommandLineOptions(rest)).run()
        }
    case "mixed":
        if rest.contains("--help") {
            print(MixedBenchmark.usage)
        } else {
            try await MixedBenchmark(CommandLineOptions(rest, booleanFlags: ["create-agent"])).run()
        }
    case "--help", "-h", "help":
        print(usage)
    default:
        throw UsageError("unknown command '\(command)'\n\(usage)")
    }
} catch let regression as RegressionError {
    FileHandle.standardError.write(Data("vigilbench: \(regression)\n".utf8))
    exit(1)
} catch {
    FileHandle.standardError.write(Data("vigilbench: \(error)\n".utf8))
    exit(2)
}
