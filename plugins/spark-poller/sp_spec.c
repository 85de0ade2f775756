//  spark-poller: the submission spec of a Spark job: its one key table, the check and the bodies.
#include "sp_spec.h"
#include "jobd_error.h"
#include "jobd_plugin_sdk.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

typedef enum {
    S_STRING,  //  a JSON string
    S_STRINGS, //  an array of strings
    S_MAP,     //  an object of scalars, sent as strings (Spark's Map[String,String])
    S_INT,     //  a JSON integer, 0 or more
    S_JOBD     //  read by jobd itself (kind, backend, deadlines): not sent
} s_type_t;

//  One accepted key and what each backend receives for it: a body field ("file"), a Spark
//  property ("spark.jars", lists joined with commas), NULL when that backend cannot take it.
typedef struct {
    const char *key;
    s_type_t type;
    const char *livy;
    const char *standalone;
    const char *same_as; //  another key with the same meaning: giving both is refused
} s_key_t;

//  The table (SPECS.md documents it key by key: keep the two together).
static const s_key_t s_keys[] = {
    //  The application: Livy's names and the standalone REST names, either.
    {"file", S_STRING, "file", "appResource", "appResource"},
    {"appResource", S_STRING, "file", "appResource", "file"},
    {"className", S_STRING, "className", "mainClass", "mainClass"},
    {"mainClass", S_STRING, "className", "mainClass", "className"},
    {"args", S_STRINGS, "args", "appArgs", "appArgs"},
    {"appArgs", S_STRINGS, "args", "appArgs", "args"},
    //  Livy's batch fields; a standalone master gets them as the properties spark-submit sets.
    {"jars", S_STRINGS, "jars", "spark.jars", NULL},
    //  A standalone master runs no Python application in cluster mode (spark-submit refuses it,
    //  and the REST submission server is cluster mode): Python goes through Livy.
    {"pyFiles", S_STRINGS, "pyFiles", NULL, NULL},
    {"files", S_STRINGS, "files", "spark.files", NULL},
    {"archives", S_STRINGS, "archives", "spark.archives", NULL},
    {"driverMemory", S_STRING, "driverMemory", "spark.driver.memory", NULL},
    {"driverCores", S_INT, "driverCores", "spark.driver.cores", NULL},
    {"executorMemory", S_STRING, "executorMemory", "spark.executor.memory", NULL},
    {"executorCores", S_INT, "executorCores", "spark.executor.cores", NULL},
    {"numExecutors", S_INT, "numExecutors", "spark.executor.instances", NULL},
    {"queue", S_STRING, "queue", "spark.yarn.queue", NULL},
    {"proxyUser", S_STRING, "proxyUser", NULL, NULL},
    //  Spark properties, under either name; merged (sparkProperties last).
    {"conf", S_MAP, "conf", "sparkProperties", NULL},
    {"sparkProperties", S_MAP, "conf", "sparkProperties", NULL},
    //  The standalone REST request's own fields.
    {"environmentVariables", S_MAP, NULL, "environmentVariables", NULL},
    {"clientSparkVersion", S_STRING, NULL, "clientSparkVersion", NULL},
    {"action", S_STRING, NULL, "action", NULL},
    //  jobd's own (jobd_sdk_spec_common): the name goes to the backend (sp_spec_body).
    {"name", S_STRING, "name", "spark.app.name", NULL},
    {"kind", S_STRING, "", "", NULL},
    {"backend", S_STRING, "", "", NULL},
    {"max_runtime", S_JOBD, "", "", NULL},
    {"deadlines", S_JOBD, "", "", NULL},
    {"retry", S_JOBD, "", "", NULL}, //  the retry plugin's; checked by the SDK's reader
};
#define S_KEYS (sizeof s_keys / sizeof s_keys[0])

static const s_key_t *
s_key (const char *name)
{
    for (size_t index = 0; index < S_KEYS; index++)
        if (strcmp (s_keys[index].key, name) == 0)
            return &s_keys[index];
    return NULL;
}

static const char s_python_hint[] =
    " (a standalone master runs no Python application in cluster mode, the mode of its REST "
    "submissions: submit it through a livy backend)";

