// Public entry points take any byte collection ([UInt8], ArraySlice, String.UTF8View); OpenSSL wants a pointer and
// a length. This is the one place that bridges the two, copying only when the collection has no contiguous storage.

extension Collection where Element == UInt8 {
    /// Runs `body` over the bytes as one contiguous buffer, borrowing storage when the collection has it.
    func withContiguousBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        if let result = try self.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return try Array(self).withUnsafeBytes(body)
    }
}
