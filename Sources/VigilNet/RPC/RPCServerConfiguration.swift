// Every limit of the RPC server in one value, with the safe defaults docs/PROTOCOL.md and the issue name, so vigild
// maps each of its flags onto one field and a test can tighten any of them.
public import VigilPOSIX
public import VigilRPC
public import VigilTLS

extension RPCServer {
    /// Where to listen and what to allow.
    public struct Configuration: Sendable {
        public var address: SocketAddress
        public var tls: TLSContext
        /// Connections beyond this are accepted and closed at once (TCPServer counts them), unless one has been in its
        /// TLS handshake for a quarter of `handshakeTimeout` (at most 1 s): that one is closed for the newcomer.
        public var maxConnections: Int
        /// Streams one connection may have open; HEADERS beyond it are answered TRAILERS UNAVAILABLE ("too many
        /// concurrent streams": not processed, safe to retry), as docs/PROTOCOL.md §11 says.
        public var maxConcurrentStreams: Int
        /// A request message above this ends its stream RESOURCE_EXHAUSTED; the connection goes on.
        public var maxMessageBytes: Int
        /// HEADERS payloads above this end the stream RESOURCE_EXHAUSTED.
        public var maxHeaderBytes: Int
        /// Largest frame the client may send: 1 MiB, so a message of up to a megabyte arrives in one frame and is
        /// handed to its handler without being reassembled (a copy) from 64 KiB pieces.
        public var maxFrameSize: Int
        /// Per-stream and per-connection receive windows: what a slow handler can make the server buffer. 1 MiB per
        /// stream keeps 16 messages of 64 KiB in flight (the protocol's 64 KiB default allowed less than one, and a
        /// one-stream upload waited a round trip per message); 4 MiB per connection leaves room for several streams.
        public var initialStreamWindow: Int
        public var initialConnectionWindow: Int
        /// How many connections at a time get those windows; the rest get the protocol's defaults (64 KiB per
        /// stream, 1 MiB per connection). What a connection can make the server buffer is its connection window, so
        /// this caps what the large windows add to the worst case at 64 × 3 MiB by default, where giving them to
        /// all 10,000 connections would have quadrupled it (to 40 GiB); the few busy connections of a benchmark
        /// or a bulk upload still get the throughput. An ingest batch (~13 KB) fits the default windows.
        public var largeWindowConnections: Int
        /// A peer that has not finished the TLS handshake by then is disconnected; one that has not then completed
        /// the SETTINGS exchange within as long again is sent GOAWAY SETTINGS_TIMEOUT and closed.
        public var handshakeTimeout: Duration
        /// A connection with no open stream for this long is sent GOAWAY and closed; nil keeps it.
        public var idleTimeout: Duration?
        /// After this long without receiving a byte the server PINGs; nil sends no keepalive.
        public var keepaliveInterval: Duration?
        /// A PING unanswered (no byte at all received) this long after it was sent closes the connection.
        public var keepaliveTimeout: Duration
        /// How long a graceful shutdown lets in-flight streams run before closing anyway.
        public var shutdownGracePeriod: Duration

        public init(
            address: SocketAddress,
            tls: TLSContext,
            maxConnections: Int = 10_000,
            maxConcurrentStreams: Int = 100,
            maxMessageBytes: Int = 4 * 1024 * 1024,
            maxHeaderBytes: Int = 16_384,
            maxFrameSize: Int = 1_048_576,
            initialStreamWindow: Int = 1_048_576,
            initialConnectionWindow: Int = 4_194_304,
            largeWindowConnections: Int = 64,
            handshakeTimeout: Duration = .seconds(10),
            idleTimeout: Duration? = .seconds(300),
            keepaliveInterval: Duration? = .seconds(60),
            keepaliveTimeout: Duration = .seconds(20),
            shutdownGracePeriod: Duration = .seconds(30)
        ) {
            self.address = address
            self.tls = tls
            self.maxConnections = maxConnections
            self.maxConcurrentStreams = maxConcurrentStreams
            self.maxMessageBytes = maxMessageBytes
            self.maxHeaderBytes = maxHeaderBytes
            self.maxFrameSize = maxFrameSize
            self.initialStreamWindow = initialStreamWindow
            self.initialConnectionWindow = initialConnectionWindow
            self.largeWindowConnections = largeWindowConnections
            self.handshakeTimeout = handshakeTimeout
            self.idleTimeout = idleTimeout
            self.keepaliveInterval = keepaliveInterval
            self.keepaliveTimeout = keepaliveTimeout
            self.shutdownGracePeriod = shutdownGracePeriod
        }

        /// What the server advertises (and enforces once acknowledged) on a connection that holds one of the
        /// `largeWindowConnections` slots.
        public var settings: ConnectionSettings { self.settings(largeWindows: true) }

        /// What the server advertises: the configured windows, or without a large-window slot the protocol's.
        public func settings(largeWindows: Bool) -> ConnectionSettings {
            var settings = ConnectionSettings()
            settings.maxConcurrentStreams = self.maxConcurrentStreams
            settings.maxMessageBytes = self.maxMessageBytes
            settings.maxHeaderBytes = self.maxHeaderBytes
            settings.maxFrameSize = self.maxFrameSize
            if largeWindows {
                settings.initialStreamWindow = self.initialStreamWindow
                settings.initialConnectionWindow = self.initialConnectionWindow
            }
            return settings
        }

        /// How often a connection checks keepalive, idleness and draining: often enough for the shortest of them.
        var tick: Duration {
            var tick = min(Duration.seconds(1), self.handshakeTimeout / 4)
            if let keepalive = self.keepaliveInterval { tick = min(tick, keepalive / 4) }
            if let idle = self.idleTimeout { tick = min(tick, idle / 4) }
            return max(tick, .milliseconds(5))
        }
    }
}
