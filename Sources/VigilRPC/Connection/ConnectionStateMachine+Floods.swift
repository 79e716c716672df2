// Which received frames spend from the flood budgets (FloodLimits), decided before the frame is applied so the
// rule reads in one place: PINGs, empty DATA without END_STREAM, WINDOW_UPDATEs that give more than was used, and
// (server side) streams that end for nothing: reset by the client while open, or refused at once.

extension ConnectionStateMachine {
    /// The budgets a frame may spend from.
    public enum FloodKind: Sendable, Hashable {
        case controlFrame
        case streamReset
    }

    /// The budget `frame` spends from, or nil for frames that carry work the peer asked for and will use.
    func floodCost(of frame: Frame) -> FloodKind? {
        switch frame {
        case .ping:
            return .controlFrame
        case .data(_, let data):
            // Nothing to deliver and no half-close: a frame that exists only to be processed.
            return data.flowControlledLength == 0 && !data.endStream ? .controlFrame : nil
        case .windowUpdate(let id, let increment) where id.isConnection:
            // A peer credits back what it consumed, so the window never exceeds its initial size; more is a gift
            // that costs us a pass over every waiting stream.
            return self.connectionSendWindow + Int(increment) > self.peerSettings.initialConnectionWindow
                ? .controlFrame : nil
        case .windowUpdate(let id, let increment):
            // An update for a stream that has ended is not counted: one crossing the stream's end is normal (the
            // reader credited what it read while the trailers were on their way), and it costs us only a lookup.
            guard let stream = self.streams[id] else { return nil }
            return stream.sendWindow + Int(increment) > self.peerSettings.initialStreamWindow ? .controlFrame : nil
        case .reset(let id, _):
            // The rapid reset: the stream was opened (a handler started) and abandoned before it finished.
            return self.role == .server && self.streams[id] != nil ? .streamReset : nil
        case .headers(let id, _, _):
            guard self.role == .server, id > self.lastStreamID, self.streams[id] == nil else { return nil }
            if let goAway = self.goAwaySent, id > goAway.lastStreamID { return .streamReset }
            return self.streams.count >= self.enforcedLocalSettings.maxConcurrentStreams ? .streamReset : nil
        case .trailers, .pong, .goAway, .settings, .settingsAck:
            return nil
        }
    }

    /// Takes a token from the budget; false when it is empty.
    mutating func spend(_ kind: FloodKind, at now: ContinuousClock.Instant?) -> Bool {
        let now = now ?? ContinuousClock.now
        switch kind {
        case .controlFrame: return self.floodLimits.controlFrames.take(at: now)
        case .streamReset: return self.floodLimits.streamResets.take(at: now)
        }
    }

    /// The peer overdid it: GOAWAY ENHANCE_YOUR_CALM, every stream ends, the owner closes.
    mutating func calm(_ kind: FloodKind, after type: FrameType?) -> ConnectionAction {
        let message =
            switch kind {
            case .controlFrame:
                "too many control frames (\(type.map { "\($0)" } ?? "frame")): more than "
                    + "\(self.floodLimits.controlFrames.burst) in a burst, "
                    + "\(self.floodLimits.controlFrames.perSecond)/s sustained"
            case .streamReset:
                "too many streams reset or refused: more than \(self.floodLimits.streamResets.burst) in a burst, "
                    + "\(self.floodLimits.streamResets.perSecond)/s sustained"
            }
        return self.connectionError(.enhanceYourCalm, message)
    }
}
