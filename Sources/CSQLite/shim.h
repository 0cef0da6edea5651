#ifndef SPENDLOG_CSQLITE_SHIM_H
#define SPENDLOG_CSQLITE_SHIM_H
// Declarations only: libsqlite3 is loaded with dlopen when `spendlog import` opens a database
// (LibSQLite.swift), so the target has no link line (its -lsqlite3 would load it into every
// spendlog process).
#include <sqlite3.h>
#endif
