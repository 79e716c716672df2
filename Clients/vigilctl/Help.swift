// vigilctl's help texts and exit statuses: `vigilctl --help` prints everything, `vigilctl GROUP --help` (or
// `vigilctl help GROUP`) one command group. The exit status tells a script what kind of failure happened, one code
// per class of status code, so `vigilctl … || case $? in 3) vigilctl login …` works without parsing stderr.
import VigilRPC

enum Help {
    static let header = "usage: vigilctl [--server HOST:PORT] [--ca FILE] [--json] COMMAND [OPTIONS]"

    static let session = """
          login --username U [--password-stdin]   log in (password prompt without echo, or one line on stdin);
                                                  tokens kept in $VIGIL_CONFIG_DIR/session.json, mode 0600
          logout                                  forget the stored tokens for this server
          whoami                                  the logged-in user
          health                                  the server's serving status
          stats                                   counts of events and alerts by severity and status
        """

    static let events = """
          events list [--severity S,..] [--type T] [--source S] [--since TIME] [--until TIME]
                      [--order occurred_at|severity, -FIELD for descending] [--limit N] [--all]
          events get ID                           one event and the id of the alert it raised
          events ingest FILE|- [--key-from-line] [--batch-size N] [--no-progress]
                                                  JSON lines {"source_name","event_type","severity","description",
                                                  "occurred_at"?,"idempotency_key"?}; prints accepted, duplicates,
                                                  alerts created and every refused line with its number and reason;
                                                  --key-from-line keys each event by a hash of its line, so importing
                                                  a file twice stores nothing twice
        """

    static let alerts = """
          alerts list [--status S,..] [--severity S,..] [--type T] [--source S] [--since TIME] [--until TIME]
                      [--order created_at|status|severity, -FIELD for descending] [--limit N] [--all]
          alerts get ID                           the alert, its event and its history
          alerts update ID --status open|acknowledged|resolved [--if-version V]
                                                  without --if-version the current version is read first; a stale
                                                  version fails with ABORTED and shows the alert's current state
          alerts ack|resolve|reopen ID [--if-version V]   shorthand for update --status acknowledged|resolved|open
        """

    static let users = """
          users create --username U --role admin|analyst|agent [--password-stdin]
          users update ID [--role R] [--disable|--enable] [--reset-password [--password-stdin]]
          users list [--role R] [--limit N] [--all]
          users get ID|USERNAME
        """

    static let footer = """
        Times are RFC 3339 (2026-11-25T10:00:00Z). Severities: low, medium, high, critical (any case).
        --limit is the page size (1 to 1000, default 20); --all follows next-page tokens to the end.
        Output: an aligned table; with --json the protobuf canonical JSON mapping (lowerCamelCase names, enums
        by name, int64 as strings), one object per line for lists.
        Defaults: --server 127.0.0.1:7443 (or VIGIL_SERVER), --ca ./vigil-data/tls/cert.pem (or VIGIL_CA).

        Exit status (errors are printed on stderr as "vigilctl: CODE: message"):
          0 done                 3 UNAUTHENTICATED (log in)            6 ABORTED, ALREADY_EXISTS, FAILED_PRECONDITION
          1 other failure        4 PERMISSION_DENIED                   7 INVALID_ARGUMENT, OUT_OF_RANGE
          2 usage error          5 NOT_FOUND                           8 UNAVAILABLE, DEADLINE_EXCEEDED,
                                                                         RESOURCE_EXHAUSTED (try again later)
        """

    static var full: String { [header, "", session, events, alerts, users, "", footer].joined(separator: "\n") }

    /// The help of one command group, or nil for an unknown word.
    static func group(_ word: String?) -> String? {
        let body: String
        switch word {
        case "events": body = self.events
        case "alerts": body = self.alerts
        case "users": body = self.users
        case "login", "logout", "whoami", "health", "stats": body = self.session
        default: return nil
        }
        return [self.header, "", body, "", "vigilctl --help lists every command, the defaults and the exit statuses."]
            .joined(separator: "\n")
    }

    /// The exit status for a status code from the server (see `footer`).
    static func exitStatus(_ code: Status.Code) -> Int32 {
        switch code {
        case .unauthenticated: 3
        case .permissionDenied: 4
        case .notFound: 5
        case .aborted, .alreadyExists, .failedPrecondition: 6
        case .invalidArgument, .outOfRange: 7
        case .unavailable, .deadlineExceeded, .resourceExhausted: 8
        default: 1
        }
    }
}