static const char *
s_target_name (sp_spec_target_t target)
{
    return target == SP_SPEC_LIVY ? "a livy backend" : "a standalone backend";
}

//  Checks one value against its key's type.
static bool
s_typed (const s_key_t *key, const json_t *value, char *reason, size_t reason_size)
{
    switch (key->type) {
        case S_STRING:
            if (json_is_string (value))
                return true;
            snprintf (reason, reason_size, "key '%s' must be a string", key->key);
            return false;
        case S_INT:
            if (json_is_integer (value) && json_integer_value (value) >= 0)
                return true;
            snprintf (reason, reason_size, "key '%s' must be an integer (0 or more)", key->key);
            return false;
        case S_STRINGS: {
            size_t index;
            json_t *item;
            if (!json_is_array (value)) {
                snprintf (reason, reason_size, "key '%s' must be an array of strings", key->key);
                return false;
            }
            json_array_foreach (value, index, item)
            {
                if (!json_is_string (item)) {
                    snprintf (reason, reason_size, "key '%s': item %zu is not a string", key->key,
                              index);
                    return false;
                }
            }
            return true;
        }
        case S_MAP: {
            const char *name;
            json_t *item;
            if (!json_is_object (value)) {
                snprintf (reason, reason_size, "key '%s' must be an object of strings", key->key);
                return false;
            }
            json_object_foreach ((json_t *)value, name, item)
            {
                if (!json_is_string (item) && !json_is_number (item) && !json_is_boolean (item)) {
                    snprintf (reason, reason_size,
                              "key '%s': '%s' must be a string (or a number or boolean)", key->key,
                              name);
                    return false;
                }
            }
            return true;
        }
        case S_JOBD: //  the core checks its own keys; the retry object has the SDK's reader
            return strcmp (key->key, "retry") != 0 ||
                   jobd_sdk_retry_read (NULL, value, reason, reason_size) == 0;
    }
    return false;
}

//  Checks a loaded spec. Returns 0 or JOBD_EINVAL with the reason.
static int
s_check (const json_t *spec, sp_spec_target_t target, char *reason, size_t reason_size)
{
    if (!json_is_object (spec)) {
        snprintf (reason, reason_size, "the spec is not a JSON object");
        return JOBD_EINVAL;
    }
    const char *name;
    json_t *value;
    json_object_foreach ((json_t *)spec, name, value)
    {
        const s_key_t *key = s_key (name);
        if (!key) {
            snprintf (reason, reason_size,
                      "unknown key '%s' (plugins/spark-poller/SPECS.md lists the keys a spark "
                      "spec takes)",
                      name);
            return JOBD_EINVAL;
        }
        if (!s_typed (key, value, reason, reason_size))
            return JOBD_EINVAL;
        const char *to = target == SP_SPEC_LIVY ? key->livy : key->standalone;
        if (!to) {
            snprintf (reason, reason_size, "key '%s' is not taken by %s%s", name,
                      s_target_name (target),
                      strcmp (name, "environmentVariables") == 0
                          ? " (set spark.yarn.appMasterEnv.NAME or spark.executorEnv.NAME in conf)"
                      : strcmp (name, "proxyUser") == 0 ? " (a standalone master has no proxy user)"
                      : strcmp (name, "pyFiles") == 0   ? s_python_hint
                                                        : "");
            return JOBD_EINVAL;
        }
        if (key->same_as && json_object_get (spec, key->same_as)) {
            snprintf (reason, reason_size, "give '%s' or '%s', not both", name, key->same_as);
            return JOBD_EINVAL;
        }
        if (strcmp (name, "action") == 0 &&
            strcmp (json_string_value (value), "CreateSubmissionRequest") != 0) {
            snprintf (reason, reason_size, "key 'action' must be \"CreateSubmissionRequest\"");
            return JOBD_EINVAL;
        }
    }
    json_t *file = json_object_get (spec, "file");
    if (!file)
        file = json_object_get (spec, "appResource");
    if (!file) {
        snprintf (reason, reason_size,
                  "the spec has no 'file' (or 'appResource'): the jar or .py file to run");
        return JOBD_EINVAL;
    }
    size_t length = strlen (json_string_value (file));
    if (target == SP_SPEC_STANDALONE && length >= 3 &&
        strcmp (json_string_value (file) + length - 3, ".py") == 0) {
        snprintf (reason, reason_size, "'%s' is a Python application%s", json_string_value (file),
                  s_python_hint);
        return JOBD_EINVAL;
    }
    return 0;
}

