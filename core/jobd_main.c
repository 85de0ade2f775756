//  jobd: the daemon. Reads its config, opens the store, starts the broker and the plugins, and
//  stops them cleanly on SIGTERM or SIGINT.
#include "jobd_broker.h"
#include "jobd_changelog.h"
#include "jobd_claims.h"
#include "jobd_forward.h"
#include "jobd_cluster.h"
#include "jobd_store_cl.h"
#include "jobd_config.h"
#include "jobd_cert.h"
#include "jobd_curve.h"
#include "jobd_describe.h"
#include "jobd_log.h"
#include "jobd_notify.h"
#include "jobd_plugin_loader.h"
#include "jobd_run_dir.h"
#include "jobd_store_cli.h"
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG "jobd"

//  Exit codes, documented in core/README.md.
enum {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1,
    EXIT_USAGE = 2,
    EXIT_CONFIG = 3,
    EXIT_STORE = 4,
    EXIT_ENDPOINT = 5,
    EXIT_DAMAGED = 6,
    EXIT_KAFKA = 7 //  cluster mode: no Kafka broker answered at start
};

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: jobd [OPTIONS]\n"
             "Follows Spark and Kafka jobs to their end: records every transition durably in\n"
             "LMDB and publishes it over ZeroMQ.\n\n"
             "  -c, --config FILE   read FILE (ZPL); without it jobd runs on its embedded\n"
             "                      default: store ./jobd-data, sockets in ./jobd-run, every\n"
             "                      plugin found next to jobd\n"
             "      --check         check the config, vet every plugin's file and folder,\n"
             "                      load (not start) the vetted ones and run their own\n"
             "                      config checks, then exit\n"
             "      --keygen        make the CURVE key pair named by core/curve_key (the\n"
             "                      secret 0600, its public half in KEY.pub) and the\n"
             "                      core/curve_clients folder, then exit\n"
             "      --verify        check the store (every page, every value) and exit:\n"
             "                      0 no damage, 6 damaged, 4 cannot be read (--json: JSON)\n"
             "      --backup DIR    copy the store, consistent and compacted, into\n"
             "                      DIR/data.mdb (while jobd runs, too), then check the copy\n"
             "      --describe-config\n"
             "                      print every config key of the core and of each plugin\n"
             "                      jobd would load (type, default, help), then exit;\n"
             "                      --json for scripts, --markdown for the READMEs' tables\n"
             "  -h, --help          show this help\n"
             "  -V, --version       show the version\n\n"
             "Environment: JOBD_<SECTION>_<KEY> overrides a key,\n"
             "  e.g. JOBD_CORE_STORE=/var/lib/jobd\n"
             "Exit codes: 0 stopped cleanly, 1 runtime failure, 2 usage, 3 config (or a config\n"
             "or plugin writable by others than its owner or root), 4 store,\n"
             "5 endpoint (in use or invalid), 6 store damaged (see jobd --verify),\n"
             "7 cluster mode: no Kafka broker answered at start.\n");
}

//  The plugin folder: the configured one, else the installation's (PREFIX/lib/jobd/plugins, found
//  from the binary so that an install under any prefix, staged or moved, finds its own), else
//  ../plugins next to the binary (the build tree).
static void
s_plugin_dir (jobd_config_t *config, char *dir, size_t dir_size)
{
    const char *configured = jobd_config_str (config, "core", "plugin_dir");
    if (configured && *configured) {
        snprintf (dir, dir_size, "%s", configured);
        return;
    }
    char exe[1024];
    ssize_t length = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    if (length <= 0) {
        snprintf (dir, dir_size, "%s", JOBD_PLUGIN_DIR_INSTALLED);
        return;
    }
    exe[length] = 0;
    const char *bin_dir = dirname (exe);
    char build_tree[1100];
    snprintf (build_tree, sizeof build_tree, "%s/../plugins", bin_dir);
    char installed[1100], resolved[PATH_MAX];
    snprintf (installed, sizeof installed, "%s/%s", bin_dir, JOBD_PLUGIN_DIR_FROM_BIN);
    const char *found =
        access (installed, F_OK) != 0 && access (build_tree, F_OK) == 0 ? build_tree : installed;
    //  Without the "..": the folder is named in logs and jobctl plugins.
    snprintf (dir, dir_size, "%s", realpath (found, resolved) ? resolved : found);
}

static void
s_endpoint (jobd_config_t *config, const char *key, const char *run_dir, const char *file,
            char *endpoint, size_t size)
{
    const char *configured = jobd_config_str (config, "core", key);
    if (configured && *configured)
        snprintf (endpoint, size, "%s", configured);
    else
        snprintf (endpoint, size, "ipc://%s/%s", run_dir, file);
}

//  jobd --keygen: the server's key pair at core/curve_key, and the clients' folder. Returns the
//  exit code.
static int
s_keygen (jobd_config_t *config)
{
    const char *key = jobd_config_str (config, "core", "curve_key");
    const char *clients = jobd_config_str (config, "core", "curve_clients");
    char reason[1024];
    if (!*key) {
        fprintf (stderr, "jobd: config %s: --keygen needs core/curve_key (where to write it)\n",
                 jobd_config_filename (config));
        return EXIT_CONFIG;
    }
    if (jobd_cert_keygen (key, reason, sizeof reason)) {
        fprintf (stderr, "jobd: %s\n", reason);
        return EXIT_CONFIG;
    }
    printf ("jobd: wrote the server's secret key %s (0600) and its public key %s.pub (give that "
            "to clients)\n",
            key, key);
    if (*clients && mkdir (clients, 0700) == 0)
        printf ("jobd: made %s (0700): put the public keys of the clients allowed in there\n",
                clients);
    return EXIT_OK;
}

//  Damage the store met on a read or write: logged (the store rate-limits it).
static void
s_store_damage (const char *line, void *arg)
{
    jobd_log (JOBD_LOG_ERROR, LOG, "%s", line);
}

//  The store's map grew (from the broker's thread, between two batches).
static void
s_store_notice (const char *line, void *arg)
{
    jobd_log (JOBD_LOG_INFO, LOG, "%s", line);
}

//  Waits for SIGTERM or SIGINT, or for the broker to die. Returns the exit code.
static int
s_wait (int signal_fd, jobd_broker_t *broker)
{
    struct pollfd fds[2] = {{.fd = signal_fd, .events = POLLIN},
                            {.fd = zsock_fd (jobd_broker_pipe (broker)), .events = POLLIN}};
    while (true) {
        if (poll (fds, 2, 1000) < 0 && errno != EINTR)
            return EXIT_RUNTIME;
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo info;
            if (read (signal_fd, &info, sizeof info) == sizeof info)
                jobd_log (JOBD_LOG_INFO, LOG, "%s received, stopping", strsignal (info.ssi_signo));
            return EXIT_OK;
        }
        //  The pipe's fd is edge-triggered: ask the socket itself.
        if (zsock_events (jobd_broker_pipe (broker)) & ZMQ_POLLIN) {
            jobd_log (JOBD_LOG_ERROR, LOG, "the broker stopped unexpectedly");
            return EXIT_RUNTIME;
        }
    }
}

