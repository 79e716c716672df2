// vigild's log: one JSON object per line on stderr, {"time": RFC 3339 UTC, "level", "msg", fields...}, so log
// shippers parse it without a grammar of ours. A line is built whole and handed to one write(2), so lines from
// different threads never interleave (stderr writes below PIPE_BUF are atomic on pipes).
// Lines are rare (start, stop, one per retention pass, a few per storage failure streak; nothing per request), so a
// plain blocking write(2), even from the retention task or the store's writer thread, cannot starve the cooperative
// pool or stall ingest; a per-request log would need a writer thread.
//
// Secrets stay out: messages are fixed phrases and fields are named values chosen at each call site; nothing logs a
// request, a token or a password. The one documented exception is the generated first-admin password, logged once
// in the field "password" of the message `Log.generatedAdminPasswordMessage`, because the operator has no other way
// to learn it (set VIGIL_ADMIN_PASSWORD to avoid it).
import Foundation
import Glibc
import VigilService

enum Log {
    enum Level: String, Sendable {
        case info, warning, error
    }

    /// A field value: JSON strings and integers are all vigild logs.
    enum Value: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
        case string(String)
        case integer(Int64)

        init(stringLiteral value: String) { self = .string(value) }
        init(integerLiteral value: Int64) { self = .integer(value) }
    }

    /// The only message allowed to carry a password (see the file header).
    static let generatedAdminPasswordMessage = "created admin with a generated password, shown only this once"

    static func info(_ message: String, _ fields: KeyValuePairs<String, Value> = [:]) {
        self.write(.info, message, fields)
    }

    static func warning(_ message: String, _ fields: KeyValuePairs<String, Value> = [:]) {
        self.write(.warning, message, fields)
    }

    static func error(_ message: String, _ fields: KeyValuePairs<String, Value> = [:]) {
        self.write(.error, message, fields)
    }

    /// The store's background failures and recoveries (a full disk, a read-only file: see StoreReport), already
    /// thinned to a few lines per failure streak by the store. Errors carry SQLite's message and the SQL text,
    /// never bound values.
    @Sendable static func store(_ report: StoreReport) {
        switch report {
        case .ingestCommitFailed(let error, let failures):
            Self.error("ingest group commit failed; batches answered UNAVAILABLE", [
                "error": .string(error.description), "failures_in_a_row": .integer(Int64(failures)),
            ])
        case .ingestCommitRecovered(let failures):
            Self.info("ingest group commits succeed again", ["failures_in_a_row": .integer(Int64(failures))])
        case .indexingFailed(let error, let failures, let retryIn):
            let (seconds, attoseconds) = retryIn.components
            let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
            Self.error("indexing slice failed; retrying", [
                "error": .string(error.description), "failures_in_a_row": .integer(Int64(failures)),
                "retry_in_ms": .integer(milliseconds),
            ])
        case .indexingRecovered(let failures):
            Self.info("indexing succeeds again", ["failures_in_a_row": .integer(Int64(failures))])
        }
    }

    static func write(_ level: Level, _ message: String, _ fields: KeyValuePairs<String, Value>) {
        var bytes = Array(self.line(level, message, fields, time: self.now()).utf8)
        bytes.append(0x0A)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { return }  // stderr closed: nowhere left to complain to
            written += result
        }
    }

    /// The JSON text of one line (without the newline); fields keep their order after time, level and msg.
    static func line(
        _ level: Level, _ message: String, _ fields: KeyValuePairs<String, Value>, time: String
    ) -> String {
        var line = "{\"time\":\(quote(time)),\"level\":\(quote(level.rawValue)),\"msg\":\(quote(message))"
        for (key, value) in fields {
            line += "," + quote(key) + ":"
            switch value {
            case .string(let text): line += quote(text)
            case .integer(let number): line += String(number)
            }
        }
        return line + "}"
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped (RFC 8259 section 7).
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Now as RFC 3339 UTC with milliseconds, e.g. 2026-11-29T15:49:49.123Z.
    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return self.rfc3339(seconds: Int64(spec.tv_sec), milliseconds: Int(spec.tv_nsec / 1_000_000))
    }

    static func rfc3339(seconds: Int64, milliseconds: Int = 0) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds), 3))Z"
    }
}
