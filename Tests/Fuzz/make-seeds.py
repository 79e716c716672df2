#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz harness into Tests/Fuzz/corpus/<harness>/ (committed; rerun after changing
a harness's input layout or the golden vectors). Seeds are small valid inputs, so the fuzzer starts from the
shapes the decoders accept instead of having to discover the preface, frame header and protobuf layout by chance:
the golden vectors of Proto/golden (protoc's encodings) for the protobuf harnesses and as DATA payloads for the
frame decoder, hand-built frames and RPC payloads, tokens signed with the harness's secret, and event lines.
Each harness's first input byte selects a mode or message; the layouts are in the harness's header comment.
Usage: Tests/Fuzz/make-seeds.py (from anywhere; stdlib only)."""

import base64
import hashlib
import hmac
import json
import pathlib
import shutil
import struct

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "Tests" / "Fuzz" / "corpus"
GOLDEN = ROOT / "Proto" / "golden"

# Must match requestTypes in Harnesses/api-requests.swift (the selector byte indexes it).
REQUEST_TYPES = [
    "AuthenticateRequest", "RefreshTokenRequest", "WhoAmIRequest", "IngestEventsRequest", "ListEventsRequest",
    "GetEventRequest", "ListAlertsRequest", "GetAlertRequest", "UpdateAlertRequest", "GetStatsRequest",
    "CreateUserRequest", "UpdateUserRequest", "ListUsersRequest", "GetUserRequest", "EchoRequest", "SinkRequest",
    "HealthCheckRequest",
]
# Must match Harnesses/token-parser.swift.
TOKEN_SECRET = b"fuzz-secret-0123456789abcdef-0123456789"
TOKEN_NOW = 1_800_000_000


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def field_bytes(number: int, value: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(value)) + value


def metadata_entry(key: str, value: str = "", binary: bytes = b"") -> bytes:
    out = field_bytes(1, key.encode())
    if value:
        out += field_bytes(2, value.encode())
    if binary:
        out += field_bytes(3, binary)
    return out


HEADERS = (field_bytes(1, b"/vigil.v1.Vigil/WhoAmI") + field_bytes(2, metadata_entry("authorization", "Bearer a.b.c"))
           + field_bytes(2, metadata_entry("trace-bin", binary=b"\x00\x01\xff")) + field_varint(3, 1_500_000))
RESPONSE_HEADERS = field_bytes(2, metadata_entry("server", "vigild"))
TRAILERS = field_varint(1, 5) + field_bytes(2, b"not found") + field_bytes(3, metadata_entry("x-retry", "no"))
SETTINGS = field_varint(1, 32_768) + field_varint(2, 1 << 20) + field_varint(3, 1 << 21) + field_varint(4, 7) \
    + field_varint(5, 8192) + field_varint(6, 1 << 20)
GOAWAY = field_varint(1, 7) + field_varint(2, 1) + field_bytes(3, b"draining")


def frame(frame_type: int, payload: bytes = b"", flags: int = 0, stream: int = 0) -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([frame_type, flags]) + struct.pack(">I", stream) + payload


def data_message(stream: int, message: bytes, end_stream: bool = False) -> bytes:
    flags = 0x04 | 0x02 | (0x01 if end_stream else 0)
    return frame(0, struct.pack(">I", len(message)) + message, flags, stream)


def golden(name: str) -> bytes:
    return (GOLDEN / f"vigil.v1.{name}.binpb").read_bytes()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(header: bytes, payload: bytes) -> bytes:
    signing_input = f"{b64url(header)}.{b64url(payload)}"
    signature = hmac.new(TOKEN_SECRET, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}".encode()


def write(harness: str, seeds: dict) -> None:
    directory = CORPUS / harness
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    for name, data in seeds.items():
        (directory / name).write_bytes(data)


def main() -> None:
    preface = b"VIGIL\r\n\x01"
    conversation = (preface + frame(7, SETTINGS) + frame(7, flags=1) + frame(1, HEADERS, stream=1)
                    + data_message(1, golden("EchoRequest"), end_stream=True) + frame(4, struct.pack(">I", 65_535))
                    + frame(5, b"12345678") + frame(2, TRAILERS, stream=1) + frame(3, struct.pack(">I", 8), stream=3)
                    + frame(6, GOAWAY))
    split_message = (frame(1, HEADERS, stream=5) + frame(0, struct.pack(">I", 10) + b"abc", 0x04, 5)
                     + frame(0, b"defg", 0, 5) + frame(0, b"hij", 0x03, 5) + frame(1, RESPONSE_HEADERS, 1, 7))
    frames = {
        "conversation": b"\x01" + conversation,
        "conversation-chunked": b"\x0e" + conversation,
        "bare-frames": b"\x00" + split_message,
        "ingest": b"\x00" + frame(1, HEADERS, stream=1) + data_message(1, golden("IngestEventsRequest@batch")),
        "settings-ack-ping": b"\x03" + preface + frame(7) + frame(5, b"\x00" * 8, 1),
        "packed": b"\x00" + frame(1, HEADERS, stream=1) + frame(0, b"".join(
            struct.pack(">I", len(m)) + m for m in [golden("EchoRequest"), b"", b"abc"]), 0x08 | 0x01, 1),
    }
    write("frame-decoder", frames)

    write("api-requests", {
        path.stem: bytes([REQUEST_TYPES.index(path.stem.split("@")[0].removeprefix("vigil.v1."))]) + path.read_bytes()
        for path in sorted(GOLDEN.glob("vigil.v1.*.binpb"))
        if path.stem.split("@")[0].removeprefix("vigil.v1.") in REQUEST_TYPES
    })

    write("rpc-payloads", {
        "headers": b"\x00" + HEADERS,
        "headers-end-stream": b"\x80" + RESPONSE_HEADERS,
        "trailers": b"\x01" + TRAILERS,
        "settings": b"\x02" + SETTINGS,
        "goaway": b"\x03" + GOAWAY,
        "metadata-entry": b"\x04" + metadata_entry("x-bin", binary=b"\x01\x02"),
    })

    header = b'{"alg":"HS256","typ":"JWT"}'
    claims = {"user_id": 7, "role": "analyst", "token_type": "access", "iat": TOKEN_NOW - 60, "exp": TOKEN_NOW + 900,
              "jti": "abcDEF0123-_", "tep": 2}
    refresh = dict(claims, token_type="refresh", fam="family-1")
    access_json = json.dumps(claims, separators=(",", ":")).encode()
    refresh_json = json.dumps(refresh, separators=(",", ":")).encode()
    rfc7515 = (b"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6"
               b"Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    write("token-parser", {
        "access": b"\x00" + token(header, access_json),
        "refresh": b"\x00" + token(header, refresh_json),
        "rfc7515": b"\x00" + rfc7515,
        "alg-none": b"\x00" + (b64url(b'{"alg":"none"}') + "." + b64url(access_json) + ".").encode(),
        "signed-claims": b"\x01" + header + b"\x00" + access_json,
        "signed-refresh-spaced": b"\x01" + b'{ "typ" : "JWT", "alg" : "HS256" }' + b"\x00"
        + json.dumps(refresh).encode(),
        "base64url": b"\x02" + b64url(bytes(range(40))).encode(),
    })

    lines = [
        '{"source_name":"web-01","event_type":"ssh.login_failed","severity":"High","description":"5 failed logins",'
        '"occurred_at":"2026-11-25T10:00:00.25Z","idempotency_key":"imp-1"}',
        '{"source_name":"db","event_type":"x","severity":"SEVERITY_LOW","description":"d",'
        '"occurred_at":"2026-11-25T11:00:00.123456789+01:00"}',
        '{"source_name":"a","event_type":"b","severity":"critical","description":"\\u00e9\\ud83d\\ude00",'
        '"occurred_at":null,"idempotency_key":null}',
        "",
        "not json",
        '{"severty":"low"}\r',
    ]
    write("event-lines", {
        "file": b"\x00" + "\n".join(lines).encode(),
        "file-chunked-key-from-line": b"\x1d" + "\n".join(lines).encode() + b"\n",
        "long-line-limit": b"\x06" + ("\n".join(lines[:2]) + "\n" + "x" * 100).encode(),
    })


if __name__ == "__main__":
    main()
