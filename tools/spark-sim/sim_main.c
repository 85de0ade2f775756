//  spark-sim: simulates Spark's REST APIs (standalone, master UI, Livy, YARN, history) on one port.
#include "sim.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "usage: spark-sim [options]\n"
        "Simulates Spark's REST APIs on one port of 127.0.0.1: the standalone master REST\n"
        "server (/v1/submissions), the master UI JSON (/json/), Livy (/batches), the YARN\n"
        "ResourceManager (/ws/v1/cluster) and the history server (/api/v1), plus a control\n"
        "API under /sim/. See tools/spark-sim/README.md.\n\n"
        "  --port N                 port to listen on (default 6066; 0 picks a free one)\n"
        "  --port-file FILE         write the bound port to FILE once listening\n"
        "  --spark-version V        serverSparkVersion and behaviour (default 4.0.0;\n"
        "                           below 4.0 there is no killall/clear/readyz)\n"
        "  --scenario TEXT          default scenario (default \"queue=1000,run=5000,"
        "outcome=success\")\n"
        "  --retained-drivers N     spark.deploy.retainedDrivers (default 200)\n"
        "  --yarn-max-completed N   RM max-completed-applications (default 1000; 0: no limit)\n"
        "  --livy-retain-sec N      Livy state-retain.sec for finished batches (default 600)\n"
        "  --kill-delay-ms N        time a kill of a running job takes (default 200)\n"
        "  --yarn-empty SHAPE       empty app list: object ({}), string (\"\"), null\n"
        "  --yarn-require-user      PUT .../state needs ?user.name= (else 403)\n"
        "  --livy-csrf              non-GET Livy requests need X-Requested-By\n"
        "  --standby                start the standalone master in STANDBY\n"
        "  --cluster-ts MS          YARN cluster timestamp in app ids (default: start time)\n"
        "  --threads N              thread pool size (default 0: a thread per connection)\n"
        "  --help                   this text\n"
        "  --version                print the version\n");
}

static int
s_number (const char *flag, const char *text, int64_t min, int64_t *value)
{
    if (sim_parse_int (text, value) || *value < min) {
        fprintf (stderr, "spark-sim: %s needs an integer >= %lld, not '%s'\n", flag, (long long)min,
                 text);
        return -1;
    }
    return 0;
}

