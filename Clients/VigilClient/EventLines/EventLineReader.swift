// Events from a JSON-lines file or stdin, read a chunk at a time: each element is an event with its line number,
// or the reason its line was refused, in file order.
public import Foundation
public import VigilAPI

public struct EventLineReader: Sequence, IteratorProtocol {
    public typealias Element = Result<(lineNumber: Int, event: Event), EventLineError>

    private let handle: FileHandle
    private let parser: EventLineParser
    private var splitter: LineSplitter
    private var ready: [LineSplitter.Item] = []
    private var finished = false

    public init(handle: FileHandle, parser: EventLineParser = EventLineParser(), maximumLineBytes: Int = 1 << 20) {
        self.handle = handle
        self.parser = parser
        self.splitter = LineSplitter(maximumLineBytes: maximumLineBytes)
    }

    public mutating func next() -> Element? {
        while self.ready.isEmpty {
            guard !self.finished else { return nil }
            let chunk = (try? self.handle.read(upToCount: 64 * 1024)) ?? nil
            if let chunk, !chunk.isEmpty {
                self.ready = self.splitter.feed(chunk)
            } else {
                self.finished = true
                self.ready = self.splitter.finish()
            }
        }
        switch self.ready.removeFirst() {
        case .line(let number, let bytes):
            return self.parser.parse(bytes, lineNumber: number).map { (number, $0) }
        case .tooLong(let number):
            return .failure(EventLineError(lineNumber: number, reason: "longer than \(self.splitter.maximumLineBytes) bytes"))
        }
    }
}
