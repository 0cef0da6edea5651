#ifndef SPENDLOG_CSQLITE_SHIM_H
#define SPENDLOG_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
