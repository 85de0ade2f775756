//  sim_auth: the authentication a real cluster can put in front of each API, as the reference
//  describes it: SPNEGO on the ResourceManager (401 + WWW-Authenticate: Negotiate), HTTP basic
//  in front of Livy (401), a token filter on the standalone REST server (4.0's
//  spark.master.rest.filters: 403, reference 1.2). Off unless configured (/sim/config).
#include "sim.h"
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Whether "user:password" is one of the comma-separated pairs of list.
static bool
s_listed (const char *list, const char *item)
{
    size_t length = strlen (item);
    for (const char *at = list; at && *at;) {
        const char *end = strchr (at, ',');
        size_t size = end ? (size_t)(end - at) : strlen (at);
        if (size == length && strncmp (at, item, length) == 0)
            return true;
        at = end ? end + 1 : NULL;
    }
    return false;
}

bool
sim_auth_basic_user (sim_req_t *req, const char *users, char *user, size_t size)
{
    char *password = NULL;
    char *name =
        MHD_basic_auth_get_username_password ((struct MHD_Connection *)req->conn, &password);
    bool ok = false;
    if (name) {
        char pair[600];
        snprintf (pair, sizeof pair, "%s:%s", name, password ? password : "");
        ok = !users || !*users || s_listed (users, pair);
        snprintf (user, size, "%s", name);
    }
    MHD_free (name);
    MHD_free (password);
    return ok;
}

bool
sim_auth_in_list (const char *list, const char *name)
{
    return name && *name && s_listed (list, name);
}

static void
s_challenge (sim_req_t *req, int status, const char *scheme, const char *text)
{
    free (req->authenticate);
    req->authenticate = scheme ? strdup (scheme) : NULL;
    char page[300];
    snprintf (page, sizeof page, "<html><body><h2>HTTP ERROR %d %s</h2></body></html>\n", status,
              text);
    sim_req_reply (req, status, "text/html;charset=iso-8859-1", page);
}

bool
sim_auth_check (sim_t *sim, sim_req_t *req, int backend)
{
    const sim_config_t *c = &sim->config;
    const char *header = sim_req_header (req, "Authorization");
    if (backend == SIM_BACKEND_YARN && c->yarn_negotiate &&
        (!header || strncmp (header, "Negotiate ", 10) != 0)) {
        s_challenge (req, 401, "Negotiate", "Authentication required");
        return false;
    }
    if (backend == SIM_BACKEND_LIVY && c->livy_users[0]) {
        char user[256] = "";
        if (!sim_auth_basic_user (req, c->livy_users, user, sizeof user)) {
            s_challenge (req, 401, "Basic realm=\"livy\"", "Unauthorized");
            return false;
        }
    }
    if (backend == SIM_BACKEND_STANDALONE && c->standalone_token[0]) {
        char expected[300];
        snprintf (expected, sizeof expected, "Bearer %s", c->standalone_token);
        if (!header || strcmp (header, expected) != 0) {
            s_challenge (req, 403, NULL, "Forbidden");
            return false;
        }
    }
    return true;
}
