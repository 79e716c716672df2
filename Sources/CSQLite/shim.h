// The SQLite C API as one module. SQLITE_TRANSIENT is a cast macro Swift cannot import, so it is exposed here as
// a function.
#include <sqlite3.h>

static inline sqlite3_destructor_type vigil_sqlite_transient(void) { return SQLITE_TRANSIENT; }

// sqlite3_config is variadic, which Swift cannot call. Memory statistics make every SQLite allocation and free take
// a process-wide mutex; nothing here reads them (sqlite3_memory_used and friends), so they are turned off before
// SQLite initialises. Returns SQLITE_MISUSE, harmlessly, once SQLite is already initialised.
static inline int vigil_sqlite_disable_memory_statistics(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
