//  CURVE key files: zcert's ZPL format, read strictly and written owner-only.
#include "jobd_cert.h"
#include "jobd_error.h"
#include "jobd_trust.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  Reads the Z85 key at name ("curve/public-key") of a certificate file into key (32 bytes).
static bool
s_read_key (zconfig_t *root, const char *name, byte *key)
{
    const char *text = zconfig_get (root, name, NULL);
    return text && strlen (text) == 40 && zmq_z85_decode (key, text) != NULL;
}

//  Loads a certificate file: the public key, and the secret one when secret is true.
static int
s_load (const char *path, const char *what, bool secret, zcert_t **cert_p, char *reason,
        size_t reason_size)
{
    //  Read here, parsed from memory: zconfig_load leaks its zfile on a file it cannot parse.
    char text[16384];
    FILE *file = fopen (path, "r");
    size_t size = file ? fread (text, 1, sizeof text - 1, file) : 0;
    bool whole = file && feof (file) && !ferror (file);
    int rc = file ? 0 : -errno;
    if (file)
        fclose (file);
    text[size] = 0;
    zconfig_t *root = whole && strlen (text) == size ? zconfig_str_load (text) : NULL;
    if (!root) {
        snprintf (reason, reason_size, "%s %s: %s", what, path,
                  rc ? strerror (-rc) : "not a ZPL certificate file (zcert format)");
        return rc ? rc : JOBD_ECONFIG;
    }
    byte public_key[32], secret_key[32] = {0};
    bool ok = s_read_key (root, "curve/public-key", public_key) &&
              (!secret || s_read_key (root, "curve/secret-key", secret_key));
    zconfig_destroy (&root);
    if (!ok) {
        snprintf (reason, reason_size,
                  "%s %s: no valid curve/%s (40 Z85 characters): not a %s certificate made by "
                  "jobd --keygen or jobctl keygen",
                  what, path, secret ? "public-key and secret-key" : "public-key",
                  secret ? "secret" : "public");
        return JOBD_ECONFIG;
    }
    *cert_p = zcert_new_from (public_key, secret_key);
    return *cert_p ? 0 : -ENOMEM;
}

int
jobd_cert_load_secret (const char *path, const char *what, zcert_t **cert_p, char *reason,
                       size_t reason_size)
{
    char resolved[PATH_MAX];
    int rc = jobd_trust_check (path, false, what, resolved, sizeof resolved, reason, reason_size);
    if (rc)
        return rc;
    struct stat info;
    if (stat (resolved, &info) == 0 && (info.st_mode & 077)) {
        snprintf (reason, reason_size,
                  "%s %s: refused: a secret key that others can read (mode %04o) is no secret; "
                  "run chmod 600 %s",
                  what, path, (unsigned)(info.st_mode & 07777), path);
        return -EPERM;
    }
    return s_load (resolved, what, true, cert_p, reason, reason_size);
}

int
jobd_cert_load_public (const char *path, const char *what, zcert_t **cert_p, char *reason,
                       size_t reason_size)
{
    return s_load (path, what, false, cert_p, reason, reason_size);
}

int
jobd_cert_keygen (const char *path, char *reason, size_t reason_size)
{
    //  O_EXCL: never replace a key (clients would lose the server, or a server its client).
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int rc = -errno;
        snprintf (reason, reason_size, "key %s: %s%s", path, strerror (errno),
                  rc == -EEXIST ? " (remove it first to make a new key pair)" : "");
        return rc;
    }
    close (fd);
    char public_path[PATH_MAX];
    snprintf (public_path, sizeof public_path, "%s.pub", path);
    zcert_t *cert = zcert_new ();
    int rc = cert ? 0 : -ENOMEM;
    if (rc == 0 && (zcert_save_secret (cert, path) || chmod (path, 0600))) {
        rc = -EIO;
        snprintf (reason, reason_size, "key %s: cannot write it", path);
    }
    if (rc == 0 && (zcert_save_public (cert, public_path) || chmod (public_path, 0644))) {
        rc = -EIO;
        snprintf (reason, reason_size, "key %s: cannot write it", public_path);
    }
    if (rc)
        unlink (path);
    zcert_destroy (&cert);
    return rc;
}
