#!/usr/bin/env bash
# Builds the libFuzzer harnesses of Tests/Fuzz/Harnesses (with AddressSanitizer) and runs each for a set time.
#
#   Tests/Fuzz/fuzz.sh [--seconds N] [--jobs N] [--build-only] [--optimize -Onone|-O] [harness...]
#
# One line per harness: `frame-decoder: 123456 runs, 0 crashes`; exit status 1 when any harness crashed (the input
# is left in .build-fuzz/crashes/<harness>/ and the log in .build-fuzz/logs/<run>/<harness>.log), 2 on a usage or
# build error. Extra libFuzzer flags can be passed in FUZZ_FLAGS (for example FUZZ_FLAGS=-runs=0 to only replay the
# corpus, or a crash file's path to reproduce it). Harnesses: frame-decoder, rpc-payloads, api-requests,
# token-parser, event-lines (default: all). Tests/Fuzz/README.md says what each one checks.
#
# Why swiftc by hand rather than `swift build`: only the modules a harness needs are compiled, each with
# `-sanitize=fuzzer,address` (coverage for libFuzzer, ASan for memory errors); the package's own .build stays
# untouched, so this runs inside `swift test` (which holds the .build lock). Of VigilRPC only the codec part is
# built (root files, Framing/, Generated/): the connection, client and server code is not on any harness's path.
# The token and event-line harnesses compile their few source files into the harness itself, instead of all of
# VigilService (SQLite, the store) or VigilClient (the network stack). Modules are rebuilt when a source file is
# newer than the built library; everything is rebuilt when the compiler flags change. Everything lands in
# .build-fuzz/ (gitignored).
#
# Static libraries carry no autolink entries the driver reads, so the harness link names the system and toolchain
# libraries VigilTLS needs (OpenSSL, Synchronization) itself.
#
# libFuzzer limits: -malloc_limit_mb turns any single allocation above it into a crash, so a length field trusted
# before it is checked shows up even though nothing overflows. It is 1 MiB: inputs are at most 8 KiB (-max_len),
# the largest honest allocation is EventLineReader's 64 KiB read buffer, and every limit a decoder could wrongly
# reserve up front from a declared length (4 MiB messages, 16 MiB frames, 1 MiB lines) is above it.
# -rss_limit_mb bounds total memory, -timeout one input. LeakSanitizer is on (ASAN_OPTIONS may override): Swift's
# runtime caches do not trip it, so a report is a real leak (a reference cycle, an unbalanced retain).
set -euo pipefail

seconds=60
jobs=1
build_only=0
optimize=-O
selected=()
all_harnesses=(frame-decoder rpc-payloads api-requests token-parser event-lines)

usage() {
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds="${2:?--seconds needs a value}"; shift 2 ;;
        --jobs) jobs="${2:?--jobs needs a value}"; shift 2 ;;
        --build-only) build_only=1; shift ;;
        --optimize) optimize="${2:?--optimize needs -Onone or -O}"; shift 2 ;;
        -h|--help) usage ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; usage ;;
        *) selected+=("$1"); shift ;;
    esac