static json_t *
s_load (const char *spec_text, char *reason, size_t reason_size)
{
    if (!spec_text)
        return json_object ();
    json_error_t error;
    json_t *spec = json_loads (spec_text, 0, &error);
    if (!spec)
        snprintf (reason, reason_size, "the spec is not JSON: %s", error.text);
    return spec;
}

int
sp_spec_check (const char *spec_text, sp_spec_target_t target, char *reason, size_t reason_size)
{
    json_t *spec = s_load (spec_text, reason, reason_size);
    int rc = spec ? s_check (spec, target, reason, reason_size) : JOBD_EINVAL;
    json_decref (spec);
    return rc;
}

//  A scalar as the string Spark wants.
static json_t *
s_string (const json_t *value)
{
    if (json_is_string (value))
        return json_incref ((json_t *)value);
    char *text = json_dumps (value, JSON_ENCODE_ANY);
    json_t *string = json_string (text ? text : "");
    free (text);
    return string;
}

//  An array of strings as one comma-separated property value.
static json_t *
s_joined (const json_t *array)
{
    size_t index, length = 0;
    json_t *item;
    json_array_foreach (array, index, item) length +=
        json_is_string (item) ? strlen (json_string_value (item)) + 1 : 0;
    char *text = (char *)calloc (1, length + 1);
    if (!text)
        return NULL;
    json_array_foreach (array, index, item)
    {
        if (!json_is_string (item))
            continue;
        if (*text)
            strcat (text, ",");
        strcat (text, json_string_value (item));
    }
    json_t *joined = json_string (text);
    free (text);
    return joined;
}

static void
s_merge_map (json_t *into, const json_t *map)
{
    const char *name;
    json_t *value;
    json_object_foreach ((json_t *)map, name, value)
        json_object_set_new (into, name, s_string (value));
}

//  spark.yarn.tags gets jobd-<id> beside the tags the spec sets (YARN finds the app by it).
static void
s_add_tag (json_t *properties, const char *job_id)
{
    char tag[300];
    const char *tags = json_string_value (json_object_get (properties, "spark.yarn.tags"));
    if (tags && *tags)
        snprintf (tag, sizeof tag, "%.200s,jobd-%.64s", tags, job_id);
    else
        snprintf (tag, sizeof tag, "jobd-%.64s", job_id);
    json_object_set_new (properties, "spark.yarn.tags", json_string (tag));
}

void
sp_spec_livy_name (const char *name, const char *tag, char *out, size_t size)
{
    if (!name || !*name) {
        snprintf (out, size, "%s", tag);
        return;
    }
    //  The whole name fits in what a list reply's name is read into (SP_SPEC_NAME_MAX), so the
    //  tag at its end is never cut: a long name is shortened, at a character's start.
    size_t room = SP_SPEC_NAME_MAX < size - 1 ? SP_SPEC_NAME_MAX : size - 1;
    size_t keep = strlen (name), fixed = strlen (tag) + 3;
    if (fixed >= room)
        keep = 0;
    else if (keep > room - fixed) {
        keep = room - fixed;
        while (keep > 0 && ((unsigned char)name[keep] & 0xC0) == 0x80)
            keep--;
    }
    snprintf (out, size, "%.*s [%s]", (int)keep, name, tag);
}

const char *
sp_spec_livy_tag (const char *batch_name, char *out, size_t size)
{
    size_t length = strlen (batch_name);
    const char *open =
        length > 2 && batch_name[length - 1] == ']' ? strrchr (batch_name, '[') : NULL;
    if (open && open > batch_name && open[-1] == ' ')
        snprintf (out, size, "%.*s", (int)(batch_name + length - 1 - open - 1), open + 1);
    else
        snprintf (out, size, "%s", batch_name);
    return out;
}

