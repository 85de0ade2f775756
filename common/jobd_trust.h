//  Trusted paths: a config file, a plugin or a plugin folder that nobody but its owner or root can
//  change, checked before jobd reads or dlopens it (the idea of sshd's StrictModes).
#ifndef JOBD_TRUST_H_INCLUDED
#define JOBD_TRUST_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Checks that path can be trusted with jobd's code or configuration: after resolving symlinks,
//  path (a regular file, or a folder when folder is true) and every folder above it up to / must
//  be owned by root or by jobd's effective user and must not be writable by its group or by
//  others. A folder with the sticky bit (/tmp) owned by root or jobd's user counts as safe even
//  when others can write to it: they can add entries but not rename or remove ours, and every
//  entry below it is checked in turn. what names the path for the operator ("config", "plugin
//  demo"). Returns 0 and writes the resolved path into resolved (when not NULL), -ENOENT (or
//  another -errno) when path cannot be resolved, or -EPERM when it is not to be trusted; each
//  failure with a reason naming what, the path at fault and how to fix it.
int jobd_trust_check (const char *path, bool folder, const char *what, char *resolved,
                      size_t resolved_size, char *reason, size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif
