/*
 * Rollback triggers: alert conditions evaluated per series whose first firing latches until a
 * new deployment of that series is marked. The deploy gate fails while a trigger is latched.
 * Writes only the results it is given.
 */
#include "eval_int.h"

void
sw_trigger_result_init(sw_trigger_result *r, const sw_alert *t)
{
    *r = (sw_trigger_result){
        .trigger = t,
        .fired = false,
        .fired_at_ms = -1,
        .state = SW_ALERT_INACTIVE,
    };
}

void
sw_trigger_latch(sw_trigger_result *r, const sw_alert_result *state, int64_t t_ms)
{
    r->state = state->state;
    if (state->state == SW_ALERT_FIRING && !r->fired) {
        r->fired = true;
        r->fired_at_ms = t_ms;
    }
}

void
sw_trigger_reset(sw_trigger_result *r, sw_alert_result *state)
{
    /* The new deployment is judged afresh: a `for` timer running for the old one restarts. */
    sw_alert_result_init(state, state->alert);
    sw_trigger_result_init(r, r->trigger);
}