//  Writes the port to a temporary file and renames it, so readers never see half a number.
static int
s_write_port_file (const char *path, int port)
{
    char tmp[4096];
    snprintf (tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid ());
    FILE *file = fopen (tmp, "w");
    if (!file)
        return -errno;
    fprintf (file, "%d\n", port);
    if (fclose (file) != 0 || rename (tmp, path) != 0) {
        int rc = -errno;
        unlink (tmp);
        return rc;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    static const struct option options[] = {{"port", required_argument, 0, 'p'},
                                            {"port-file", required_argument, 0, 'f'},
                                            {"spark-version", required_argument, 0, 'V'},
                                            {"scenario", required_argument, 0, 's'},
                                            {"retained-drivers", required_argument, 0, 'r'},
                                            {"yarn-max-completed", required_argument, 0, 'm'},
                                            {"livy-retain-sec", required_argument, 0, 'l'},
                                            {"kill-delay-ms", required_argument, 0, 'k'},
                                            {"yarn-empty", required_argument, 0, 'e'},
                                            {"yarn-require-user", no_argument, 0, 'u'},
                                            {"livy-csrf", no_argument, 0, 'c'},
                                            {"standby", no_argument, 0, 'S'},
                                            {"cluster-ts", required_argument, 0, 't'},
                                            {"threads", required_argument, 0, 'T'},
                                            {"help", no_argument, 0, 'h'},
                                            {"version", no_argument, 0, 'v'},
                                            {0, 0, 0, 0}};
    sim_config_t config = {.retained_drivers = 200,
                           .yarn_max_completed = 1000,
                           .livy_retain_ms = 600000,
                           .kill_delay_ms = 200,
                           .port = 6066,
                           .cluster_ts = sim_clock_now ()};
    snprintf (config.spark_version, sizeof config.spark_version, "4.0.0");
    const char *port_file = NULL, *scenario_text = NULL;
    int64_t n, threads = 0;
    int opt, rc = 0;
    while (rc == 0 && (opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
            case 'p':
                rc = s_number ("--port", optarg, 0, &n);
                config.port = n > 65535 ? -1 : (int)n;
                if (config.port < 0) {
                    fprintf (stderr, "spark-sim: --port must be 0..65535\n");
                    rc = -1;
                }
                break;
            case 'f':
                port_file = optarg;
                break;
            case 'V':
                snprintf (config.spark_version, sizeof config.spark_version, "%s", optarg);
                break;
            case 's':
                scenario_text = optarg;
                break;
            case 'r':
                rc = s_number ("--retained-drivers", optarg, 1, &n);
                config.retained_drivers = (int)n;
                break;
            case 'm':
                rc = s_number ("--yarn-max-completed", optarg, 0, &n);
                config.yarn_max_completed = (int)n;
                break;
            case 'l':
                rc = s_number ("--livy-retain-sec", optarg, 0, &n);
                config.livy_retain_ms = n * 1000;
                break;
            case 'k':
                rc = s_number ("--kill-delay-ms", optarg, 0, &config.kill_delay_ms);
                break;
            case 'e':
                if (strcmp (optarg, "object") == 0)
                    config.yarn_empty = SIM_YARN_EMPTY_OBJECT;
                else if (strcmp (optarg, "string") == 0)
                    config.yarn_empty = SIM_YARN_EMPTY_STRING;
                else if (strcmp (optarg, "null") == 0)
                    config.yarn_empty = SIM_YARN_EMPTY_NULL;
                else {
                    fprintf (stderr, "spark-sim: --yarn-empty must be object, string or null\n");
                    rc = -1;
                }
                break;
            case 'u':
                config.yarn_require_user = true;
                break;
            case 'c':
                config.livy_csrf = true;
                break;
            case 'S':
                config.standby = true;
                break;
            case 't':
                rc = s_number ("--cluster-ts", optarg, 1, &config.cluster_ts);
                break;
            case 'T':
                rc = s_number ("--threads", optarg, 0, &threads);
                break;
            case 'h':
                s_usage (stdout);
                return 0;
            case 'v':
                printf ("spark-sim %s\n", JOBD_VERSION);
                return 0;
            default:
                s_usage (stderr);
                return 2;
        }
    }
    if (rc != 0)
        return 2;
    if (optind < argc) {
        fprintf (stderr, "spark-sim: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    char err[300];
    sim_scenario_t *scenario = NULL;
    if (scenario_text) {
        scenario = sim_scenario_parse (NULL, scenario_text, err, sizeof err);
        if (!scenario) {
            fprintf (stderr, "spark-sim: --scenario: %s\n", err);
            return 2;
        }
    }
    //  Block the stop signals before any thread starts, then wait for them here.
    sigset_t stop;
    sigemptyset (&stop);
    sigaddset (&stop, SIGTERM);
    sigaddset (&stop, SIGINT);
    pthread_sigmask (SIG_BLOCK, &stop, NULL);
    signal (SIGPIPE, SIG_IGN);
    sim_t *sim = sim_server_new (&config, &scenario, (int)threads, err, sizeof err);
    sim_scenario_destroy (&scenario);
    if (!sim) {
        fprintf (stderr, "spark-sim: %s\n", err);
        return 1;
    }
    if (port_file && (rc = s_write_port_file (port_file, sim->config.port)) != 0) {
        fprintf (stderr, "spark-sim: cannot write --port-file %s: %s\n", port_file, strerror (-rc));
        sim_server_destroy (&sim);
        return 1;
    }
    printf ("spark-sim listening on http://127.0.0.1:%d\n", sim->config.port);
    fflush (stdout);
    int signo = 0;
    sigwait (&stop, &signo);
    sim_server_destroy (&sim);
    if (port_file)
        unlink (port_file);
    return 0;
}
