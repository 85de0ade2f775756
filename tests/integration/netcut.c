//  netcut.so: cuts the process it is preloaded into from some loopback TCP ports while a file
//  exists, so that a test can cut one jobd from Kafka and leave its other connections alone
//  (docs/cluster.md §13 step 4). Built for the tests only, never installed.
//
//  JOBD_TEST_NETCUT=FILE:PORT[,PORT...] (at most 64 ports). While FILE exists:
//  - connect () to 127.0.0.0/8 or ::1 (or ::ffff:127.x) on one of the ports fails at once with
//    ECONNREFUSED;
//  - a watcher thread shutdown ()s, every 50 ms, each socket this process connected to them.
//  Once two ticks of the watcher have shut them down, FILE.on exists (a test waits for it: the cut
//  is in force); it goes when FILE does. When FILE is gone, connects go through again. Everything
//  else is passed on untouched (the next connect and close in the link order, dlsym RTLD_NEXT).
//  librdkafka 2.0.2 reaches its brokers only through libc's connect () (a non-blocking one:
//  EINPROGRESS), measured in docs/cluster.md §16.
//
//  Without JOBD_TEST_NETCUT the library does nothing; a malformed value is reported on stderr
//  ("netcut: ...") and the library stays transparent.
//
//  Under AddressSanitizer the runtime must come first: LD_PRELOAD="/path/libasan.so.N
//  /path/netcut.so" (the test finds libasan's path in its own /proc/self/maps).
//
//  The connect path takes a mutex and allocates nothing; the table of watched sockets is a fixed
//  array. A child made by fork () starts with an empty table and no watcher: its connects are
//  still refused during a cut, its sockets are not shut down (jobd's children exec at once).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NETCUT_PORTS_MAX 64
#define NETCUT_FDS_MAX   1024
#define NETCUT_TICK_MS   50

typedef int (*s_connect_fn) (int, const struct sockaddr *, socklen_t);
typedef int (*s_close_fn) (int);

static s_connect_fn s_real_connect;
static s_close_fn s_real_close;
static bool s_active; //  a valid JOBD_TEST_NETCUT was read
static char s_file[4096];
static char s_marker[4100]; //  FILE.on: the cut is in force
static bool s_marked;       //  the watcher's: s_marker exists
static uint16_t s_ports[NETCUT_PORTS_MAX];
static size_t s_port_count;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_fds[NETCUT_FDS_MAX]; //  sockets connected to a cut port, -1 for a free slot
static atomic_int s_tracked;      //  used slots: close () skips the lock while it is 0
static atomic_bool s_full_said;

//  Writes a message to stderr without stdio (safe in any thread, allocates nothing).
static void
s_say (const char *what, const char *detail)
{
    const char *parts[] = {"netcut: ", what, detail ? detail : "", "\n"};
    for (size_t i = 0; i < 4; i++)
        if (write (2, parts[i], strlen (parts[i])) < 0)
            return;
}

static void
s_resolve (void)
{
    if (!s_real_connect)
        s_real_connect = (s_connect_fn)dlsym (RTLD_NEXT, "connect");
    if (!s_real_close)
        s_real_close = (s_close_fn)dlsym (RTLD_NEXT, "close");
}

//  Reads FILE:PORT,PORT... into s_file and s_ports. Returns false on a malformed value.
static bool
s_parse (const char *value)
{
    const char *colon = strrchr (value, ':');
    if (!colon || colon == value || (size_t)(colon - value) >= sizeof s_file)
        return false;
    memcpy (s_file, value, colon - value);
    s_file[colon - value] = '\0';
    snprintf (s_marker, sizeof s_marker, "%s.on", s_file);
    const char *p = colon + 1;
    while (*p) {
        char *end;
        errno = 0;
        long port = strtol (p, &end, 10);
        if (end == p || errno || port < 1 || port > 65535 || (*end && *end != ',') ||
            s_port_count == NETCUT_PORTS_MAX)
            return false;
        s_ports[s_port_count++] = (uint16_t)port;
        p = *end ? end + 1 : end;
    }
    return s_port_count > 0;
}

