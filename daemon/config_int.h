/*
 * Shared by config.c (the top level), config_scrape.c (the scrape_configs section) and
 * config_remote_write.c (the remote_write list): all build into the configuration's arena
 * through the rules loader, so their errors read alike.
 */
#ifndef SLAWATCH_CONFIG_INT_H
#define SLAWATCH_CONFIG_INT_H

#include "slawatch/rules_schema.h"
#include "slawatch/config.h"

/* p relative to the configuration file's folder (absolute paths as they are). */
const char *sw_config_resolve_path(sw_rules_loader *ld, const char *config_path, const char *p);

/* An http:// or https:// URL for key into *ret, or an error at v. */
void sw_config_get_url(sw_rules_loader *ld, const sw_yaml_node *v, const char *key,
                       const char **ret);

/* The `remote_write` list into c->remote_writes, every problem reported at its node. */
void sw_config_get_remote_writes(sw_rules_loader *ld, const sw_yaml_node *v, sw_config *c);

/* The `report_schedule` section into c->report_schedule. */
void sw_config_get_report_schedule(sw_rules_loader *ld, const sw_yaml_node *v, sw_config *c);

/* Read the scrape_configs list at v into c. */
void sw_config_scrape_compile(sw_rules_loader *ld, const sw_yaml_node *v, sw_config *c);

#endif
