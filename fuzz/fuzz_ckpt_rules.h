/* The rules fuzz_ckpt reads evaluator states against, and gen_ckpt_state writes its seeds with:
 * latency windows of each kind, slices, alerts, a trigger and a compared gate. */
#ifndef SLAWATCH_FUZZ_CKPT_RULES_H
#define SLAWATCH_FUZZ_CKPT_RULES_H

static const char fuzz_ckpt_rules[] = "version: 1\n"
                                      "base_interval: 10s\n"
                                      "services:\n"
                                      "  - name: api\n"
                                      "    environments: [blue, green]\n"
                                      "    sli: {requests: {push: true}, latency: {push: true}}\n"
                                      "objectives:\n"
                                      "  - name: p95-month\n"
                                      "    objective: p95 <= 120ms\n"
                                      "    window: month\n"
                                      "  - name: p99-week\n"
                                      "    objective: p99 <= 250ms\n"
                                      "    window: 7d\n"
                                      "  - name: slices\n"
                                      "    objective: availability >= 99%\n"
                                      "    window: 1d\n"
                                      "    budgeting: timeslices\n"
                                      "alerts:\n"
                                      "  - name: P95High\n"
                                      "    when: p95 > 110ms\n"
                                      "    for: 1m\n"
                                      "rollback_triggers:\n"
                                      "  - name: P95Spike\n"
                                      "    when: p95 > 115ms\n"
                                      "    for: 1m\n"
                                      "gate:\n"
                                      "  window: 10m\n"
                                      "  checks: [p95 <= 500ms]\n"
                                      "  compare: {baseline: blue}\n";

#endif
