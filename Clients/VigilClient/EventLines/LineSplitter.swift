// Splits a byte stream into numbered lines, with a bound on line length, so reading a file of events never holds
// more than one line (plus one read chunk) in memory, whatever the file holds. Pure: chunks in, lines out.

public struct LineSplitter: Sendable {
    /// A line, or the fact that line `number` was longer than the limit (its bytes are dropped).
    public enum Item: Sendable, Hashable {
        case line(number: Int, bytes: [UInt8])
        case tooLong(number: Int)
    }

    public let maximumLineBytes: Int
    private var pending: [UInt8] = []
    private var skippingLongLine = false
    private var lineNumber = 1

    public init(maximumLineBytes: Int = 1 << 20) { self.maximumLineBytes = maximumLineBytes }

    /// The complete lines in `chunk` (with what earlier chunks left over); the rest waits for more bytes.
    public mutating func feed(_ chunk: some Collection<UInt8>) -> [Item] {
        var items: [Item] = []
        var start = chunk.startIndex
        while let newline = chunk[start...].firstIndex(of: 0x0A) {
            self.append(chunk[start..<newline], into: &items)
            items.append(self.endLine())
            start = chunk.index(after: newline)
        }
        self.append(chunk[start...], into: &items)
        return items.filter { if case .line(_, let bytes) = $0 { !Self.isBlank(bytes) } else { true } }
    }

    /// What is left at the end of the input: a last line without a newline.
    public mutating func finish() -> [Item] {
        guard !self.pending.isEmpty || self.skippingLongLine else { return [] }
        let last = self.endLine()
        if case .line(_, let bytes) = last, Self.isBlank(bytes) { return [] }
        return [last]
    }

    private mutating func append(_ bytes: some Collection<UInt8>, into items: inout [Item]) {
        guard !self.skippingLongLine else { return }
        if self.pending.count + bytes.count > self.maximumLineBytes {
            self.pending = []
            self.skippingLongLine = true
        } else {
            self.pending.append(contentsOf: bytes)
        }
    }

    private mutating func endLine() -> Item {
        defer {
            self.pending = []
            self.skippingLongLine = false
            self.lineNumber += 1
        }
        return self.skippingLongLine ? .tooLong(number: self.lineNumber) : .line(number: self.lineNumber, bytes: self.pending)
    }

    static func isBlank(_ bytes: [UInt8]) -> Bool { bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } }
}
