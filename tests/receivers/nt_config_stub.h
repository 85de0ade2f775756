//  A stand-in for the notifier's nt_config (nt_channel.h) in the channels' tests: the channel's
//  keys come from a table the test fills, not from jobd's config. Only in this test folder: the
//  plugin links the real nt_config.c.
#ifndef NT_CONFIG_STUB_H_INCLUDED
#define NT_CONFIG_STUB_H_INCLUDED

#include "nt_channel.h"

//  Empties the table.
void nt_config_stub_reset (void);

//  Sets key (of any channel: the table has one section) to value (copied; NULL unsets it).
void nt_config_stub_set (const char *key, const char *value);

//  Opens a channel of type on the table's config: its state, or NULL (the reason printed).
void *nt_config_stub_open (const nt_channel_type_t *type, const nt_config_t *config);

#endif
