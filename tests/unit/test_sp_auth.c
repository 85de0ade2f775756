//  spark-poller's authentication: the config it reads (auth kinds, inline or file secrets), the
//  secret files it refuses (mode, type, content), and what each kind adds to a request.
#include "sp_auth.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_dir[64];
static const char *const *s_config; //  key, value, key, value, ..., NULL

static const char *
s_config_str (const jobd_host_t *host, const char *key)
{
    for (size_t index = 0; s_config && s_config[index]; index += 2)
        if (strcmp (s_config[index], key) == 0)
            return s_config[index + 1];
    return NULL;
}

static int
s_load (const char *const *config, sp_auth_t *auth, char *reason, size_t size)
{
    jobd_host_t host = {.config_str = s_config_str};
    s_config = config;
    reason[0] = 0;
    return sp_auth_load (auth, &host, "rm", reason, size);
}

static const char *
s_file (const char *name, const char *text, mode_t mode)
{
    static char path[128];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
    assert_int_equal (chmod (path, mode), 0);
    return path;
}

static void
test_secret_files_are_mode_checked (void **state)
{
    char secret[SP_AUTH_SECRET_MAX], reason[512];
    assert_int_equal (sp_auth_read_secret (s_file ("ok", "tok-1 \n", 0600), secret, sizeof secret,
                                           reason, sizeof reason),
                      0);
    assert_string_equal (secret, "tok-1");
    assert_int_equal (sp_auth_read_secret (s_file ("group", "tok-2\nrest", 0640), secret,
                                           sizeof secret, reason, sizeof reason),
                      0);
    assert_string_equal (secret, "tok-2");
    struct {
        const char *name, *text;
        mode_t mode;
        const char *why;
    } refused[] = {
        {"world", "tok\n", 0644, "is readable or writable by others (mode 0644): chmod 600 it"},
        {"gw", "tok\n", 0620, "is writable by others (mode 0620)"},
        {"empty", "\n", 0600, "the first line is empty"},
    };
    for (size_t index = 0; index < sizeof refused / sizeof refused[0]; index++) {
        const char *path = s_file (refused[index].name, refused[index].text, refused[index].mode);
        assert_int_equal (sp_auth_read_secret (path, secret, sizeof secret, reason, sizeof reason),
                          JOBD_ECONFIG);
        if (!strstr (reason, refused[index].why) || !strstr (reason, path))
            fail_msg ("%s: %s", refused[index].name, reason);
        assert_null (strstr (reason, "tok"));
    }
    char link_path[128];
    snprintf (link_path, sizeof link_path, "%s/link", s_dir);
    assert_int_equal (symlink (s_file ("target", "tok\n", 0600), link_path), 0);
    assert_int_equal (sp_auth_read_secret (link_path, secret, sizeof secret, reason, sizeof reason),
                      JOBD_ECONFIG);
    assert_int_equal (sp_auth_read_secret (s_dir, secret, sizeof secret, reason, sizeof reason),
                      JOBD_ECONFIG);
    assert_non_null (strstr (reason, "not a regular file"));
    assert_int_equal (
        sp_auth_read_secret ("/nonexistent/x", secret, sizeof secret, reason, sizeof reason),
        JOBD_ECONFIG);
    assert_non_null (strstr (reason, "No such file"));
}

