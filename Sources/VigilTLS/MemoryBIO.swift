// OpenSSL reads PEM and writes handshake records through BIOs. These helpers move bytes between Swift arrays and
// memory BIOs, so no other file in the module reaches into BIO plumbing or passes raw lengths around.
import COpenSSL

/// Byte transfer between Swift and OpenSSL memory BIOs (`BIO_s_mem`).
enum MemoryBIO {
    /// A BIO that is still holding more than this many bytes of capacity after being emptied is replaced by the
    /// session: memory BIOs never shrink, and an idle connection should not keep its largest write's buffer.
    static let retainedCapacityLimit = 4096

    /// Runs `body` with a read-only BIO over `bytes`; the BIO borrows the bytes and is freed before returning.
    static func withReadOnly<Result>(
        _ bytes: UnsafeRawBufferPointer,
        _ body: (OpaquePointer) throws -> Result
    ) throws -> Result {
        guard let base = bytes.baseAddress, bytes.count > 0, bytes.count <= Int(Int32.max) else {
            throw TLSError(.invalidArgument, "PEM input is empty or larger than 2 GiB")
        }
        guard let bio = BIO_new_mem_buf(base, Int32(bytes.count)) else {
            throw TLSError.drainingQueue(.cryptoFailure, "cannot allocate a memory BIO")
        }
        defer { BIO_free(bio) }
        return try body(bio)
    }

    /// A new, empty, growable memory BIO.
    static func make() throws -> OpaquePointer {
        guard let bio = BIO_new(BIO_s_mem()) else {
            throw TLSError.drainingQueue(.cryptoFailure, "cannot allocate a memory BIO")
        }
        return bio
    }

    /// Bytes written to `bio` and not yet read.
    static func pendingCount(_ bio: OpaquePointer) -> Int {
        Int(BIO_ctrl_pending(bio))
    }

    /// Bytes of buffer `bio` holds, used or not: what it costs an idle connection.
    static func capacity(_ bio: OpaquePointer) -> Int {
        guard let memory = vigil_BIO_get_mem_ptr(bio) else { return 0 }
        return memory.pointee.max
    }

    /// Reads everything pending in `bio` and appends it to `buffer`.
    static func readAll(_ bio: OpaquePointer, appendingTo buffer: inout [UInt8]) {
        var pending = self.pendingCount(bio)
        guard pending > 0 else { return }
        if buffer.isEmpty {
            // The common case (the buffer was taken since the last call): read straight into new storage.
            buffer = [UInt8](unsafeUninitializedCapacity: pending) { storage, count in
                count = Int(max(0, BIO_read(bio, storage.baseAddress, Int32(clamping: pending))))
            }
            pending -= buffer.count
        }
        while pending > 0 {
            let start = buffer.count
            let chunk = min(pending, Int(Int32.max))
            buffer.append(contentsOf: repeatElement(0, count: chunk))
            let read = buffer.withUnsafeMutableBytes { storage in
                Int(max(0, BIO_read(bio, storage.baseAddress! + start, Int32(chunk))))
            }
            buffer.removeLast(chunk - read)
            if read == 0 { break }
            pending -= read
        }
    }

    /// Everything pending in `bio`, as a new array.
    static func readAll(_ bio: OpaquePointer) -> [UInt8] {
        var bytes: [UInt8] = []
        self.readAll(bio, appendingTo: &bytes)
        return bytes
    }
}
