//  The OpenAPI 3 document of the http plugin's API (API.md), served at /api/v1/openapi.json.
#ifndef HT_OPENAPI_H_INCLUDED
#define HT_OPENAPI_H_INCLUDED

//  The document, JSON text, static.
extern const char ht_openapi_json[];

#endif
