// libFuzzer harness for the protobuf decoder of every request message a server reads: the `vigil.v1.Vigil` and
// `vigil.v1.Diagnostics` services' request types (generated in VigilAPI, decoded by VigilWire). Input: one selector
// byte (which message, modulo the list), then the message bytes. The properties are in Support/WireRoundTrip.swift.
// Seeds are the golden vectors of Proto/golden, each behind its selector (fuzz.sh --make-seeds writes them).

import VigilAPI
import VigilWire

/// Request messages, in the order the selector byte indexes them. Appending keeps old seeds meaning the same type.
let requestTypes: [any WireMessage.Type] = [
    AuthenticateRequest.self,
    RefreshTokenRequest.self,
    WhoAmIRequest.self,
    IngestEventsRequest.self,
    ListEventsRequest.self,
    GetEventRequest.self,
    ListAlertsRequest.self,
    GetAlertRequest.self,
    UpdateAlertRequest.self,
    GetStatsRequest.self,
    CreateUserRequest.self,
    UpdateUserRequest.self,
    ListUsersRequest.self,
    GetUserRequest.self,
    EchoRequest.self,
    SinkRequest.self,
    HealthCheckRequest.self,
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAPIRequests(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzBytes(data, size)
    guard let selector = input.first else { return 0 }
    checkWireRoundTrip(any: requestTypes[Int(selector) % requestTypes.count], fuzzPayload(data, size))
    return 0
}
