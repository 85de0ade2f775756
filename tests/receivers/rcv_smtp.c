//  Test receivers: aiosmtpd on loopback (rcv_smtp.h).
#include "rcv_smtp.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const char *
rcv_smtp_python (void)
{
    static int known = -1;
    static const char *python;
    if (known < 0) {
        python = getenv ("JOBD_PYTHON");
        if (!python || !*python)
            python = "/usr/bin/python3";
        char *argv[] = {(char *)python, "-c", "import aiosmtpd.handlers", NULL};
        known = access (python, X_OK) == 0 && rcv_proc_run (argv, 20000) == 0;
    }
    return known ? python : NULL;
}

int
rcv_smtp_start (rcv_proc_t *self, const char *user, const char *password, int timeout_ms)
{
    if (!rcv_smtp_python () || rcv_proc_init (self, "smtp"))
        return -1;
    char mail[300];
    snprintf (mail, sizeof mail, "%s/mail", self->dir);
    //  A port taken between the pick and the bind: the child exits; try another.
    for (int attempt = 0; attempt < 3; attempt++) {
        self->port = rcv_proc_free_port ();
        char listen[64];
        snprintf (listen, sizeof listen, "127.0.0.1:%d", self->port);
        snprintf (self->url, sizeof self->url, "smtp://%s", listen);
        char *argv[] = {(char *)rcv_smtp_python (),  "-m", "aiosmtpd", "-n", "-l", listen, "-c",
                        "aiosmtpd.handlers.Mailbox", mail, NULL};
        char port[16];
        snprintf (port, sizeof port, "%d", self->port);
        char *login[] = {(char *)rcv_smtp_python (),
                         RCV_SOURCE_DIR "/rcv_smtp_auth.py",
                         "127.0.0.1",
                         port,
                         mail,
                         (char *)user,
                         (char *)password,
                         NULL};
        if (self->port < 0 || rcv_proc_spawn (self, user ? login : argv))
            break;
        if (rcv_proc_wait_port (self, timeout_ms))
            return 0;
        if (self->pid)
            break;
    }
    rcv_proc_stop (self);
    return -1;
}

//  Calls found (path, arg) for each message file in DIR/mail/new and cur; stops when it
//  returns true. Returns the number of files seen.
static size_t
s_each (rcv_proc_t *self, bool (*found) (const char *path, void *arg), void *arg)
{
    size_t count = 0;
    const char *const subdirs[] = {"new", "cur"};
    for (size_t index = 0; index < 2; index++) {
        char dir[400];
        snprintf (dir, sizeof dir, "%s/mail/%s", self->dir, subdirs[index]);
        DIR *handle = opendir (dir);
        struct dirent *entry;
        bool stop = false;
        while (handle && !stop && (entry = readdir (handle))) {
            if (entry->d_name[0] == '.')
                continue;
            count++;
            char path[700];
            snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
            stop = found && found (path, arg);
        }
        if (handle)
            closedir (handle);
        if (stop)
            break;
    }
    return count;
}

size_t
rcv_smtp_count (rcv_proc_t *self)
{
    return s_each (self, NULL, NULL);
}

typedef struct {
    const char *text;
    char *message;
} s_search_t;

static bool
s_match (const char *path, void *arg)
{
    s_search_t *search = arg;
    char *message = rcv_proc_slurp (path, NULL);
    if (message && strstr (message, search->text)) {
        search->message = message;
        return true;
    }
    free (message);
    return false;
}

char *
rcv_smtp_find (rcv_proc_t *self, const char *text, int timeout_ms)
{
    long long deadline = rcv_proc_now () + timeout_ms;
    s_search_t search = {text, NULL};
    while (true) {
        s_each (self, s_match, &search);
        if (search.message || rcv_proc_now () > deadline)
            return search.message;
        rcv_proc_pause (20);
    }
}

char *
rcv_smtp_header (const char *message, const char *name)
{
    size_t length = strlen (name);
    const char *line = message;
    while (line && *line && *line != '\n' && *line != '\r') {
        const char *end = strchr (line, '\n');
        if (strncasecmp (line, name, length) == 0 && line[length] == ':') {
            //  Unfolds: continuation lines start with a space or a tab.
            const char *value = line + length + 1;
            while (*value == ' ')
                value++;
            char *result = calloc (1, strlen (value) + 1);
            size_t used = 0;
            for (const char *cursor = value; *cursor; cursor++) {
                if (*cursor == '\r')
                    continue;
                if (*cursor == '\n') {
                    if (cursor[1] != ' ' && cursor[1] != '\t')
                        break;
                    continue;
                }
                result[used++] = *cursor;
            }
            return result;
        }
        line = end ? end + 1 : NULL;
    }
    return NULL;
}

const char *
rcv_smtp_body (const char *message)
{
    const char *blank = strstr (message, "\n\n");
    const char *crlf = strstr (message, "\r\n\r\n");
    if (crlf && (!blank || crlf < blank))
        return crlf + 4;
    return blank ? blank + 2 : NULL;
}
