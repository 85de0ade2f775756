//  spark-poller: what each backend's answer to a kill means (reference 1.6, 3.5, 4.5): taken and
//  under way, done, refused (with the backend's own words), or no usable answer.
#include "sp_json.h"
#include <ctype.h>
#include <string.h>

//  A body that is no JSON message (an HTML error page, text): its text, tags and runs of blanks
//  dropped, cut short.
static void
s_excerpt (const char *body, size_t size, char *out, size_t out_size)
{
    size_t used = 0;
    bool tag = false, blank = true;
    for (size_t index = 0; index < size && used + 1 < out_size && used < 300; index++) {
        unsigned char c = (unsigned char)body[index];
        if (c == '<')
            tag = true;
        else if (c == '>')
            tag = false;
        else if (!tag && (isspace (c) || iscntrl (c))) {
            if (!blank)
                out[used++] = ' ';
            blank = true;
        } else if (!tag) {
            out[used++] = (char)c;
            blank = false;
        }
    }
    while (used && out[used - 1] == ' ')
        used--;
    out[used] = 0;
}

//  "HTTP <code>: <what the body says>", the latter from text (may be NULL) or the body itself.
static void
s_reason (long http, const char *text, const char *body, size_t size, sp_status_t *status)
{
    char excerpt[320] = "";
    if (text && *text)
        snprintf (excerpt, sizeof excerpt, "%.300s", text);
    else
        s_excerpt (body, size, excerpt, sizeof excerpt);
    snprintf (status->error, sizeof status->error, "HTTP %ld%s%s", http, *excerpt ? ": " : "",
              excerpt);
}

sp_kill_t
sp_yarn_kill (const char *body, size_t size, long http, sp_status_t *status)
{
    sp_status_reset (status);
    json_t *root = sp_json_load (body, size);
    const char *state = sp_json_str (root, "state");
    sp_kill_t verdict = SP_KILL_UNCLEAR;
    bool ended = state && (!strcmp (state, "KILLED") || !strcmp (state, "FINISHED") ||
                           !strcmp (state, "FAILED"));
    if (http == 200 && ended) {
        //  The kill is complete, or the app had already ended (its state says how).
        sp_copy (status->raw, sizeof status->raw, state);
        verdict = SP_KILL_DONE;
        status->state = !strcmp (state, "KILLED") ? JOBD_STATE_CANCELLED : JOBD_STATE_NONE;
        if (status->state == JOBD_STATE_NONE)
            snprintf (status->error, sizeof status->error,
                      "the application had already ended (%s) when the kill came", state);
    } else if (http >= 200 && http < 300) {
        //  202: under way (the state is the one before, or KILLING). Any other 2xx, a 200
        //  with a state that has not ended, or a body that does not say the state, is taken
        //  the same way: the app's state will tell.
        sp_copy (status->raw, sizeof status->raw, state);
        verdict = SP_KILL_ACCEPTED;
    } else if (http >= 400 && http < 500) {
        //  401/403 (no or wrong user, no MODIFY_APP), 404 (unknown or aged out), 400.
        json_t *exception = json_object_get (root, "RemoteException");
        s_reason (http, sp_json_str (exception, "message"), body, size, status);
        verdict = SP_KILL_REFUSED;
    } else
        s_reason (http, NULL, body, size, status);
    json_decref (root);
    return verdict;
}

sp_kill_t
sp_livy_kill (const char *body, size_t size, long http, sp_status_t *status)
{
    sp_status_reset (status);
    json_t *root = sp_json_load (body, size);
    const char *text = json_is_string (root) ? json_string_value (root) : sp_json_str (root, "msg");
    sp_kill_t verdict = SP_KILL_UNCLEAR;
    if (http >= 200 && http < 300) {
        //  {"msg":"deleted"}: killed, and the batch forgotten (3.5). Any 2xx is taken as that.
        status->state = JOBD_STATE_CANCELLED;
        verdict = SP_KILL_DONE;
    } else if (http >= 400 && http < 500) {
        //  403 without modify access, 401 behind SPNEGO or basic auth, 400 without
        //  X-Requested-By under CSRF protection, 404 unknown or already stopped.
        s_reason (http, text, body, size, status);
        verdict = SP_KILL_REFUSED;
    } else
        s_reason (http, text, body, size, status);
    json_decref (root);
    return verdict;
}

sp_kill_t
sp_standalone_kill_verdict (const char *body, size_t size, long http, sp_status_t *status)
{
    int rc = sp_standalone_kill (body, size, http, status);
    if (rc == 0)
        return SP_KILL_ACCEPTED; //  asynchronous: KILLED once the worker reports back (1.6)
    if (rc == JOBD_ESTATE) {
        //  success:false with HTTP 200 ("has already finished or does not exist", a standby
        //  master), or an ErrorResponse (400): the master's own message.
        char message[SP_ERROR_MAX];
        sp_copy (message, sizeof message, status->error);
        if (http >= 500)
            return SP_KILL_UNCLEAR;
        snprintf (status->error, sizeof status->error, "HTTP %ld: %.1900s", http,
                  *message ? message : "the master refused the kill");
        return SP_KILL_REFUSED;
    }
    //  Not the REST server's JSON: a servlet filter's 401/403 page (spark.master.rest.filters),
    //  or a proxy's.
    s_reason (http, NULL, body, size, status);
    return http >= 400 && http < 500 ? SP_KILL_REFUSED : SP_KILL_UNCLEAR;
}
