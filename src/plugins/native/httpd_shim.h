/*
 * Between the helper (wsgate_native.c) and the httpd shim (build/libwsgate_httpd.so, built only
 * where Apache's httpd.h is installed). The helper dlopens the shim with RTLD_GLOBAL before any
 * plugin, so plugins' ap_* references resolve to it, and reaches these functions by dlsym: the
 * helper itself never needs httpd.h.
 */
#ifndef WSGATE_HTTPD_SHIM_H
#define WSGATE_HTTPD_SHIM_H

#include <stddef.h>
#include <stdint.h>

/* The request as the gateway received it: WSG_FACT_COUNT strings, NUL-separated, in this order. */
enum wsg_fact {
  WSG_FACT_METHOD,       /* "GET" */
  WSG_FACT_URL,          /* the request target as sent: "/echo?token=1" */
  WSG_FACT_HTTP_VERSION, /* "1.1" */
  WSG_FACT_HOST,         /* Host the client asked for (X-Forwarded-Host from a trusted proxy), may be "" */
  WSG_FACT_USERAGENT_IP, /* the client: the TCP peer, or X-Forwarded-For from a trusted proxy */
  WSG_FACT_PEER_IP,      /* the TCP peer */
  WSG_FACT_PEER_PORT,
  WSG_FACT_LOCAL_IP,
  WSG_FACT_LOCAL_PORT,
  WSG_FACT_SERVER_NAME,  /* the virtual host's ServerName ("host[:port]"), may be "" */
  WSG_FACT_HTTPS,        /* "on" or "" */
  WSG_FACT_REQUEST_TIME, /* microseconds since the epoch */
  WSG_FACT_LOG_LEVEL,    /* Apache level (APLOG_*) the connection's logger lets through */
  WSG_FACT_COUNT
};

/* Receives one log line of a plugin: token 0 when no connection is known. */
typedef void (*wsg_log_sink)(uint32_t token, int level, const char *source, const char *text);
/* Receives one response header the plugin put in headers_out / err_headers_out. */
typedef void (*wsg_header_sink)(void *ctx, const char *key, const char *value);

typedef struct wsg_request_input {
  const char *const *facts;    /* WSG_FACT_COUNT strings */
  const char *const *headers;  /* name, value, name, value ... as sent */
  size_t header_count;         /* number of strings (twice the number of header lines) */
  uint32_t token;              /* the connection, for log lines */
} wsg_request_input;

typedef void (*wsg_httpd_bind_fn)(wsg_log_sink sink);
/* A request_rec (and its conn_rec and server_rec) allocated from a subpool of `pool`. */
typedef struct request_rec *(*wsg_httpd_request_fn)(void *pool, const wsg_request_input *in);
/* Calls `sink` for every entry of r->headers_out, then r->err_headers_out. */
typedef void (*wsg_httpd_response_fn)(const struct request_rec *r, wsg_header_sink sink, void *ctx);

#endif
