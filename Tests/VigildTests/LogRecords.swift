// vigild's stderr read as what it promises to be: one JSON object per line with "time" (RFC 3339 UTC), "level" and
// "msg". Parsing every line is itself a check: a stray plain-text line fails the test that reads the log.
import Foundation
import Testing

struct LogRecords {
    /// Every line's fields, values rendered as text (numbers as their digits).
    let records: [[String: String]]
    let text: String

    init(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        self.text = text
        var records: [[String: String]] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                Issue.record("not a JSON object: \(line)", sourceLocation: sourceLocation)
                continue
            }
            var record: [String: String] = [:]
            for (key, value) in object { record[key] = "\(value)" }
            let time = record["time"] ?? ""
            #expect(
                time.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil,
                "time is RFC 3339 UTC: \(line)", sourceLocation: sourceLocation)
            #expect(["info", "warning", "error"].contains(record["level"] ?? ""), "level: \(line)",
                    sourceLocation: sourceLocation)
            #expect(!(record["msg"] ?? "").isEmpty, "msg: \(line)", sourceLocation: sourceLocation)
            records.append(record)
        }
        self.records = records
    }

    /// The first record whose msg is `message` (or starts with it, for messages that carry an error's text).
    func first(_ message: String, prefix: Bool = false) -> [String: String]? {
        self.records.first { record in
            guard let msg = record["msg"] else { return false }
            return prefix ? msg.hasPrefix(message) : msg == message
        }
    }

    func all(_ message: String) -> [[String: String]] { self.records.filter { $0["msg"] == message } }
}
