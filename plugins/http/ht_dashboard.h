//  The dashboard's files (dashboard/, embedded at build time by dashboard/embed.cmake) and the
//  responses that serve them: GET / and /dashboard/NAME, with their Content-Type, an ETag (304 on
//  If-None-Match), Cache-Control: no-cache and a strict Content-Security-Policy.
#ifndef HT_DASHBOARD_H_INCLUDED
#define HT_DASHBOARD_H_INCLUDED

#include <stddef.h>

struct MHD_Response;

//  One embedded file.
typedef struct {
    const char *name; //  "index.html", "app.js", ...
    const char *type; //  its Content-Type
    const unsigned char *data;
    size_t size;
    const char *etag; //  quoted: "\"0123456789abcdef\""
} ht_dashboard_asset_t;

//  The embedded files, ended by one with a NULL name (generated: ht_dashboard_files.c).
extern const ht_dashboard_asset_t ht_dashboard_assets[];

//  The file called name, or NULL.
const ht_dashboard_asset_t *ht_dashboard_find (const char *name);

//  A response (fresh: the caller queues and destroys it) for the file called name, and its
//  status in *status: 200 with the file, or 304 without a body when if_none_match (the header,
//  or NULL) names its ETag. NULL when there is no such file (or no memory): a 404 to the caller.
struct MHD_Response *ht_dashboard_response (const char *name, const char *if_none_match,
                                            unsigned *status);

#endif
