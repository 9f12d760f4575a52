/*
 * The evaluator's state as bytes, for checkpoints (ckpt.h holds the file around it): every
 * series' interval history (running totals, health runs, the compact histograms kept), its
 * latency windows' merged histograms, slice verdicts, alert and trigger states and timers, the
 * deployment gate's comparison, and where evaluation stands. An evaluator loaded from them and
 * then fed and advanced as the saved one would have been gives the same results. Objective
 * results are not saved: the next sw_eval_advance computes them from the rest.
 */
#ifndef SLAWATCH_EVAL_CKPT_H
#define SLAWATCH_EVAL_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/eval.h"

/* Append ev's state to out. */
sw_status sw_eval_ckpt_save(const sw_eval *ev, sw_buf *out, sw_err *err);

/*
 * A new evaluator of rules (borrowed, as sw_eval_new's) holding the state in data. SW_E_PARSE
 * when the bytes do not describe a state of these rules; nothing is returned then.
 */
sw_status sw_eval_ckpt_load(const sw_rules *rules, const uint8_t *data, size_t len, sw_eval **ret,
                            sw_err *err);

#endif
