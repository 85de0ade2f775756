//  sim_req: one HTTP request (path segments, query, body) and the reply being built for it.
#include "sim.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
sim_req_arg (sim_req_t *self, const char *key)
{
    return MHD_lookup_connection_value (self->conn, MHD_GET_ARGUMENT_KIND, key);
}

typedef struct {
    const char *key;
    const char **values;
    int max;
    int count;
} s_args_t;

static enum MHD_Result
s_collect (void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    s_args_t *args = cls;
    if (strcmp (key, args->key) == 0 && args->count < args->max)
        args->values[args->count++] = value ? value : "";
    return MHD_YES;
}

int
sim_req_args (sim_req_t *self, const char *key, const char **values, int max)
{
    s_args_t args = {key, values, max, 0};
    MHD_get_connection_values (self->conn, MHD_GET_ARGUMENT_KIND, s_collect, &args);
    return args.count;
}

const char *
sim_req_header (sim_req_t *self, const char *name)
{
    return MHD_lookup_connection_value (self->conn, MHD_HEADER_KIND, name);
}

json_t *
sim_req_json (sim_req_t *self, char *err, size_t errlen)
{
    json_error_t error;
    json_t *json = json_loadb (self->body ? self->body : "", self->body_len, 0, &error);
    if (!json)
        snprintf (err, errlen, "%s (line %d, column %d)", error.text, error.line, error.column);
    return json;
}

void
sim_req_reply (sim_req_t *self, int status, const char *ctype, const char *text)
{
    sim_buf_reset (&self->out);
    sim_buf_puts (&self->out, text);
    self->status = status;
    self->ctype = ctype;
}

void
sim_req_reply_jw (sim_req_t *self, int status, const char *ctype, sim_jw_t *writer)
{
    sim_buf_reset (&self->out);
    self->out = writer->buf;
    memset (&writer->buf, 0, sizeof writer->buf);
    self->status = status;
    self->ctype = ctype;
}

void
sim_req_reply_pair (sim_req_t *self, int status, const char *ctype, const char *key,
                    const char *value)
{
    sim_jw_t w;
    sim_jw_init (&w, SIM_JW_COMPACT);
    sim_jw_obj (&w, NULL);
    sim_jw_str (&w, key, value);
    sim_jw_end (&w);
    sim_req_reply_jw (self, status, ctype, &w);
}

void
sim_req_reply_json (sim_req_t *self, int status, json_t *value)
{
    char *text = json_dumps (value, JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_COMPACT);
    sim_req_reply (self, status, "application/json", text ? text : "null");
    free (text);
    json_decref (value);
}

int
sim_split (const char *text, char sep, char **copy_p, char **parts, int max)
{
    char *copy = strdup (text);
    *copy_p = copy;
    int n = 0;
    char *p = copy;
    while (p && n < max) {
        char *next = strchr (p, sep);
        if (next)
            *next++ = 0;
        if (*p)
            parts[n++] = p;
        p = next;
    }
    return n;
}

int
sim_parse_int (const char *text, int64_t *value_p)
{
    if (!text || !*text)
        return -1;
    char *end;
    errno = 0;
    long long value = strtoll (text, &end, 10);
    if (errno || *end)
        return -1;
    *value_p = value;
    return 0;
}
