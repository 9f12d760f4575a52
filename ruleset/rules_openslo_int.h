/*
 * Shared by rules_openslo.c (the set: files, objects by kind and name, references, services,
 * and where an SLO's objectives meet the model) and rules_openslo_slo.c (what one SLO or SLI
 * says: metrics, windows, budgeting, objectives). One load runs on one thread.
 */
#ifndef SLAWATCH_RULES_OPENSLO_INT_H
#define SLAWATCH_RULES_OPENSLO_INT_H

#include "rules_int.h"

typedef enum openslo_kind { OPENSLO_SLO, OPENSLO_SLI, OPENSLO_SERVICE } openslo_kind;

/* One object of the set: a document, or an item of a document that is a list, in one file. */
typedef struct openslo_object {
    openslo_kind kind;
    sw_rules_loader *ld; /* its file's: positions and messages */
    const sw_yaml_node *node;
    const sw_yaml_node *name_node; /* metadata.name; NULL when missing */
    const char *name;              /* NULL when missing or not a valid name */
} openslo_object;

typedef enum indicator_kind { IND_NONE, IND_GOOD, IND_BAD, IND_THRESHOLD } indicator_kind;

/* An indicator compiled once (a kind: SLI, or an SLO's inline one): the plain Prometheus
 * selectors it gives the service of each SLO that uses it. */
typedef struct openslo_sli {
    indicator_kind kind;
    bool seconds; /* threshold values in seconds (the metric says so), else milliseconds */
    sw_rules_loader *ld;
    const sw_yaml_node *requests, *errors, *latency; /* selector scalars, or NULL */
} openslo_sli;

typedef struct openslo_set {
    sw_rules_loader *ld; /* the first file's: allocations and messages about the whole set */
    openslo_object *objects;
    size_t n_objects;
    openslo_sli *slis; /* by object index; compiled for kind: SLI objects */
    bool declared;     /* the set has kind: Service objects: an SLO's service must name one */
    sw_service *services;
    size_t n_services;
    sw_objective *objectives;
    sw_rules_loader **objective_ld; /* by objective: the file it is written in */
    size_t *objective_service;      /* by objective: the service its SLO is for */
    size_t n_objectives, cap_objectives;
} openslo_set;

/* "FILE:LINE:COL" of pos, for messages that name a second place. */
typedef struct openslo_where {
    char s[320];
} openslo_where;

openslo_where sw_rules_openslo_where(sw_rules_pos pos);

/* rules_openslo_slo.c: the `spec` of an SLI (or of an inline indicator) into *ret. */
void sw_rules_openslo_compile_sli(sw_rules_loader *ld, const sw_yaml_node *spec, openslo_sli *ret);
/* rules_openslo_slo.c: an object's metadata (name, displayName, labels, annotations). */
void sw_rules_openslo_check_metadata(sw_rules_loader *ld, const sw_yaml_node *node,
                                     const char *what);
/* rules_openslo_slo.c: one kind: SLO object, its objectives attached through the set. */
void sw_rules_openslo_compile_slo(openslo_set *set, const openslo_object *slo);

/* rules_openslo.c, for an SLO: the service its spec.service names (-1 after an error), the
 * kind: SLI its indicatorRef names (NULL after an error), the selectors of sli given to a
 * service, and its objectives attached to that service. */
ptrdiff_t sw_rules_openslo_service(openslo_set *set, const openslo_object *slo,
                                   const sw_yaml_node *name);
const openslo_sli *sw_rules_openslo_sli_ref(openslo_set *set, const openslo_object *slo,
                                            const sw_yaml_node *ref);
void sw_rules_openslo_use_sli(openslo_set *set, size_t service, const openslo_sli *sli);
void sw_rules_openslo_attach(openslo_set *set, const openslo_object *slo, size_t service,
                             const sw_objective *objectives, size_t n);

#endif
