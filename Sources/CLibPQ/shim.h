#ifndef SPENDLOG_CLIBPQ_SHIM_H
#define SPENDLOG_CLIBPQ_SHIM_H
// Declarations only: libpq is loaded with dlopen when a budget store is used (LibPQ.swift), so
// the target has no pkg-config entry (its -lpq would link it into every spendlog process).
#include <postgresql/libpq-fe.h>
#endif