int
main (int argc, char *argv[])
{
    static const struct option options[] = {{"config", required_argument, NULL, 'c'},
                                            {"check", no_argument, NULL, 'k'},
                                            {"keygen", no_argument, NULL, 'g'},
                                            {"help", no_argument, NULL, 'h'},
                                            {"version", no_argument, NULL, 'V'},
                                            //  the store's commands (jobd_store_cli.h)
                                            {"verify", no_argument, NULL, 'Y'},
                                            {"json", no_argument, NULL, 'J'},
                                            {"backup", required_argument, NULL, 'B'},
                                            //  jobd --describe-config (jobd_describe.h)
                                            {"describe-config", no_argument, NULL, 'D'},
                                            {"markdown", no_argument, NULL, 'M'},
                                            {NULL, 0, NULL, 0}};
    const char *config_path = NULL;
    bool check_only = false;
    bool keygen = false;
    const char *store_command = NULL, *backup_dir = NULL; //  --verify, --backup
    bool json = false, describe = false, markdown = false;
    int option;
    while ((option = getopt_long (argc, argv, "c:hV", options, NULL)) != -1) {
        switch (option) {
            case 'c':
                config_path = optarg;
                break;
            case 'k':
                check_only = true;
                break;
            case 'g':
                keygen = true;
                break;
            case 'Y':
            case 'B':
                store_command = option == 'Y' ? "verify" : "backup";
                backup_dir = option == 'B' ? optarg : NULL;
                break;
            case 'J':
                json = true;
                break;
            case 'D':
                describe = true;
                break;
            case 'M':
                markdown = true;
                break;
            case 'h':
                s_usage (stdout);
                return EXIT_OK;
            case 'V':
                printf ("jobd %s (plugin ABI %d.%d, proto %d)\n", JOBD_VERSION,
                        JOBD_PLUGIN_ABI_MAJOR, JOBD_PLUGIN_ABI_MINOR, JOBD_PROTO_VERSION);
                return EXIT_OK;
            default:
                s_usage (stderr);
                return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "jobd: unexpected argument '%s' (see jobd --help)\n", argv[optind]);
        return EXIT_USAGE;
    }
    if ((markdown && !describe) || (markdown && json) ||
        (describe && (check_only || keygen || store_command))) {
        fprintf (stderr, "jobd: --describe-config goes alone, with --json or --markdown (see "
                         "jobd --help)\n");
        return EXIT_USAGE;
    }

    //  Signals go to a signalfd read by this thread only: every thread started from here on
    //  inherits the mask, and CZMQ's own handler stays out of the way.
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGTERM);
    sigaddset (&signals, SIGINT);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    signal (SIGPIPE, SIG_IGN);
    zsys_handler_set (NULL);
    //  CZMQ's lines (zconfig's syntax errors, with their line) in jobd's own format.
    zsys_init (); //  before the stream is set: a later implicit init would set its own
    FILE *czmq_log = jobd_log_stream ("czmq");
    zsys_set_logstream (czmq_log ? czmq_log : stderr);
    int signal_fd = signalfd (-1, &signals, SFD_CLOEXEC);

    char reason[1024] = "";
    jobd_config_t *config = NULL;
    int rc = jobd_config_load (config_path, &config, reason, sizeof reason);
    static const char *const sections[] = {"core", "plugins", "cluster", NULL};
    if (rc == 0)
        rc = jobd_config_check_sections (config, sections, reason, sizeof reason);
    if (rc == 0)
        rc = jobd_config_check (config, "core", jobd_config_core_map, reason, sizeof reason);
    if (rc == 0 && jobd_cluster_configured (config))
        rc = jobd_cluster_check (config, reason, sizeof reason);
    jobd_log_level_t level = JOBD_LOG_INFO;
    if (rc == 0 && jobd_log_level_parse (jobd_config_str (config, "core", "log_level"), &level)) {
        snprintf (reason, sizeof reason,
                  "config %s: key 'core/log_level': '%s' is not one of error, warn, info, debug",
                  jobd_config_filename (config), jobd_config_str (config, "core", "log_level"));
        rc = JOBD_ECONFIG;
    }
    if (rc == 0 && jobd_log_set_format (jobd_config_str (config, "core", "log_format"))) {
        snprintf (reason, sizeof reason,
                  "config %s: key 'core/log_format': '%s' is not one of text, json",
                  jobd_config_filename (config), jobd_config_str (config, "core", "log_format"));
        rc = JOBD_ECONFIG;
    }
    //  The deadline keys are checked with the rest of the config (the policy is made again at
    //  start-up, from the same config).
    jobd_deadline_t *deadline = NULL;
    if (rc == 0)
        rc = jobd_deadline_new (config, &deadline, reason, sizeof reason);
    jobd_deadline_destroy (&deadline);
    if (rc) {
        fprintf (stderr, "jobd: %s\n", reason);
        jobd_config_destroy (&config);
        return EXIT_CONFIG;
    }
    jobd_log_set_level (level);
    if (keygen) {
        int code = s_keygen (config);
        jobd_config_destroy (&config);
        return code;
    }

    char plugin_dir[1100];
    s_plugin_dir (config, plugin_dir, sizeof plugin_dir);
    //  Under systemd, a config file that names no store or run folder gets the unit's.
    char store_path[1024], run_dir[1024];
    jobd_notify_dir (config, "store", "STATE_DIRECTORY", store_path, sizeof store_path);
    jobd_notify_dir (config, "run_dir", "RUNTIME_DIRECTORY", run_dir, sizeof run_dir);

    //  The keys of the core and of the plugins that start-up would load: from their config maps.
    if (describe) {
        if (level > JOBD_LOG_WARN)
            jobd_log_set_level (JOBD_LOG_WARN); //  only what went wrong: stdout is the answer
        jobd_describe_format_t format = json       ? JOBD_DESCRIBE_JSON
                                        : markdown ? JOBD_DESCRIBE_MARKDOWN
                                                   : JOBD_DESCRIBE_TEXT;
        rc = jobd_describe_config (config, plugin_dir, format, stdout, reason, sizeof reason);
        if (rc)
            fprintf (stderr, "jobd: %s\n", reason);
        jobd_config_destroy (&config);
        return rc == 0 ? EXIT_OK : rc == JOBD_ECONFIG ? EXIT_CONFIG : EXIT_RUNTIME;
    }

    //  The store's own commands need nothing else; they read the store as jobd may be running.
    if (store_command) {
        rc = backup_dir ? jobd_store_cli_backup (store_path, backup_dir, stdout)
                        : jobd_store_cli_verify (store_path, config_path, json, stdout);
        jobd_config_destroy (&config);
        return rc == 0 ? EXIT_OK : rc == JOBD_ECORRUPT ? EXIT_DAMAGED : EXIT_STORE;
    }

    //  Network endpoints need CURVE (or an explicit insecure = true): checked by --check too.
    char admin[1200], events[1200];
    s_endpoint (config, "admin", run_dir, "admin.sock", admin, sizeof admin);
    s_endpoint (config, "events", run_dir, "events.sock", events, sizeof events);
    jobd_curve_t *curve = NULL;
    if (jobd_curve_new (config, admin, events, &curve, reason, sizeof reason)) {
        fprintf (stderr, "jobd: %s\n", reason);
        jobd_config_destroy (&config);
        return EXIT_CONFIG;
    }

    //  Plugins are loaded (not started) before anything opens, so that --check sees them all.
    jobd_plugin_loader_t *loader = jobd_plugin_loader_new (config, NULL, plugin_dir);
    rc = jobd_plugin_loader_load (loader, reason, sizeof reason);
    //  --check vets every plugin's file and folder and dlopens only those it vetted; one refused
    //  fails it (jobd itself carries on without that plugin, as with any plugin failing to load).
    if (rc == 0 && check_only && jobd_plugin_loader_refused (loader)) {
        snprintf (reason, sizeof reason, "%zu plugin%s refused (see above): not trusted",
                  jobd_plugin_loader_refused (loader),
                  jobd_plugin_loader_refused (loader) == 1 ? "" : "s");
        rc = JOBD_ECONFIG;
    }
    //  Each plugin's own checks: what its init would refuse, without starting anything. At a
    //  start, a plugin that refuses is failed and jobd carries on (as when its init fails).
    if (rc == 0) {
        int checked = jobd_plugin_loader_check (loader, reason, sizeof reason);
        if (check_only)
            rc = checked;
    }
    if (rc || check_only) {
        if (rc)
            fprintf (stderr, "jobd: %s\n", reason);
        else
            printf ("jobd: config %s is valid\n", jobd_config_filename (config));
        jobd_plugin_loader_destroy (&loader);
        jobd_curve_destroy (&curve);
        jobd_config_destroy (&config);
        return rc ? EXIT_CONFIG : EXIT_OK;
    }

    int exit_code = EXIT_OK;
    //  Under systemd (Type=notify): READY once running, STATUS, the watchdog, STOPPING.
    jobd_notify_t *notify = jobd_notify_new ();
    jobd_notify_status (notify, "starting: checking the store");
    jobd_run_dir_t *run = NULL;
    jobd_store_t *store = NULL;
    jobd_broker_t *broker = NULL;
    jobd_cluster_t *cluster = NULL;
    jobd_changelog_t *changelog = NULL;
    jobd_claims_t *claims = NULL;
    jobd_forward_t *forward = NULL;
    rc = jobd_run_dir_open (run_dir, store_path, &run, reason, sizeof reason);
    if (rc) {
        fprintf (stderr, "jobd: %s\n", reason);
        exit_code = rc == -EBUSY || rc == JOBD_ESTORE ? EXIT_STORE : EXIT_RUNTIME;
        goto out;
    }
    //  LMDB trusts its pages: a damaged one crashes it. Walk them first, refuse a damaged store.
    bool walked = false;
    int64_t walk_start = zclock_mono ();
    rc = jobd_store_cli_check (store_path, config_path, &walked, reason, sizeof reason);
    if (walked && rc == 0)
        jobd_log (JOBD_LOG_INFO, LOG, "store %s: pages checked in %lld ms", store_path,
                  (long long)(zclock_mono () - walk_start));
    if (rc) {
        fprintf (stderr, "jobd: %s\n", reason);
        exit_code = rc == JOBD_ECORRUPT ? EXIT_DAMAGED : EXIT_STORE;
        goto out;
    }
    rc = jobd_store_open (store_path, 0, (size_t)jobd_config_int (config, "core", "map_size", 0),
                          &store, reason, sizeof reason);
    if (rc) {
        fprintf (stderr, "jobd: %s\n", reason);
        exit_code = EXIT_STORE;
        goto out;
    }
    jobd_store_set_damage_fn (store, s_store_damage, NULL);
    jobd_store_set_notice_fn (store, s_store_notice, NULL);
    jobd_store_set_map_max (store, (size_t)jobd_config_int (config, "core", "map_size_max", 0));
    //  A cluster instance's store holds the cluster's jobs, with its ids and its timers by
    //  partition: alone, it would fork the cluster's jobs.
    char bound[512];
    if (!jobd_cluster_configured (config) &&
        jobd_store_cl_bound (store, bound, sizeof bound) == 0) {
        fprintf (stderr,
                 "jobd: store %s belongs to cluster %s: start jobd with that cluster's section "
                 "(a single jobd starts with a store of its own)\n",
                 store_path, bound);
        exit_code = EXIT_STORE;
        goto out;
    }
    if (jobd_cluster_configured (config)) {
        jobd_notify_status (notify, "starting: the cluster's Kafka topics");
        rc = jobd_cluster_new (config, &cluster, reason, sizeof reason);
        if (rc) {
            fprintf (stderr, "jobd: %s\n", reason);
            exit_code = rc == JOBD_ETIMEOUT ? EXIT_KAFKA : EXIT_CONFIG;
            goto out;
        }
        rc = jobd_changelog_new (config, store, cluster, &changelog, reason, sizeof reason);
        if (rc) {
            fprintf (stderr, "jobd: %s\n", reason);
            exit_code = rc == JOBD_ECONFIG ? EXIT_STORE : EXIT_RUNTIME;
            goto out;
        }
        rc = jobd_claims_new (config, store, cluster, changelog, &claims, reason, sizeof reason);
        if (rc == 0)
            rc = jobd_forward_new (config, cluster, &forward, reason, sizeof reason);
        if (rc) {
            fprintf (stderr, "jobd: %s\n", reason);
            exit_code = EXIT_RUNTIME;
            goto out;
        }
    }
    rc = jobd_run_dir_check_endpoint (admin, reason, sizeof reason);
    if (rc == 0)
        rc = jobd_run_dir_check_endpoint (events, reason, sizeof reason);
    if (rc == 0 && jobd_deadline_new (config, &deadline, reason, sizeof reason))
        deadline = NULL; //  checked at start: only memory can fail here
    jobd_broker_options_t broker_options = {
        .admin_endpoint = admin,
        .events_endpoint = events,
        .batch_max = (size_t)jobd_config_int (config, "core", "batch_max", 4096),
        .message_max = jobd_config_int (config, "core", "message_max", 0),
        .client_queue_max = (int)jobd_config_int (config, "core", "client_queue_max", 0),
        .cursor_idle_max = jobd_config_int (config, "core", "cursor_idle_max", 0),
        .deadline = deadline,
        .changelog = changelog,
        .claims = claims,
        .forward = forward,
        .heartbeat = jobd_notify_heartbeat,
        .heartbeat_arg = notify,
        .heartbeat_ms = jobd_notify_heartbeat_ms (notify)};
    if (rc == 0)
        rc = jobd_broker_start (store, &broker_options, &broker, reason, sizeof reason);
    if (rc) {
        fprintf (stderr, "jobd: %s\n", reason);
        exit_code = EXIT_ENDPOINT;
        goto out;
    }
    //  Cluster mode: the plugins start once this instance owns its share (a plugin's first
    //  submissions need a partition to land in), or after three session timeouts.
    int64_t settle_until =
        zclock_mono () + 3 * jobd_config_int (config, "cluster", "session_timeout", 6000);
    if (claims)
        jobd_notify_status (notify, "starting: joining the cluster's group");
    while (claims && !jobd_claims_settled (claims) && zclock_mono () < settle_until)
        zclock_sleep (20); //  the broker's thread turns the group: only a flag to read here
    if (claims && !jobd_claims_settled (claims))
        jobd_log (JOBD_LOG_WARN, LOG, "the cluster's group gave no share yet: starting anyway");
    jobd_plugin_loader_set_store (loader, store);
    if (claims)
        jobd_plugin_loader_set_claims (loader, claims, jobd_cluster_instance (cluster));
    size_t running = jobd_plugin_loader_start (loader, broker);
    jobd_log (JOBD_LOG_INFO, LOG, "jobd %s running: store %s, %zu plugin%s", JOBD_VERSION,
              store_path, running, running == 1 ? "" : "s");
    char status[256];
    snprintf (status, sizeof status, "running: store %s, %zu plugin%s", store_path, running,
              running == 1 ? "" : "s");
    jobd_notify_ready (notify, status);
    exit_code = s_wait (signal_fd, broker);
    jobd_notify_stopping (notify, "stopping: the plugins, then the broker's last commit");

out:
    //  Plugins first, so that what they sent last reaches the broker; then the broker, which
    //  commits and publishes everything it received before it stops.
    jobd_plugin_loader_destroy (&loader);
    jobd_broker_destroy (&broker);
    jobd_claims_destroy (&claims); //  releases what it owned: after the broker's last commit
    jobd_forward_destroy (&forward);
    jobd_changelog_destroy (&changelog);
    jobd_cluster_destroy (&cluster);
    jobd_deadline_destroy (&deadline);
    jobd_curve_destroy (&curve); //  zauth outlives the sockets it vouches for
    //  The next start need not walk the pages: only after a clean stop that met no damage.
    bool clean = exit_code == EXIT_OK && run && store && jobd_store_damage_count (store) == 0;
    jobd_store_destroy (&store);
    if (clean)
        jobd_store_cli_mark_clean (store_path);
    jobd_run_dir_close (&run);
    jobd_config_destroy (&config);
    jobd_notify_destroy (&notify);
    close (signal_fd);
    if (exit_code == EXIT_OK)
        jobd_log (JOBD_LOG_INFO, LOG, "stopped cleanly");
    return exit_code;
}
