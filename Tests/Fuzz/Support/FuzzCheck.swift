// Shared by every harness (compiled into each one; harnesses are separate programs). A harness finds bugs two ways:
// the sanitizer or a Swift trap stops the process (out-of-bounds, overflow, a huge allocation), or one of the
// harness's own properties fails (two ways of decoding disagree, a round trip changes a value). The second kind is
// reported through `fuzzCheck`, which prints what differed before it traps, so the crash input and the log say why.

/// Traps with `message` when `condition` is false. Not `precondition`: that message is dropped in -Ounchecked and
/// harnesses must fail the same way at every optimisation level.
func fuzzCheck(
    _ condition: Bool,
    _ message: @autoclosure () -> String,
    file: StaticString = #fileID,
    line: UInt = #line
) {
    if !condition {
        print("fuzz property failed at \(file):\(line): \(message())")
        fatalError("fuzz property failed: \(message())", file: file, line: line)
    }
}

/// The fuzzer's input as a Swift array; libFuzzer may pass a null pointer for the empty input.
func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}
