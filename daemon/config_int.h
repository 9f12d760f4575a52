/*
 * Shared by config.c (the top level) and config_scrape.c (the scrape_configs section): both
 * build into the configuration's arena through the rules loader, so their errors read alike.
 */
#ifndef SLAWATCH_CONFIG_INT_H
#define SLAWATCH_CONFIG_INT_H

#include "evaluator/rules_int.h"
#include "slawatch/config.h"

/* p relative to the configuration file's folder (absolute paths as they are). */
const char *sw_config_resolve_path(sw_rules_loader *ld, const char *config_path, const char *p);

/* Read the scrape_configs list at v into c. */
void sw_config_scrape_compile(sw_rules_loader *ld, const sw_yaml_node *v, sw_config *c);

#endif
