// vigilbench: Vigil's load-test tool. Subcommands measure one thing each and print medians of several runs.
import Foundation

let usage = """
    usage: vigilbench COMMAND [OPTIONS]
    commands:
      codec        protobuf encode/decode throughput of an EventBatch (no server needed)
      echo         RPC throughput and latency against vigild: unary, streaming or one-way (sink) calls
      connections  server memory per idle TLS connection
      ingest       durable ingest throughput and ack latency (IngestEvents through the ingest session)
    Run `vigilbench COMMAND --help` for the options of a command.
    """

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
            try await IngestBenchmark(CommandLineOptions(rest)).run()
        }
    case "--help", "-h", "help":
        print(usage)
    default:
        throw UsageError("unknown command '\(command)'\n\(usage)")
    }
} catch {
    FileHandle.standardError.write(Data("vigilbench: \(error)\n".utf8))
    exit(2)
}
