//  Trusted paths: ownership and mode checks before jobd reads a config or dlopens a plugin.
#include "jobd_trust.h"
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  Checks one path (the target, or a folder above it). Returns 0 or -EPERM with a reason.
static int
s_check_one (const char *what, const char *given, const char *path, const struct stat *info,
             bool above, char *reason, size_t reason_size)
{
    const char *role = above ? "its folder " : "";
    uid_t self = geteuid ();
    if (info->st_uid != 0 && info->st_uid != self) {
        snprintf (reason, reason_size,
                  "%s %s: refused: %s%s is owned by uid %u, neither root nor jobd's user (uid "
                  "%u): anyone who owns it can change what jobd runs",
                  what, given, role, path, (unsigned)info->st_uid, (unsigned)self);
        return -EPERM;
    }
    //  Others may write into a sticky folder but cannot rename or remove what they do not own;
    //  the next path below it is checked on its own.
    bool sticky = S_ISDIR (info->st_mode) && (info->st_mode & S_ISVTX);
    if ((info->st_mode & (S_IWGRP | S_IWOTH)) && !sticky) {
        snprintf (reason, reason_size,
                  "%s %s: refused: %s%s is writable by %s (mode %04o): jobd trusts no config, "
                  "plugin or plugin folder that others than its owner or root can change; run "
                  "chmod go-w %s",
                  what, given, role, path, (info->st_mode & S_IWOTH) ? "everyone" : "its group",
                  (unsigned)(info->st_mode & 07777), path);
        return -EPERM;
    }
    return 0;
}

int
jobd_trust_check (const char *path, bool folder, const char *what, char *resolved,
                  size_t resolved_size, char *reason, size_t reason_size)
{
    assert (path && what && reason);
    char real[PATH_MAX];
    struct stat info;
    if (!realpath (path, real) || stat (real, &info)) {
        int rc = -errno;
        snprintf (reason, reason_size, "%s %s: %s", what, path, strerror (errno));
        return rc;
    }
    if (folder ? !S_ISDIR (info.st_mode) : !S_ISREG (info.st_mode)) {
        snprintf (reason, reason_size, "%s %s: refused: %s is not a %s", what, path, real,
                  folder ? "folder" : "regular file");
        return -EPERM;
    }
    int rc = s_check_one (what, path, real, &info, false, reason, reason_size);
    //  Every folder above, up to /: whoever can write one of them can swap what is below.
    char above[PATH_MAX];
    snprintf (above, sizeof above, "%s", real);
    while (rc == 0 && strcmp (above, "/") != 0) {
        char *slash = strrchr (above, '/');
        if (slash == above)
            slash[1] = 0;
        else
            *slash = 0;
        if (stat (above, &info)) {
            rc = -errno;
            snprintf (reason, reason_size, "%s %s: folder %s: %s", what, path, above,
                      strerror (errno));
        } else
            rc = s_check_one (what, path, above, &info, true, reason, reason_size);
    }
    if (rc == 0 && resolved)
        snprintf (resolved, resolved_size, "%s", real);
    return rc;
}