//  True when addr is a loopback address on one of the cut ports.
static bool
s_is_cut (const struct sockaddr *addr, socklen_t length)
{
    uint16_t port;
    if (addr->sa_family == AF_INET && length >= sizeof (struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        if ((ntohl (in->sin_addr.s_addr) >> 24) != 127)
            return false;
        port = ntohs (in->sin_port);
    } else if (addr->sa_family == AF_INET6 && length >= sizeof (struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        bool v4_loopback =
            IN6_IS_ADDR_V4MAPPED (&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
        if (!IN6_IS_ADDR_LOOPBACK (&in6->sin6_addr) && !v4_loopback)
            return false;
        port = ntohs (in6->sin6_port);
    } else
        return false;
    for (size_t i = 0; i < s_port_count; i++)
        if (s_ports[i] == port)
            return true;
    return false;
}

static bool
s_cut_now (void)
{
    return access (s_file, F_OK) == 0;
}

static void
s_track (int fd)
{
    int free_slot = -1;
    pthread_mutex_lock (&s_lock);
    for (int i = 0; i < NETCUT_FDS_MAX; i++) {
        if (s_fds[i] == fd) { //  already watched (a reconnect on the same fd)
            free_slot = -2;
            break;
        }
        if (s_fds[i] < 0 && free_slot == -1)
            free_slot = i;
    }
    if (free_slot >= 0) {
        s_fds[free_slot] = fd;
        atomic_fetch_add (&s_tracked, 1);
    }
    pthread_mutex_unlock (&s_lock);
    if (free_slot == -1 && !atomic_exchange (&s_full_said, true))
        s_say ("more than 1024 sockets to watch: the newest are not shut down in a cut", NULL);
}

//  Frees slot i; the caller holds the lock.
static void
s_drop (int i)
{
    s_fds[i] = -1;
    atomic_fetch_sub (&s_tracked, 1);
}

//  One tick of the watcher: in a cut, shuts down every watched socket; in any case forgets the
//  slots whose fd is no longer a socket to a cut port (closed behind our back, reused). Returns
//  whether it was a cut.
static bool
s_watch_once (void)
{
    bool cut = s_cut_now ();
    pthread_mutex_lock (&s_lock);
    for (int i = 0; i < NETCUT_FDS_MAX; i++) {
        int fd = s_fds[i];
        if (fd < 0)
            continue;
        int listening = 0;
        socklen_t size = sizeof listening;
        if (getsockopt (fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || listening) {
            s_drop (i);
            continue;
        }
        struct sockaddr_storage peer;
        socklen_t peer_size = sizeof peer;
        if (getpeername (fd, (struct sockaddr *)&peer, &peer_size) == 0) {
            if (!s_is_cut ((struct sockaddr *)&peer, peer_size)) {
                s_drop (i);
                continue;
            }
        } else if (errno != ENOTCONN) { //  ENOTCONN: still connecting, or refused and not closed
            s_drop (i);
            continue;
        }
        if (cut) {
            shutdown (fd, SHUT_RDWR);
            s_drop (i);
        }
    }
    pthread_mutex_unlock (&s_lock);
    return cut;
}

static void *
s_watcher (void *unused)
{
    struct timespec tick = {0, NETCUT_TICK_MS * 1000000L};
    int cut_ticks = 0;
    for (;;) {
        nanosleep (&tick, NULL);
        //  Says the cut is in force once two ticks in a row shut the sockets down (a connect that
        //  passed its check just before FILE came may be tracked after the first), and goes
        //  with it.
        bool cut = s_watch_once ();
        cut_ticks = cut ? cut_ticks + 1 : 0;
        if (cut_ticks >= 2 && !s_marked) {
            int fd = open (s_marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            s_marked = fd >= 0;
            if (fd >= 0)
                s_real_close (fd);
        } else if (!cut && s_marked) {
            unlink (s_marker);
            s_marked = false;
        }
    }
    return NULL;
}

//  In a fork's child: the lock may have been held by the watcher, which does not exist there.
static void
s_after_fork_child (void)
{
    pthread_mutex_init (&s_lock, NULL);
    for (int i = 0; i < NETCUT_FDS_MAX; i++)
        s_fds[i] = -1;
    atomic_store (&s_tracked, 0);
}

__attribute__ ((constructor)) static void
s_init (void)
{
    s_resolve ();
    for (int i = 0; i < NETCUT_FDS_MAX; i++)
        s_fds[i] = -1;
    const char *value = getenv ("JOBD_TEST_NETCUT");
    if (!value || !*value)
        return;
    if (!s_parse (value)) {
        s_say ("JOBD_TEST_NETCUT: expected FILE:PORT[,PORT...] (ports 1-65535, at most 64), got ",
               value);
        return;
    }
    pthread_t thread;
    if (pthread_create (&thread, NULL, s_watcher, NULL) != 0) {
        s_say ("cannot start the watcher thread: connects are refused in a cut, sockets are not "
               "shut down",
               NULL);
    } else
        pthread_detach (thread);
    pthread_atfork (NULL, NULL, s_after_fork_child);
    s_active = true;
}

__attribute__ ((visibility ("default"))) int
connect (int fd, const struct sockaddr *addr, socklen_t length)
{
    if (!s_real_connect)
        s_resolve (); //  called before our constructor ran (another library's constructor)
    if (!s_active || !addr || !s_is_cut (addr, length))
        return s_real_connect (fd, addr, length);
    if (s_cut_now ()) {
        errno = ECONNREFUSED;
        return -1;
    }
    int rc = s_real_connect (fd, addr, length);
    int saved = errno;
    if (rc == 0 || saved == EINPROGRESS)
        s_track (fd);
    errno = saved;
    return rc;
}

__attribute__ ((visibility ("default"))) int
close (int fd)
{
    if (!s_real_close)
        s_resolve ();
    if (atomic_load (&s_tracked) > 0) {
        pthread_mutex_lock (&s_lock);
        for (int i = 0; i < NETCUT_FDS_MAX; i++)
            if (s_fds[i] == fd)
                s_drop (i);
        pthread_mutex_unlock (&s_lock);
    }
    return s_real_close (fd);
}
