// Decodes golden bytes into a message type known only at run time and encodes the result again.
public import VigilWire

public enum GoldenRoundTrip {
    public static func reencode(_ type: any WireMessage.Type, _ bytes: [UInt8]) throws -> [UInt8] {
        try self.open(type, bytes)
    }

    private static func open<M: WireMessage>(_ type: M.Type, _ bytes: [UInt8]) throws -> [UInt8] {
        try M(serializedBytes: bytes).serializedBytes()
    }
}
