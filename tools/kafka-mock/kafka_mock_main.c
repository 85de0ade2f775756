//  kafka-mock: runs librdkafka's mock Kafka cluster on loopback for jobd's tests, demo and benches.
#include "kafka_mock.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#ifndef JOBD_VERSION
#define JOBD_VERSION "unknown"
#endif

//  Exit codes, as --help says.
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

//  The longest command line; longer ones are refused whole.
#define S_LINE_MAX 4096

typedef struct {
    int brokers;
    const char **topics; //  NAME[:PARTITIONS], borrowed from argv
    int topic_cnt;
    const char *bootstrap_file;
    bool commands;
} s_options_t;

static void
s_help (FILE *out)
{
    fprintf (
        out,
        "Usage: kafka-mock [OPTION]...\n"
        "Runs librdkafka's mock Kafka cluster on 127.0.0.1 until SIGTERM or SIGINT (or, with\n"
        "--commands, until 'quit' or the end of stdin). Prints the bootstrap servers as the\n"
        "first line on stdout.\n"
        "\n"
        "  -b, --brokers N            brokers in the cluster, ids 1..N (default 1, at most %d)\n"
        "  -t, --topic NAME[:PARTS]   create a topic, PARTS partitions (default 1), replicated\n"
        "                             on every broker; repeatable\n"
        "  -f, --bootstrap-file F     also write the bootstrap servers to F, atomically and\n"
        "                             before the stdout line; removed on a clean exit\n"
        "  -c, --commands             read commands from stdin, one a line, and answer each\n"
        "                             with one line on stdout, 'ok ...' or 'error <reason>':\n"
        "                               down <broker|all>, up <broker|all>,\n"
        "                               rtt <broker|all> <ms>, topic <name> <partitions>,\n"
        "                               leader <topic> <partition> <broker|none>,\n"
        "                               coordinator group|transaction <id> <broker>,\n"
        "                               error <api key> <error code> <count>, quit\n"
        "  -h, --help                 show this help and exit\n"
        "  -V, --version              show the version and exit\n"
        "\n"
        "librdkafka's logs go to stderr. Exit status: 0 on a clean stop, 1 when the cluster\n"
        "could not start, 2 for a usage error.\n",
        KAFKA_MOCK_BROKERS_MAX);
}

static int
s_usage_error (const char *message, const char *arg)
{
    fprintf (stderr, "kafka-mock: %s%s%s\nTry 'kafka-mock --help'.\n", message, arg ? ": " : "",
             arg ? arg : "");
    return EXIT_USAGE;
}

//  Splits "NAME[:PARTITIONS]" into name and partition count. Returns true when both are valid.
static bool
s_topic_parse (const char *spec, char *name, size_t name_size, int *partitions_p)
{
    const char *colon = strchr (spec, ':');
    size_t length = colon ? (size_t)(colon - spec) : strlen (spec);
    if (length >= name_size)
        return false;
    memcpy (name, spec, length);
    name[length] = '\0';
    *partitions_p = 1;
    if (colon) {
        char *end;
        errno = 0;
        long partitions = strtol (colon + 1, &end, 10);
        if (errno || end == colon + 1 || *end || partitions < 1 ||
            partitions > KAFKA_MOCK_PARTITIONS_MAX)
            return false;
        *partitions_p = (int)partitions;
    }
    return kafka_mock_topic_name_valid (name);
}

