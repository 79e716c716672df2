// The SQLite C API as one module. SQLITE_TRANSIENT is a cast macro Swift cannot import, so it is exposed here as
// a function.
#include <sqlite3.h>

static inline sqlite3_destructor_type vigil_sqlite_transient(void) { return SQLITE_TRANSIENT; }
