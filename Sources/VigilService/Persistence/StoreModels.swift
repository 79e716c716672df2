// The values the Store takes and returns besides the API messages it shares with handlers (Event, Alert,
// AlertChange, User): what the API does not carry (password hashes, token records) and what only storage decides
// (the outcome of each inserted event). Times are integer nanoseconds since the Unix epoch, UTC, as stored.
public import VigilAPI
import VigilWire

/// The user on whose behalf the store writes: recorded with each event and alert change, by id and by name at the time.
public struct ActingUser: Sendable, Hashable {
    public var userID: Int64
    public var username: String

    public init(userID: Int64, username: String) {
        self.userID = userID
        self.username = username
    }
}

/// An event as validated by the service, before the store assigns its id and receipt time.
public struct NewEvent: Sendable, Hashable {
    public var sourceName: String
    public var eventType: String
    public var severity: Severity
    public var description: String
    /// When it happened; nil stores the receipt time.
    public var occurredAt: Int64?
    /// Caller-chosen key, unique per submitting user; nil (or empty) means none and costs no lookup.
    public var idempotencyKey: String?

    public init(
        sourceName: String,
        eventType: String,
        severity: Severity,
        description: String,
        occurredAt: Int64? = nil,
        idempotencyKey: String? = nil
    ) {
        self.sourceName = sourceName
        self.eventType = eventType
        self.severity = severity
        self.description = description
        self.occurredAt = occurredAt
        self.idempotencyKey = idempotencyKey
    }

    /// The ingest fields of a decoded `Event` (server-assigned fields are ignored: the service refuses them earlier).
    public init(_ event: Event) {
        self.init(
            sourceName: event.sourceName,
            eventType: event.eventType,
            severity: event.severity,
            description: event.description,
            occurredAt: event.occurredAt?.unixNanoseconds,
            idempotencyKey: event.idempotencyKeyUTF8.isEmpty ? nil : event.idempotencyKey
        )
    }
}

/// What happened to one event of an `insertEvents` batch, in the batch's order.
public enum InsertOutcome: Sendable, Hashable {
    /// Stored with this id; `alertID` is the alert it raised (HIGH and CRITICAL only).
    case stored(eventID: Int64, alertID: Int64?)
    /// Its idempotency key was already stored for this user (by an earlier batch or earlier in this one).
    case duplicate(existingEventID: Int64)
}

/// One ingest batch as the store commits it: whose, which sequence, and the events that passed validation.
public struct IngestBatch: Sendable {
    public var producerID: [UInt8]
    public var sequence: UInt64
    public var submitter: ActingUser
    public var events: [NewEvent]

    public init(producerID: [UInt8], sequence: UInt64, submitter: ActingUser, events: [NewEvent]) {
        self.producerID = producerID
        self.sequence = sequence
        self.submitter = submitter
        self.events = events
    }
}

/// What a committed ingest batch did.
public enum IngestOutcome: Sendable, Hashable {
    /// The batch was new: one outcome per event, in order.
    case stored([InsertOutcome])
    /// The batch's sequence was already committed: nothing stored.
    case duplicateBatch
}

/// What the store knows of an ingest producer.
public struct ProducerState: Sendable, Hashable {
    public var ownerUserID: Int64
    public var lastSequence: UInt64
}

/// An event and the alert it raised, if any: what GetEvent returns.
public struct EventDetail: Sendable, Hashable {
    public var event: Event
    public var alertID: Int64?
}

/// An alert (with its event embedded) and its history, oldest change first: what GetAlert returns.
public struct AlertDetail: Sendable, Hashable {
    public var alert: Alert
    public var history: [AlertChange]
}

/// One page of a keyset listing. `nextPageToken` is empty on the last page.
public struct Page<Item: Sendable & Hashable>: Sendable, Hashable {
    public var items: [Item]
    public var nextPageToken: String
}

/// Counts for GetStats; every severity and status appears, with 0 where there is nothing, in rank order.
public struct StoreStats: Sendable, Hashable {
    public var totalEvents: Int64
    public var totalAlerts: Int64
    public var eventsBySeverity: [SeverityCount]
    public var alertsByStatus: [AlertStatusCount]
    public var alertsBySeverity: [SeverityCount]
}

/// What a retention pass deleted.
public struct RetentionResult: Sendable, Hashable {
    public var events: Int
    public var alerts: Int
    public var alertChanges: Int
}
