//  The dashboard's responses: the embedded files with the headers that keep a browser from
//  running anything else in the page (API.md, "GET /: the dashboard").
#include "ht_dashboard.h"
#include <microhttpd.h>
#include <stdbool.h>
#include <string.h>

//  Only the page's own files run or style it; it talks to this server alone and is never framed.
//  No inline script or style is allowed, and none is needed: the page sets styles through the
//  DOM (element.style, which CSP allows) and loads app.js and app.css from here.
#define S_CSP                                                                                      \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "                 \
    "frame-ancestors 'none'"

const ht_dashboard_asset_t *
ht_dashboard_find (const char *name)
{
    for (const ht_dashboard_asset_t *asset = ht_dashboard_assets; asset->name; asset++)
        if (strcmp (asset->name, name) == 0)
            return asset;
    return NULL;
}

//  True when an If-None-Match header names etag: a list of quoted tags, maybe weak (W/), or *.
static bool
s_etag_matches (const char *header, const char *etag)
{
    if (!header)
        return false;
    size_t len = strlen (etag);
    for (const char *at = header; *at;) {
        at += strspn (at, " \t,");
        if (strncmp (at, "W/", 2) == 0)
            at += 2;
        if (*at == '*' || (strncmp (at, etag, len) == 0 && strchr (" \t,", at[len])))
            return true;
        at += strcspn (at, ",");
    }
    return false;
}

struct MHD_Response *
ht_dashboard_response (const char *name, const char *if_none_match, unsigned *status)
{
    const ht_dashboard_asset_t *asset = ht_dashboard_find (name);
    if (!asset)
        return NULL;
    bool same = s_etag_matches (if_none_match, asset->etag);
    struct MHD_Response *response = MHD_create_response_from_buffer (
        same ? 0 : asset->size, same ? (void *)"" : (void *)asset->data, MHD_RESPMEM_PERSISTENT);
    if (!response)
        return NULL;
    MHD_add_response_header (response, "Content-Type", asset->type);
    MHD_add_response_header (response, "ETag", asset->etag);
    //  no-cache: the browser may keep it but asks each time (a 304 is cheap), so a new jobd's
    //  page is never stale.
    MHD_add_response_header (response, "Cache-Control", "no-cache");
    MHD_add_response_header (response, "Content-Security-Policy", S_CSP);
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header (response, "Referrer-Policy", "no-referrer");
    MHD_add_response_header (response, "X-Frame-Options", "DENY");
    *status = same ? 304 : 200;
    return response;
}
