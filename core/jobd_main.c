//  jobd: the daemon. Reads its config, opens the store, starts the broker and the plugins, and
//  stops them cleanly on SIGTERM or SIGINT.
#include "jobd_broker.h"
#include "jobd_config.h"
#include "jobd_log.h"
#include "jobd_plugin_loader.h"
#include "jobd_run_dir.h"
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define LOG "jobd"

//  Exit codes, documented in core/README.md.
enum {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1,
    EXIT_USAGE = 2,
    EXIT_CONFIG = 3,
    EXIT_STORE = 4,
    EXIT_ENDPOINT = 5
};

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "Usage: jobd [OPTIONS]\n"
        "Follows Spark and Kafka jobs to their end: records every transition durably in\n"
        "LMDB and publishes it over ZeroMQ.\n\n"
        "  -c, --config FILE   read FILE (ZPL); without it jobd runs on its embedded\n"
        "                      default: store ./jobd-data, sockets in ./jobd-run, every\n"
        "                      plugin found next to jobd\n"
        "      --check         check the config and the plugins, then exit\n"
        "  -h, --help          show this help\n"
        "  -V, --version       show the version\n\n"
        "Environment: JOBD_<SECTION>_<KEY> overrides a key, e.g. JOBD_CORE_STORE=/var/lib/jobd\n"
        "Exit codes: 0 stopped cleanly, 1 runtime failure, 2 usage, 3 config, 4 store,\n"
        "5 endpoint (in use or invalid).\n");
}

//  The plugin folder: the configured one, else ../plugins next to the jobd binary.
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
        snprintf (dir, dir_size, "plugins");
        return;
    }
    exe[length] = 0;
    snprintf (dir, dir_size, "%s/../plugins", dirname (exe));
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
                                            {"help", no_argument, NULL, 'h'},
                                            {"version", no_argument, NULL, 'V'},
                                            {NULL, 0, NULL, 0}};
    const char *config_path = NULL;
    bool check_only = false;
    int option;
    while ((option = getopt_long (argc, argv, "c:hV", options, NULL)) != -1) {
        switch (option) {
            case 'c':
                config_path = optarg;
                break;
            case 'k':
                check_only = true;
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

    //  Signals go to a signalfd read by this thread only: every thread started from here on
    //  inherits the mask, and CZMQ's own handler stays out of the way.
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGTERM);
    sigaddset (&signals, SIGINT);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    signal (SIGPIPE, SIG_IGN);
    zsys_handler_set (NULL);
    zsys_set_logstream (stderr); //  zconfig's syntax errors (with their line) go with ours
    int signal_fd = signalfd (-1, &signals, SFD_CLOEXEC);

    char reason[1024] = "";
    jobd_config_t *config = NULL;
    int rc = jobd_config_load (config_path, &config, reason, sizeof reason);
    static const char *const sections[] = {"core", "plugins", NULL};
    if (rc == 0)
        rc = jobd_config_check_sections (config, sections, reason, sizeof reason);
    if (rc == 0)
        rc = jobd_config_check (config, "core", jobd_config_core_map, reason, sizeof reason);
    jobd_log_level_t level = JOBD_LOG_INFO;
    if (rc == 0 && jobd_log_level_parse (jobd_config_str (config, "core", "log_level"), &level)) {
        snprintf (reason, sizeof reason,
                  "config %s: key 'core/log_level': '%s' is not one of error, warn, info, debug",
                  jobd_config_filename (config), jobd_config_str (config, "core", "log_level"));
        rc = JOBD_ECONFIG;
    }
    if (rc) {
        fprintf (stderr, "jobd: %s\n", reason);
        jobd_config_destroy (&config);
        return EXIT_CONFIG;
    }
    jobd_log_set_level (level);

    char plugin_dir[1100];
    s_plugin_dir (config, plugin_dir, sizeof plugin_dir);
    const char *store_path = jobd_config_str (config, "core", "store");
    const char *run_dir = jobd_config_str (config, "core", "run_dir");

    //  Plugins are loaded (not started) before anything opens, so that --check sees them all.
    jobd_plugin_loader_t *loader = jobd_plugin_loader_new (config, NULL, plugin_dir);
    rc = jobd_plugin_loader_load (loader, reason, sizeof reason);
    if (rc || check_only) {
        if (rc)
            fprintf (stderr, "jobd: %s\n", reason);
        else
            printf ("jobd: config %s is valid\n", jobd_config_filename (config));
        jobd_plugin_loader_destroy (&loader);
        jobd_config_destroy (&config);
        return rc ? EXIT_CONFIG : EXIT_OK;
    }

    int exit_code = EXIT_OK;
    jobd_run_dir_t *run = NULL;
    jobd_store_t *store = NULL;
    jobd_broker_t *broker = NULL;
    rc = jobd_run_dir_open (run_dir, store_path, &run, reason, sizeof reason);
    if (rc) {
        fprintf (stderr, "jobd: %s\n", reason);
        exit_code = rc == -EBUSY || rc == JOBD_ESTORE ? EXIT_STORE : EXIT_RUNTIME;
        goto out;
    }
    rc = jobd_store_open (store_path, 0, (size_t)jobd_config_int (config, "core", "map_size", 0),
                          &store, reason, sizeof reason);
    if (rc) {
        fprintf (stderr, "jobd: %s\n", reason);
        exit_code = EXIT_STORE;
        goto out;
    }
    char admin[1200], events[1200];
    s_endpoint (config, "admin", run_dir, "admin.sock", admin, sizeof admin);
    s_endpoint (config, "events", run_dir, "events.sock", events, sizeof events);
    rc = jobd_run_dir_check_endpoint (admin, reason, sizeof reason);
    if (rc == 0)
        rc = jobd_run_dir_check_endpoint (events, reason, sizeof reason);
    jobd_broker_options_t broker_options = {
        .admin_endpoint = admin,
        .events_endpoint = events,
        .batch_max = (size_t)jobd_config_int (config, "core", "batch_max", 4096),
        .message_max = jobd_config_int (config, "core", "message_max", 0),
        .client_queue_max = (int)jobd_config_int (config, "core", "client_queue_max", 0),
        .cursor_idle_max = jobd_config_int (config, "core", "cursor_idle_max", 0)};
    if (rc == 0)
        rc = jobd_broker_start (store, &broker_options, &broker, reason, sizeof reason);
    if (rc) {
        fprintf (stderr, "jobd: %s\n", reason);
        exit_code = EXIT_ENDPOINT;
        goto out;
    }
    jobd_plugin_loader_set_store (loader, store);
    size_t running = jobd_plugin_loader_start (loader, broker);
    jobd_log (JOBD_LOG_INFO, LOG, "jobd %s running: store %s, %zu plugin%s", JOBD_VERSION,
              store_path, running, running == 1 ? "" : "s");
    exit_code = s_wait (signal_fd, broker);

out:
    //  Plugins first, so that what they sent last reaches the broker; then the broker, which
    //  commits and publishes everything it received before it stops.
    jobd_plugin_loader_destroy (&loader);
    jobd_broker_destroy (&broker);
    jobd_store_destroy (&store);
    jobd_run_dir_close (&run);
    jobd_config_destroy (&config);
    close (signal_fd);
    if (exit_code == EXIT_OK)
        jobd_log (JOBD_LOG_INFO, LOG, "stopped cleanly");
    return exit_code;
}
