#ifndef SPENDLOG_CLIBPQ_SHIM_H
#define SPENDLOG_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
