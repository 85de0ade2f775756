//  sim_backend: what the simulated backends share with the server and the control API: their
//  names, the Spark version they mimic, and the 404 for paths they do not serve.
#include "sim.h"

#include <stdlib.h>
#include <string.h>

static const char *s_backend_names[] = {"standalone", "masterui", "livy",
                                        "yarn",       "history",  "control"};

const char *
sim_backend_name (sim_backend_t backend)
{
    return s_backend_names[backend];
}

int
sim_backend_parse (const char *name)
{
    for (int b = 0; b < SIM_BACKEND_COUNT; b++)
        if (strcmp (name, s_backend_names[b]) == 0)
            return b;
    return -1;
}

int
sim_config_spark_major (const sim_config_t *self)
{
    return atoi (self->spark_version);
}

void
sim_server_not_found (sim_t *sim, sim_req_t *req)
{
    sim_req_reply (req, 404, "text/html;charset=iso-8859-1",
                   "<html><body><h2>HTTP ERROR 404 Not Found</h2></body></html>\n");
}
