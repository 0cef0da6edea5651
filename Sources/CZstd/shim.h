#ifndef SPENDLOG_CZSTD_SHIM_H
#define SPENDLOG_CZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>
#endif