done
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -ge 1 ]] || { echo "fuzz.sh: --seconds must be a positive number" >&2; exit 2; }
[[ "$jobs" =~ ^[0-9]+$ && "$jobs" -ge 1 ]] || { echo "fuzz.sh: --jobs must be a positive integer" >&2; exit 2; }
[[ "$optimize" == -O || "$optimize" == -Onone ]] || { echo "fuzz.sh: --optimize is -O or -Onone" >&2; exit 2; }
[[ ${#selected[@]} -gt 0 ]] || selected=("${all_harnesses[@]}")
for name in "${selected[@]}"; do
    [[ " ${all_harnesses[*]} " == *" $name "* ]] || { echo "fuzz.sh: no harness named $name" >&2; exit 2; }
done

root="$(cd "$(dirname "$0")/../.." && pwd)"
fuzz="$root/Tests/Fuzz"
out="$root/.build-fuzz"
build="$out/build${optimize}"
logs="$out/logs/$(date -u +%Y%m%dT%H%M%S)-$$"
mkdir -p "$build" "$logs"
if ! command -v swiftc > /dev/null; then export PATH="/opt/swift/usr/bin:$PATH"; fi

# One build at a time per checkout: two `swift test` processes could otherwise write the same libraries. Runs may
# overlap (libFuzzer adds corpus files under content hashes; logs are per invocation).
exec 9> "$out/lock"
flock -w 900 9 || { echo "fuzz.sh: another fuzz.sh holds $out/lock" >&2; exit 2; }

swift_flags=(
    -swift-version 6
    -enable-upcoming-feature ExistentialAny
    -enable-upcoming-feature InternalImportsByDefault
    -enable-upcoming-feature MemberImportVisibility
    -parse-as-library -wmo "$optimize" -sanitize=fuzzer,address
    -package-name Vigil -I "$build" -I "$root/Sources/COpenSSL" -L "$build"
)

# Built products of other flags (an edit of this script, another toolchain) are thrown away, not mixed in.
flags_stamp="$(swiftc --version 2>&1 | head -1) ${swift_flags[*]}"
if [[ "$(cat "$build/flags" 2>/dev/null || true)" != "$flags_stamp" ]]; then
    rm -f "$build"/*.a "$build"/*.swiftmodule "$build"/*.swiftdoc "$build"/*.swiftsourceinfo
    for name in "${all_harnesses[@]}"; do rm -f "${build:?}/$name"; done
    printf '%s' "$flags_stamp" > "$build/flags"
fi

# Source files of each module, as built for fuzzing (see the header for why VigilRPC is a subset).
module_sources() {
    case "$1" in
        VigilWire) find "$root/Sources/VigilWire" -name '*.swift' ;;
        VigilRPC)
            find "$root/Sources/VigilRPC" -maxdepth 1 -name '*.swift'
            find "$root/Sources/VigilRPC/Framing" "$root/Sources/VigilRPC/Generated" -name '*.swift'
            ;;
        VigilAPI) find "$root/Sources/VigilAPI" -name '*.swift' ;;
        VigilTLS) find "$root/Sources/VigilTLS" -name '*.swift' ;;
    esac | LC_ALL=C sort
}

# The modules each harness links (dependencies first) and the project files compiled into the harness itself.
harness_modules() {
    case "$1" in
        frame-decoder | rpc-payloads) echo VigilWire VigilRPC ;;
        api-requests) echo VigilWire VigilRPC VigilAPI ;;
        token-parser | event-lines) echo VigilWire VigilRPC VigilAPI VigilTLS ;;
    esac
}
harness_sources() {
    echo "$fuzz/Harnesses/$1.swift"
    find "$fuzz/Support" -name '*.swift' | LC_ALL=C sort
    case "$1" in
        token-parser)
            for file in AuthClock Base64URL Role+Auth TokenClaims TokenCodec TokenError; do
                echo "$root/Sources/VigilService/Auth/$file.swift"
            done
            ;;
        event-lines) find "$root/Clients/VigilClient/EventLines" -name '*.swift' | LC_ALL=C sort ;;
    esac
}

# True when $1 is missing or older than any of the other arguments.
stale() {
    local target="$1" file
    shift
    [[ -e "$target" ]] || return 0
    for file in "$@"; do
        [[ "$file" -nt "$target" ]] && return 0
    done
    return 1
}

# The modules a module imports (already built when it is).
module_dependencies() {
    case "$1" in
        VigilRPC) echo VigilWire ;;
        VigilAPI) echo VigilWire VigilRPC ;;
    esac
}

build_module() {
    local module="$1" library="$build/lib$1.a" dependency sources inputs=()
    mapfile -t sources < <(module_sources "$module")
    for dependency in $(module_dependencies "$module"); do inputs+=("$build/lib$dependency.a"); done
    if stale "$library" "${sources[@]}" "${inputs[@]}"; then
        swiftc "${swift_flags[@]}" -module-name "$module" -emit-module -emit-module-path "$build/$module.swiftmodule" \
            -emit-library -static -o "$library.tmp" "${sources[@]}"
        mv "$library.tmp" "$library"
    fi
}

build_harness() {
    local name="$1" binary="$build/$1" module modules sources libraries=() link=()
    read -r -a modules <<< "$(harness_modules "$name")"
    mapfile -t sources < <(harness_sources "$name")
    for module in "${modules[@]}"; do build_module "$module"; done
    for module in "${modules[@]}"; do libraries+=("$build/lib$module.a"); done
    if stale "$binary" "${sources[@]}" "${libraries[@]}"; then
        for ((i = ${#modules[@]} - 1; i >= 0; i--)); do link+=("-l${modules[i]}"); done
        [[ " ${modules[*]} " == *" VigilTLS "* ]] && link+=(-lssl -lcrypto -lswiftSynchronization)
        swiftc "${swift_flags[@]}" -module-name "Fuzz_${name//-/_}" -o "$binary.tmp" "${sources[@]}" "${link[@]}"
        mv "$binary.tmp" "$binary"
    fi
}

started=$SECONDS
for name in "${selected[@]}"; do
    if ! build_harness "$name" > "$logs/$name.build.log" 2>&1; then
        cat "$logs/$name.build.log" >&2
        echo "fuzz.sh: building $name failed" >&2
        exit 2
    fi
done
echo "built ${selected[*]} ($optimize) in $((SECONDS - started))s; logs in $logs"
exec 9>&-
[[ "$build_only" -eq 0 ]] || exit 0

# Runs one harness for $seconds over its seeds plus a growing corpus of its own; prints its summary line.
run_harness() {
    local name="$1" log="$logs/$1.log" corpus="$out/corpus/$1" crashes="$out/crashes/$1"
    mkdir -p "$corpus" "$crashes"
    local status=0 dictionary=()
    # Dictionaries name the JSON keys and values a parser compares with Swift strings, which libFuzzer's comparison
    # tracing does not see through.
    [[ ! -f "$fuzz/dict/$name.dict" ]] || dictionary=(-dict="$fuzz/dict/$name.dict")
    # libFuzzer stops itself after -max_total_time; `timeout` is the backstop if it cannot (a hang in a signal
    # handler, a stuck pipe).
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}" \
        timeout --kill-after=10 $((seconds + 120)) "$build/$name" \
        -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1 \
        -print_final_stats=1 -artifact_prefix="$crashes/" "${dictionary[@]}" ${FUZZ_FLAGS:-} \
        "$corpus" "$fuzz/corpus/$name" > "$log" 2>&1 || status=$?
    local runs crashed
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    crashed="$(grep -c -E '^(Test unit written to|artifact_prefix=.*Test unit written to)' "$log" || true)"
    [[ "$status" -eq 0 || "$crashed" -gt 0 ]] || crashed=1
    echo "$name: ${runs:-0} runs, $crashed crashes$([[ "$crashed" -eq 0 ]] || echo " (log: $log)")"
    if [[ "$crashed" -gt 0 ]]; then
        grep -E 'fuzz property failed|ERROR: (AddressSanitizer|libFuzzer)|Fatal error|Test unit written to' "$log" \
            | head -5 | sed 's/^/    /'
        return 1
    fi
}

failed=0
running=0
results="$logs/results"
: > "$results"
for name in "${selected[@]}"; do
    if [[ "$jobs" -le 1 ]]; then
        run_harness "$name" || failed=1
    else
        { run_harness "$name" > "$results.$name" || echo "$name" >> "$results"; } &
        running=$((running + 1))
        if [[ "$running" -ge "$jobs" ]]; then wait -n || true; running=$((running - 1)); fi
    fi
done
if [[ "$jobs" -gt 1 ]]; then
    wait
    for name in "${selected[@]}"; do cat "$results.$name"; rm -f "$results.$name"; done
    [[ ! -s "$results" ]] || failed=1
fi
rm -f "$results"
exit "$failed"
