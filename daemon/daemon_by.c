/*
 * Per-label SLOs and the daemon: the rules format checks a service's `by` (ruleset/rules_by.c),
 * but the daemon does not yet split a service's series by the label's values, so a rule set that
 * asks for it is refused at start, at a reload (the running set kept) and by `slawatch check`
 * of a configuration, rather than judged as one SLO summing every value, which would report
 * numbers the rules did not ask for.
 */
#include "daemon_int.h"

sw_status
sw_daemon_refuse_by(const sw_rules *rules, sw_err *err)
{
    for (size_t i = 0; i < rules->n_services; i++) {
        const sw_service *s = &rules->services[i];
        if (s->by != NULL)
            return sw_err_set(err, SW_E_INVAL,
                              "%s:%u:%u: error: by: [%s] of service %s: this slawatch does not "
                              "evaluate one SLO per label value yet; remove by to judge the "
                              "service as one SLO",
                              s->by_pos.file, s->by_pos.line, s->by_pos.col, s->by, s->name);
    }
    return SW_OK;
}
