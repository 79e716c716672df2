// glibc's malloc tuning. malloc.h is not part of Swift's Glibc module, and its M_* parameters are macros, so the
// calls VigilPOSIX needs are exposed here as functions.
#include <malloc.h>

static inline int vigil_malloc_set_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }
static inline int vigil_malloc_set_trim_threshold(int bytes) { return mallopt(M_TRIM_THRESHOLD, bytes); }
/// Bytes held in blocks malloc obtained with mmap (each freed with munmap).
static inline size_t vigil_malloc_mmapped_bytes(void) { return mallinfo2().hblkhd; }
