// Status codes keep gRPC's numbers and names, so a Vigil status means the same to any gRPC-literate reader.

import Testing
import VigilRPC

@Suite("Status and codes")
struct StatusTests {
    static let table: [(Status.Code, UInt32, String)] = [
        (.ok, 0, "OK"), (.cancelled, 1, "CANCELLED"), (.unknown, 2, "UNKNOWN"),
        (.invalidArgument, 3, "INVALID_ARGUMENT"), (.deadlineExceeded, 4, "DEADLINE_EXCEEDED"),
        (.notFound, 5, "NOT_FOUND"), (.alreadyExists, 6, "ALREADY_EXISTS"),
        (.permissionDenied, 7, "PERMISSION_DENIED"), (.resourceExhausted, 8, "RESOURCE_EXHAUSTED"),
        (.failedPrecondition, 9, "FAILED_PRECONDITION"), (.aborted, 10, "ABORTED"),
        (.outOfRange, 11, "OUT_OF_RANGE"), (.unimplemented, 12, "UNIMPLEMENTED"), (.internal, 13, "INTERNAL"),
        (.unavailable, 14, "UNAVAILABLE"), (.dataLoss, 15, "DATA_LOSS"), (.unauthenticated, 16, "UNAUTHENTICATED"),
    ]

    @Test("codes have gRPC's numbers and names")
    func numbering() {
        for (code, number, name) in Self.table {
            #expect(code.rawValue == number)
            #expect(code.description == name)
            #expect(Status.Code(rawValue: number) == code)
        }
        #expect(Status.Code.allKnown == Self.table.map(\.0))
    }

    @Test("an unknown code survives and names itself by number")
    func unknownCode() {
        let code = Status.Code(rawValue: 17)
        #expect(code.description == "CODE_17")
        #expect(!Status.Code.allKnown.contains(code))
    }

    @Test("status and error descriptions")
    func descriptions() {
        #expect(Status.ok.description == "OK")
        #expect(Status.ok.isOK)
        let status = Status(code: .unavailable, message: "draining")
        #expect(status.description == "UNAVAILABLE: draining")
        var metadata = Metadata()
        metadata.append("authorization", "Bearer secret")
        let error = RPCError(code: .unauthenticated, message: "token expired", metadata: metadata)
        #expect(error.status == Status(code: .unauthenticated, message: "token expired"))
        #expect(!error.description.contains("secret"))
    }

    @Test("GOAWAY codes have the spec's numbers")
    func goAwayCodes() {
        let codes: [(GoAwayCode, String)] = [
            (.noError, "NO_ERROR"), (.protocolError, "PROTOCOL_ERROR"), (.internalError, "INTERNAL_ERROR"),
            (.flowControlError, "FLOW_CONTROL_ERROR"), (.frameSizeError, "FRAME_SIZE_ERROR"),
            (.settingsTimeout, "SETTINGS_TIMEOUT"), (.unsupportedVersion, "UNSUPPORTED_VERSION"),
            (.enhanceYourCalm, "ENHANCE_YOUR_CALM"),
        ]
        for (number, (code, name)) in codes.enumerated() {
            #expect(code.rawValue == UInt32(number))
            #expect(code.description == name)
        }
    }
}