//  Parses argv. Returns -1 to go on, or the exit code for --help, --version and usage errors.
static int
s_options_parse (s_options_t *options, int argc, char *argv[])
{
    static const struct option long_options[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"bootstrap-file", required_argument, NULL, 'f'},
        {"commands", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    //  Quiet getopt: its own messages do not say where to look for help.
    opterr = 0;
    int option;
    while ((option = getopt_long (argc, argv, ":b:t:f:chV", long_options, NULL)) != -1) {
        switch (option) {
            case 'b': {
                char *end;
                errno = 0;
                long brokers = strtol (optarg, &end, 10);
                if (errno || end == optarg || *end || brokers < 1 ||
                    brokers > KAFKA_MOCK_BROKERS_MAX)
                    return s_usage_error ("--brokers wants a number from 1 to 64", optarg);
                options->brokers = (int)brokers;
                break;
            }
            case 't': {
                char name[KAFKA_MOCK_TOPIC_MAX + 1];
                int partitions;
                if (!s_topic_parse (optarg, name, sizeof name, &partitions))
                    return s_usage_error ("--topic wants NAME[:PARTITIONS], NAME in "
                                          "[A-Za-z0-9._-], PARTITIONS in 1..10000",
                                          optarg);
                options->topics[options->topic_cnt++] = optarg;
                break;
            }
            case 'f':
                if (!*optarg)
                    return s_usage_error ("--bootstrap-file wants a path", NULL);
                options->bootstrap_file = optarg;
                break;
            case 'c':
                options->commands = true;
                break;
            case 'h':
                s_help (stdout);
                return EXIT_OK;
            case 'V':
                printf ("kafka-mock %s (librdkafka %s)\n", JOBD_VERSION, rd_kafka_version_str ());
                return EXIT_OK;
            case ':':
                return s_usage_error ("option needs a value", argv[optind - 1]);
            default:
                return s_usage_error ("unknown option", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return s_usage_error ("unexpected argument", argv[optind]);
    return -1;
}

//  Writes the bootstrap servers to path through a temporary file and a rename, so that a reader
//  never sees half a line. Returns 0 or -errno.
static int
s_bootstrap_file_write (const char *path, const char *bootstraps)
{
    char tmp_path[4200];
    if (snprintf (tmp_path, sizeof tmp_path, "%s.tmp.%ld", path, (long)getpid ()) >=
        (int)sizeof tmp_path)
        return -ENAMETOOLONG;
    int fd = open (tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = 0;
    if (dprintf (fd, "%s\n", bootstraps) < 0)
        rc = -errno;
    if (close (fd) && !rc)
        rc = -errno;
    if (!rc && rename (tmp_path, path))
        rc = -errno;
    if (rc)
        unlink (tmp_path);
    return rc;
}

static void
s_reply (const char *reply)
{
    //  A reader that went away must not kill us (SIGPIPE is ignored); it just gets no answer.
    fprintf (stdout, "%s\n", reply);
    fflush (stdout);
}

//  Runs the complete lines in buffer and keeps the unfinished tail. Returns true after "quit".
static bool
s_lines_run (kafka_mock_t *mock, char *buffer, size_t *used_p, bool *skipping_p)
{
    char reply[600];
    size_t start = 0;
    while (start < *used_p) {
        char *newline = memchr (buffer + start, '\n', *used_p - start);
        if (!newline)
            break;
        *newline = '\0';
        char *line = buffer + start;
        start = (size_t)(newline - buffer) + 1;
        if (*skipping_p) {
            //  The tail of a line already refused as too long.
            *skipping_p = false;
            continue;
        }
        bool quit = kafka_mock_execute (mock, line, reply, sizeof reply) == 1;
        s_reply (reply);
        if (quit)
            return true;
    }
    memmove (buffer, buffer + start, *used_p - start);
    *used_p -= start;
    if (*used_p == S_LINE_MAX) {
        s_reply ("error line too long");
        *used_p = 0;
        *skipping_p = true;
    }
    return false;
}

//  Serves until a signal, "quit" or (with commands) the end of stdin. Returns the exit code.
static int
s_serve (kafka_mock_t *mock, int signal_fd, bool commands)
{
    static char buffer[S_LINE_MAX + 1];
    size_t used = 0;
    bool skipping = false;
    struct pollfd items[2] = {
        {.fd = signal_fd, .events = POLLIN},
        {.fd = STDIN_FILENO, .events = POLLIN},
    };
    while (true) {
        int rc = poll (items, commands ? 2 : 1, -1);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0) {
            fprintf (stderr, "kafka-mock: poll: %s\n", strerror (errno));
            return EXIT_FAILED;
        }
        if (items[0].revents) {
            struct signalfd_siginfo info;
            if (read (signal_fd, &info, sizeof info) == (ssize_t)sizeof info)
                fprintf (stderr, "kafka-mock: %s, stopping\n", strsignal ((int)info.ssi_signo));
            return EXIT_OK;
        }
        if (commands && items[1].revents) {
            ssize_t size = read (STDIN_FILENO, buffer + used, S_LINE_MAX - used);
            if (size < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (size <= 0) {
                //  The end of stdin: a last line without a newline still counts.
                if (used > 0 && !skipping) {
                    buffer[used++] = '\n';
                    s_lines_run (mock, buffer, &used, &skipping);
                }
                return EXIT_OK;
            }
            used += (size_t)size;
            if (s_lines_run (mock, buffer, &used, &skipping))
                return EXIT_OK;
        }
    }
}

int
main (int argc, char *argv[])
{
    s_options_t options = {.brokers = 1};
    options.topics = calloc ((size_t)argc, sizeof *options.topics);
    if (!options.topics) {
        fprintf (stderr, "kafka-mock: out of memory\n");
        return EXIT_FAILED;
    }
    int exit_code = s_options_parse (&options, argc, argv);
    if (exit_code >= 0) {
        free (options.topics);
        return exit_code;
    }

    //  Block the stop signals before librdkafka starts its threads, so that they inherit the
    //  mask and the signals reach only our signalfd.
    sigset_t stop_signals;
    sigemptyset (&stop_signals);
    sigaddset (&stop_signals, SIGTERM);
    sigaddset (&stop_signals, SIGINT);
    sigaddset (&stop_signals, SIGHUP);
    signal (SIGPIPE, SIG_IGN);
    int signal_fd = -1;
    if (pthread_sigmask (SIG_BLOCK, &stop_signals, NULL) ||
        (signal_fd = signalfd (-1, &stop_signals, SFD_CLOEXEC)) < 0) {
        fprintf (stderr, "kafka-mock: cannot set up signal handling: %s\n", strerror (errno));
        free (options.topics);
        return EXIT_FAILED;
    }

    char reason[600];
    kafka_mock_t *mock = kafka_mock_new (options.brokers, reason, sizeof reason);
    if (!mock) {
        fprintf (stderr, "kafka-mock: %s\n", reason);
        exit_code = EXIT_FAILED;
        goto done;
    }
    for (int index = 0; index < options.topic_cnt; index++) {
        char name[KAFKA_MOCK_TOPIC_MAX + 1];
        int partitions;
        //  Already checked by s_options_parse.
        s_topic_parse (options.topics[index], name, sizeof name, &partitions);
        if (kafka_mock_topic_create (mock, name, partitions, reason, sizeof reason)) {
            fprintf (stderr, "kafka-mock: %s\n", reason);
            exit_code = EXIT_FAILED;
            goto done;
        }
    }
    //  The file first, so that a reader of the stdout line can count on the file too.
    const char *bootstraps = kafka_mock_bootstraps (mock);
    bool file_written = false;
    if (options.bootstrap_file) {
        int rc = s_bootstrap_file_write (options.bootstrap_file, bootstraps);
        if (rc) {
            fprintf (stderr, "kafka-mock: cannot write the bootstrap file %s: %s\n",
                     options.bootstrap_file, strerror (-rc));
            exit_code = EXIT_FAILED;
            goto done;
        }
        file_written = true;
    }
    printf ("%s\n", bootstraps);
    fflush (stdout);
    exit_code = s_serve (mock, signal_fd, options.commands);
    if (file_written)
        unlink (options.bootstrap_file);

done:
    kafka_mock_destroy (&mock);
    close (signal_fd);
    free (options.topics);
    return exit_code;
}