static void
test_config_picks_the_kind (void **state)
{
    sp_auth_t auth;
    char reason[512];
    const char *none[] = {NULL};
    assert_int_equal (s_load (none, &auth, reason, sizeof reason), 0);
    assert_int_equal (auth.kind, SP_AUTH_NONE);
    const char *user[] = {"backend/rm/user", "alice", NULL};
    assert_int_equal (s_load (user, &auth, reason, sizeof reason), 0);
    assert_int_equal (auth.kind, SP_AUTH_SIMPLE);
    const char *basic[] = {"backend/rm/user", "alice", "backend/rm/password", "pw", NULL};
    assert_int_equal (s_load (basic, &auth, reason, sizeof reason), 0);
    assert_int_equal (auth.kind, SP_AUTH_BASIC);
    assert_string_equal (auth.secret, "pw");
    const char *token_file = s_file ("token", "dt-1\n", 0600);
    const char *delegation[] = {"backend/rm/auth",
                                "delegation",
                                "backend/rm/token_file",
                                token_file,
                                "backend/rm/password",
                                "pw",
                                NULL};
    assert_int_equal (s_load (delegation, &auth, reason, sizeof reason), 0);
    assert_int_equal (auth.kind, SP_AUTH_DELEGATION);
    assert_string_equal (auth.secret, "dt-1");
    const char *kerberos[] = {"backend/rm/auth", "kerberos", NULL};
    assert_int_equal (s_load (kerberos, &auth, reason, sizeof reason), 0);
    assert_int_equal (auth.kind, SP_AUTH_KERBEROS);

    //  Refusals name the backend and the key, never the secret.
    struct {
        const char *const *config;
        const char *why;
    } refused[] = {
        {(const char *[]){"backend/rm/auth", "ntlm", NULL}, "auth 'ntlm' is not auto"},
        {(const char *[]){"backend/rm/auth", "simple", NULL}, "auth simple needs user"},
        {(const char *[]){"backend/rm/auth", "delegation", "backend/rm/password", "pw", NULL},
         "auth delegation needs token"},
        {(const char *[]){"backend/rm/token", "sekrit", "backend/rm/token_file", token_file, NULL},
         "give token or token_file, not both"},
        {(const char *[]){"backend/rm/password_file", s_file ("open", "sekrit\n", 0604), NULL},
         "password_file:"},
    };
    for (size_t index = 0; index < sizeof refused / sizeof refused[0]; index++) {
        assert_int_equal (s_load (refused[index].config, &auth, reason, sizeof reason),
                          JOBD_ECONFIG);
        if (!strstr (reason, refused[index].why) || !strstr (reason, "backend 'rm'"))
            fail_msg ("%s", reason);
        assert_null (strstr (reason, "sekrit"));
    }
}

static void
test_each_kind_shapes_the_request (void **state)
{
    CURL *easy = curl_easy_init ();
    sp_auth_t auth = {.kind = SP_AUTH_SIMPLE, .user = "al ice"};
    char url[512];
    struct curl_slist *headers = NULL;
    assert_int_equal (sp_auth_apply (&auth, easy, "http://rm/ws/v1/cluster/apps/x/state", url,
                                     sizeof url, &headers),
                      0);
    assert_string_equal (url, "http://rm/ws/v1/cluster/apps/x/state?user.name=al%20ice");
    auth = (sp_auth_t){.kind = SP_AUTH_DELEGATION, .secret = "a+b/c="};
    assert_int_equal (
        sp_auth_apply (&auth, easy, "http://rm/apps?tags=x", url, sizeof url, &headers), 0);
    assert_string_equal (url, "http://rm/apps?tags=x&delegation=a%2Bb%2Fc%3D");
    assert_null (headers);
    auth = (sp_auth_t){.kind = SP_AUTH_BEARER, .secret = "t0k"};
    assert_int_equal (sp_auth_apply (&auth, easy, "http://m/v1", url, sizeof url, &headers), 0);
    assert_string_equal (url, "http://m/v1");
    assert_non_null (headers);
    assert_string_equal (headers->data, "Authorization: Bearer t0k");
    curl_slist_free_all (headers);
    //  Too long for the caller's buffer: refused, never cut.
    auth = (sp_auth_t){.kind = SP_AUTH_SIMPLE, .user = "alice"};
    headers = NULL;
    assert_int_equal (sp_auth_apply (&auth, easy, "http://a-long-host/v1", url, 8, &headers),
                      -ENAMETOOLONG);
    auth.kind = SP_AUTH_NONE;
    assert_int_equal (sp_auth_apply (&auth, easy, "http://a-long-host/v1", url, 8, &headers),
                      -ENAMETOOLONG);
    curl_easy_cleanup (easy);
}

static int
s_setup (void **state)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/jobd-sp-auth-XXXXXX");
    assert_non_null (mkdtemp (s_dir));
    return 0;
}

static int
s_teardown (void **state)
{
    char command[128];
    snprintf (command, sizeof command, "rm -rf '%s'", s_dir);
    return system (command) == 0 ? 0 : -1;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_secret_files_are_mode_checked),
        cmocka_unit_test (test_config_picks_the_kind),
        cmocka_unit_test (test_each_kind_shapes_the_request),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
