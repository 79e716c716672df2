// libFuzzer harness for the JSON-lines event reader of `vigilctl events ingest` (Clients/VigilClient/EventLines):
// the file a person points it at can hold anything. Compiled with the EventLines sources only (not the rest of
// VigilClient, which pulls in the network stack). Input: one control byte (chunk size, `--key-from-line`, a small or
// the default line limit), then the file's bytes. Checked properties:
// - `EventLineReader` over a pipe holding the bytes, and `LineSplitter` fed in chunks then parsed, give the same
//   events and refusals, numbered the same (a line's fate must not depend on how reads split the file);
// - every event a line becomes survives a protobuf round trip, and its `occurred_at` formats back to a time that
//   parses to the same instant (RFC3339.format and parse are inverse);
// - no trap or sanitizer report anywhere (JSON, UTF-8, times, line limits).

import Foundation
import Glibc
import VigilAPI
import VigilWire

/// The reader's results, in a form that can be compared.
enum LineOutcome: Equatable {
    case event(Int, Event)
    case refused(EventLineError)

    init(_ result: EventLineReader.Element) {
        switch result {
        case .success(let item): self = .event(item.lineNumber, item.event)
        case .failure(let error): self = .refused(error)
        }
    }
}

/// The whole file through `EventLineReader`, from a pipe the bytes were written into (they fit its buffer).
func readThroughReader(_ bytes: [UInt8], parser: EventLineParser, maximumLineBytes: Int) -> [LineOutcome] {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { fatalError("pipe failed: errno \(errno)") }
    let written = bytes.withUnsafeBytes { raw in raw.isEmpty ? 0 : write(fds[1], raw.baseAddress, raw.count) }
    fuzzCheck(written == bytes.count, "short write to the pipe: \(written) of \(bytes.count)")
    close(fds[1])
    let handle = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
    let reader = EventLineReader(handle: handle, parser: parser, maximumLineBytes: maximumLineBytes)
    return reader.map(LineOutcome.init)
}

/// The same file through `LineSplitter` fed `chunkSize` bytes at a time, each line parsed as the reader does.
func readThroughSplitter(_ bytes: [UInt8], parser: EventLineParser, maximumLineBytes: Int, chunkSize: Int)
    -> [LineOutcome]
{
    var splitter = LineSplitter(maximumLineBytes: maximumLineBytes)
    var items: [LineSplitter.Item] = []
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + chunkSize)
        items += splitter.feed(bytes[offset..<end])
        offset = end
    }
    items += splitter.finish()
    return items.map { item in
        switch item {
        case .line(let number, let line):
            LineOutcome(parser.parse(line, lineNumber: number).map { (number, $0) })
        case .tooLong(let number):
            .refused(EventLineError(lineNumber: number, reason: "longer than \(maximumLineBytes) bytes"))
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEventLines(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzBytes(data, size)
    guard let control = input.first else { return 0 }
    let file = Array(input.dropFirst())
    let parser = EventLineParser(keyFromLine: control & 1 == 1)
    let maximumLineBytes = control & 2 == 0 ? 1 << 20 : 64
    let chunkSize = Int(control >> 2) + 1

    let viaReader = readThroughReader(file, parser: parser, maximumLineBytes: maximumLineBytes)
    let viaSplitter = readThroughSplitter(
        file, parser: parser, maximumLineBytes: maximumLineBytes, chunkSize: chunkSize)
    fuzzCheck(
        viaReader == viaSplitter, "reader gave \(viaReader), splitter in chunks of \(chunkSize) gave \(viaSplitter)")

    var lastLine = 0
    for outcome in viaReader {
        let number: Int
        switch outcome {
        case .event(let line, let event):
            number = line
            let decoded = try? Event(serializedBytes: event.serializedBytes())
            fuzzCheck(decoded == event, "event from line \(line) does not survive a protobuf round trip")
            if let occurredAt = event.occurredAt {
                let text = RFC3339.format(occurredAt)
                fuzzCheck(RFC3339.parse(text) == occurredAt, "\(occurredAt) formats as \(text)")
            }
        case .refused(let error):
            number = error.lineNumber
        }
        fuzzCheck(number > lastLine, "line numbers out of order: \(number) after \(lastLine)")
        lastLine = number
    }
    return 0
}
