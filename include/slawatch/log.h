/*
 * Structured logs in logfmt on stderr, one line per event:
 *   ts=2026-11-22T10:00:00.123Z level=info msg="listening" addr=127.0.0.1:9464
 * Values are quoted when they need it, so any string is safe to log. Lines are written whole,
 * so threads never interleave. Secrets must never be passed in.
 */
#ifndef SLAWATCH_LOG_H
#define SLAWATCH_LOG_H

#include <stdio.h>

#include "slawatch/err.h"

typedef enum sw_log_level { SW_LOG_DEBUG, SW_LOG_INFO, SW_LOG_WARN, SW_LOG_ERROR } sw_log_level;

/* Events below min are dropped (default SW_LOG_INFO); out NULL restores stderr. */
void sw_log_setup(sw_log_level min, FILE *out);

/* "debug", "info", "warn", "error" -> level; -1 when unknown. */
int sw_log_level_parse(const char *name);

/*
 * Log msg with key/value string pairs, terminated by NULL:
 *   sw_log(SW_LOG_WARN, "probe failed", "service", name, "status", code_text, NULL);
 */
void sw_log(sw_log_level level, const char *msg, ...) __attribute__((sentinel));

/* The same with the error's message as `err=` (and its status as `code=`). */
void sw_log_err(sw_log_level level, const char *msg, const sw_err *err, ...)
    __attribute__((sentinel));

#endif
