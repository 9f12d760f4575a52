/*
 * The JSON shapes of evaluation results, shared by `slawatch eval --json`, `/api/v1/status`
 * and the JSON report so tooling reads one schema (rules/README.md, "Evaluation output").
 * Ratios are fractions, latencies microseconds, throughput requests per second, windows
 * duration strings (`5m`, `30d`) or `month`, times RFC 3339. Unknown values are null.
 */
#ifndef SLAWATCH_EVAL_JSON_H
#define SLAWATCH_EVAL_JSON_H

#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/eval.h"

/* Append `{"at": ..., "services": [...]}` for every series of ev, each with its gate. */
sw_status sw_eval_json_write(const sw_eval *ev, int64_t at_ms, sw_buf *out, sw_err *err);

/* Append `"verdict": ..., "reason": ..., "checks": [...]` (no braces: callers add fields). */
sw_status sw_eval_json_gate_fields(sw_buf *b, const sw_gate_result *g, sw_err *err);

/* Append one objective result's fields, `"name": ..., "time_to_exhaustion_s": ...` (no braces:
 * the JSON report adds its own). */
sw_status sw_eval_json_objective_fields(sw_buf *b, const sw_objective_result *r, sw_err *err);

#endif
