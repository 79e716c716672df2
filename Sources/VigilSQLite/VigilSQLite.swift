// VigilSQLite: a thin owner of the SQLite C API (connections, statements, transactions, migrations).
