/*
 * Quantities as people write them in rules: durations (`10s`, `5m`, `1h30m`, `30d`, Prometheus
 * syntax), percentages (`99.9%`), latencies (`500ms`, `2.5s`, `250us`) and rates (`1000/s`).
 * Parsers take a length (the text need not be NUL-terminated) and fill the whole text or fail.
 * Stateless.
 */
#ifndef SLAWATCH_UNITS_H
#define SLAWATCH_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Duration in milliseconds: one or more <integer><unit> with units ms s m h d w y, largest
 * first, as Prometheus writes them (`1h30m`). y is 365 days. False when malformed or zero. */
bool sw_units_parse_duration_ms(const char *s, size_t len, int64_t *ret_ms);

/* Prometheus form of ms (`90000` -> `1m30s`, `0` -> `0s`; weeks and years only when exact, so
 * 30 days is `30d`) into out (>= 32 bytes). */
void sw_units_format_duration(int64_t ms, char *out, size_t cap);

/* `99.9%` -> 0.999; a plain number is a fraction already (`0.999`). */
bool sw_units_parse_ratio(const char *s, size_t len, double *ret);

/* Latency in microseconds from `<number><unit>`, units us (or µs), ms, s, m. */
bool sw_units_parse_latency_us(const char *s, size_t len, double *ret_us);

/* Rate per second from `<number>/<unit>`, units s, m, h (`1000/s`, `60000/m`). */
bool sw_units_parse_rate(const char *s, size_t len, double *ret_per_s);

/* RFC 3339 time (`2026-10-01T00:00:00Z`, `2026-10-01T02:00:00.250+02:00`; `T`, `t` or a space
 * between date and time) to epoch ms. */
bool sw_units_parse_time_ms(const char *s, size_t len, int64_t *ret_ms);

/* The UTC calendar month holding t_ms: [*ret_start_ms, *ret_end_ms). */
void sw_units_month_of(int64_t t_ms, int64_t *ret_start_ms, int64_t *ret_end_ms);

/* Epoch ms as RFC 3339 UTC (`2026-10-01T00:00:00Z`, milliseconds only when not 0) into out
 * (>= 32 bytes). */
void sw_units_format_time(int64_t ms, char *out, size_t cap);

/* A plain decimal number filling the whole text. */
bool sw_units_parse_number(const char *s, size_t len, double *ret);

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Hinnant's algorithm). */
int64_t sw_days_from_civil(int64_t y, int64_t m, int64_t d);

/* The calendar date of day z counted from 1970-01-01 (the inverse of sw_days_from_civil). */
void sw_civil_from_days(int64_t z, int64_t *y, int *m, int *d);

#endif
