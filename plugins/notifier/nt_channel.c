//  notifier: the channel types this build has. Each type lives in its own file; the build
//  defines NT_HAVE_<TYPE> for each file present (CMakeLists.txt), so that a type whose file is
//  absent is unknown rather than a link error.
#include "nt_channel.h"
#include <string.h>

static const nt_channel_type_t *const s_types[] = {
#ifdef NT_HAVE_WEBHOOK
    &nt_webhook_type,
#endif
#ifdef NT_HAVE_SLACK
    &nt_slack_type,
#endif
#ifdef NT_HAVE_EMAIL
    &nt_email_type,
#endif
#ifdef NT_HAVE_ALERTMANAGER
    &nt_alertmanager_type,
#endif
#ifdef NT_HAVE_EXEC
    &nt_exec_type,
#endif
    NULL};

const nt_channel_type_t *
nt_channel_type (const char *type)
{
    for (size_t index = 0; type && s_types[index]; index++)
        if (strcmp (s_types[index]->type, type) == 0)
            return s_types[index];
    return NULL;
}