//  The body: each key of the spec where the table sends it, then what jobd adds.
static json_t *
s_body (const json_t *spec, sp_spec_target_t target, const sp_spec_job_t *job)
{
    bool livy = target == SP_SPEC_LIVY;
    json_t *body = json_object ();
    json_t *properties = json_object ();
    //  Properties first (conf, then sparkProperties), so that the fields set after win.
    s_merge_map (properties, json_object_get (spec, "conf"));
    s_merge_map (properties, json_object_get (spec, "sparkProperties"));
    const char *name;
    json_t *value;
    json_object_foreach ((json_t *)spec, name, value)
    {
        const s_key_t *key = s_key (name);
        const char *to = key ? (livy ? key->livy : key->standalone) : NULL;
        if (!to || !*to || key->type == S_MAP || key->type == S_JOBD || strcmp (name, "name") == 0)
            continue; //  an unchecked spec (sp_spec_guess) may hold anything
        if (strncmp (to, "spark.", 6) == 0)
            json_object_set_new (properties, to,
                                 key->type == S_STRINGS ? s_joined (value) : s_string (value));
        else
            json_object_set (body, to, value);
    }
    const char *job_name = job->name && *job->name ? job->name : NULL;
    if (livy) {
        char batch_name[600];
        sp_spec_livy_name (job_name, job->tag, batch_name, sizeof batch_name);
        json_object_set_new (body, "name", json_string (batch_name));
        s_add_tag (properties, job->job_id);
        json_object_set_new (properties, "spark.jobd.id", json_string (job->job_id));
        json_object_set_new (body, "conf", properties);
        return body;
    }
    //  The portable create request (reference §1.4): action, clientSparkVersion, mainClass,
    //  appArgs, environmentVariables and spark.app.name always; every property a string.
    if (job_name || !json_object_get (properties, "spark.app.name"))
        json_object_set_new (properties, "spark.app.name",
                             json_string (job_name ? job_name : job->tag));
    json_object_set_new (properties, "spark.jobd.id", json_string (job->job_id));
    //  The attempt's tag: which attempt a driver is (the master's REST API shows no name).
    json_object_set_new (properties, "spark.jobd.tag", json_string (job->tag));
    if (!json_object_get (properties, "spark.master") && job->master && *job->master)
        json_object_set_new (properties, "spark.master", json_string (job->master));
    if (!json_object_get (properties, "spark.submit.deployMode"))
        json_object_set_new (properties, "spark.submit.deployMode", json_string ("cluster"));
    json_object_set_new (body, "action", json_string ("CreateSubmissionRequest"));
    if (!json_object_get (body, "clientSparkVersion"))
        json_object_set_new (body, "clientSparkVersion", json_string (""));
    if (!json_object_get (body, "mainClass"))
        json_object_set_new (body, "mainClass",
                             json_string ("org.apache.spark.deploy.SparkSubmit"));
    if (!json_object_get (body, "appArgs"))
        json_object_set_new (body, "appArgs", json_array ());
    json_t *environment = json_object ();
    s_merge_map (environment, json_object_get (spec, "environmentVariables"));
    json_object_set_new (body, "environmentVariables", environment);
    json_object_set_new (body, "sparkProperties", properties);
    return body;
}

int
sp_spec_body (const char *spec_text, sp_spec_target_t target, const sp_spec_job_t *job,
              char **body_p, char *reason, size_t reason_size)
{
    *body_p = NULL;
    json_t *spec = s_load (spec_text, reason, reason_size);
    int rc = spec ? s_check (spec, target, reason, reason_size) : JOBD_EINVAL;
    if (rc == 0) {
        json_t *body = s_body (spec, target, job);
        *body_p = json_dumps (body, JSON_COMPACT);
        json_decref (body);
        rc = *body_p ? 0 : -ENOMEM;
    }
    json_decref (spec);
    return rc;
}

int
sp_spec_guess (const char *spec_text, sp_spec_target_t target, const sp_spec_job_t *job,
               char **body_p)
{
    *body_p = NULL;
    char reason[256];
    json_t *spec = spec_text ? s_load (spec_text, reason, sizeof reason) : NULL;
    if (!json_is_object (spec)) {
        json_decref (spec);
        return JOBD_EINVAL;
    }
    json_t *body = s_body (spec, target, job);
    *body_p = json_dumps (body, JSON_COMPACT);
    json_decref (body);
    json_decref (spec);
    return *body_p ? 0 : -ENOMEM;
}
