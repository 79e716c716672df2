// The list queries the store answers, as plain values: filters, an order, a page size and the page token of the
// previous page. Built from the API requests by `init(_:)`, which is where an unknown enum value is refused.
public import VigilAPI
import VigilWire

/// Page sizes shared by every listing: 20 by default, at most 1000.
public enum PageSize {
    public static let `default` = 20
    public static let maximum = 1000

    /// 0 (unset) means the default; negatives and sizes above the maximum are refused (INVALID_ARGUMENT, as the
    /// API documents), so a client asking for 5,000 learns the limit instead of silently getting 1,000.
    static func resolve(_ requested: Int32) throws(StoreError) -> Int {
        guard requested >= 0, requested <= Self.maximum else {
            throw StoreError(.invalidArgument, "page_size must be 0 (the default, 20) to \(Self.maximum), not \(requested)")
        }
        return requested == 0 ? Self.default : Int(requested)
    }
}

/// A ListEvents query. Time bounds are nanoseconds since the epoch: `from` inclusive, `before` exclusive.
public struct EventQuery: Sendable, Hashable {
    public enum Order: UInt8, Sendable, Hashable {
        case occurredAt = 1
        /// Severity rank, then occurred_at, then id.
        case severity = 2
    }

    public var severities: [Severity] = []
    public var eventType: String?
    public var sourceName: String?
    public var occurredFrom: Int64?
    public var occurredBefore: Int64?
    public var order: Order = .occurredAt
    public var ascending = false
    /// 0 means the default (20).
    public var pageSize: Int32 = 0
    /// Empty for the first page.
    public var pageToken = ""

    public init() {}

    /// The query a ListEvents request asks for; unknown severities or orders are INVALID_ARGUMENT.
    public init(_ request: ListEventsRequest) throws(StoreError) {
        let filter = request.filter ?? EventFilter()
        self.severities = try filter.severities.map { severity throws(StoreError) in try validSeverity(severity) }
        self.eventType = filter.eventTypeUTF8.isEmpty ? nil : filter.eventType
        self.sourceName = filter.sourceNameUTF8.isEmpty ? nil : filter.sourceName
        self.occurredFrom = filter.occurred?.start?.unixNanoseconds
        self.occurredBefore = filter.occurred?.end?.unixNanoseconds
        switch request.orderBy {
        case .unspecified, .occurredAt: self.order = .occurredAt
        case .severity: self.order = .severity
        case .unrecognized(let value): throw StoreError(.invalidArgument, "unknown event order \(value)")
        }
        self.ascending = request.ascending
        self.pageSize = request.pageSize
        self.pageToken = request.pageToken
    }
}

/// A ListAlerts query. Time bounds apply to `created_at`, in nanoseconds: `from` inclusive, `before` exclusive.
public struct AlertQuery: Sendable, Hashable {
    public enum Order: UInt8, Sendable, Hashable {
        case createdAt = 1
        /// Lifecycle (OPEN, ACKNOWLEDGED, RESOLVED), then created_at, then id.
        case status = 2
        /// The event's severity rank, then created_at, then id.
        case severity = 3
    }

    public var statuses: [AlertStatus] = []
    public var severities: [Severity] = []
    public var sourceName: String?
    public var eventType: String?
    public var createdFrom: Int64?
    public var createdBefore: Int64?
    public var order: Order = .createdAt
    public var ascending = false
    public var pageSize: Int32 = 0
    public var pageToken = ""

    public init() {}

    /// The query a ListAlerts request asks for; unknown statuses, severities or orders are INVALID_ARGUMENT.
    public init(_ request: ListAlertsRequest) throws(StoreError) {
        let filter = request.filter ?? AlertFilter()
        self.statuses = try filter.statuses.map { status throws(StoreError) in try validStatus(status) }
        self.severities = try filter.severities.map { severity throws(StoreError) in try validSeverity(severity) }
        self.sourceName = filter.sourceNameUTF8.isEmpty ? nil : filter.sourceName
        self.eventType = filter.eventTypeUTF8.isEmpty ? nil : filter.eventType
        self.createdFrom = filter.created?.start?.unixNanoseconds
        self.createdBefore = filter.created?.end?.unixNanoseconds
        switch request.orderBy {
        case .unspecified, .createdAt: self.order = .createdAt
        case .status: self.order = .status
        case .severity: self.order = .severity
        case .unrecognized(let value): throw StoreError(.invalidArgument, "unknown alert order \(value)")
        }
        self.ascending = request.ascending
        self.pageSize = request.pageSize
        self.pageToken = request.pageToken
    }
}

/// A severity the store can rank (LOW...CRITICAL), or INVALID_ARGUMENT.
func validSeverity(_ severity: Severity) throws(StoreError) -> Severity {
    switch severity {
    case .low, .medium, .high, .critical: return severity
    default: throw StoreError(.invalidArgument, "severity must be LOW, MEDIUM, HIGH or CRITICAL")
    }
}

/// A status an alert can have (OPEN, ACKNOWLEDGED, RESOLVED), or INVALID_ARGUMENT.
func validStatus(_ status: AlertStatus) throws(StoreError) -> AlertStatus {
    switch status {
    case .open, .acknowledged, .resolved: return status
    default: throw StoreError(.invalidArgument, "status must be OPEN, ACKNOWLEDGED or RESOLVED")
    }
}
