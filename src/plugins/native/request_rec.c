/*
 * Builds the request_rec a plugin's request() returns, as Apache 2.4 fills it by the time
 * mod_websocket's handler runs for a Location with `SetHandler websocket-handler`: request line,
 * parsed URI, headers_in, the client as mod_remoteip sees it, the vhost's server_rec. What wsgate
 * has no equivalent for (per-directory and module config, filters, the scoreboard) stays zero;
 * handlers/c/README.md lists each field.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apr_lib.h"
#include "apr_network_io.h"
#include "apr_pools.h"
#include "apr_strings.h"
#include "apr_tables.h"
#include "httpd.h"
#include "http_core.h"
#include "http_log.h"
#include "request_rec.h"

#define WSG_SHIM_API __attribute__((visibility("default")))

static const char *const method_names[] = {
  "GET", "PUT", "POST", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "PROPFIND", "PROPPATCH", "MKCOL",
  "COPY", "MOVE", "LOCK", "UNLOCK", "VERSION-CONTROL", "CHECKOUT", "UNCHECKOUT", "CHECKIN", "UPDATE",
  "LABEL", "REPORT", "MKWORKSPACE", "MKACTIVITY", "BASELINE-CONTROL", "MERGE",
};

static int method_number(const char *method) {
  for (int i = 0; i < (int)(sizeof method_names / sizeof *method_names); i++)
    if (strcmp(method, method_names[i]) == 0) return i;
  return M_INVALID;
}

static int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  ch = (char)tolower((unsigned char)ch);
  return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* %XX decoding as ap_unescape_url does for r->uri (a bad escape is kept as written). */
static char *unescape(apr_pool_t *p, const char *s) {
  char *out = apr_palloc(p, strlen(s) + 1), *o = out;
  for (; *s; s++) {
    int hi, lo;
    if (*s == '%' && (hi = hex_value(s[1])) >= 0 && (lo = hex_value(s[2])) >= 0) {
      *o++ = (char)(hi * 16 + lo);
      s += 2;
    } else {
      *o++ = *s;
    }
  }
  *o = 0;
  return out;
}

/* Removes "." and ".." segments (ap_getparents): r->uri never climbs above "/". */
static void remove_dot_segments(char *path) {
  char *out = path;
  const char *in = path;
  while (*in) {
    if (in[0] == '/' && in[1] == '.' && (in[2] == '/' || in[2] == 0)) {
      in += 2;
      if (!*in) *out++ = '/';
      continue;
    }
    if (in[0] == '/' && in[1] == '.' && in[2] == '.' && (in[3] == '/' || in[3] == 0)) {
      in += 3;
      while (out > path && *--out != '/') {}
      if (!*in) *out++ = '/';
      continue;
    }
    do *out++ = *in++; while (*in && *in != '/');
  }
  *out = 0;
  if (path[0] == 0) strcpy(path, "/");
}

/* "host[:port]" or "[v6][:port]" → lower-cased host and the port text (NULL when absent). */
static void split_host(apr_pool_t *p, const char *value, char **host, char **port) {
  *host = NULL;
  *port = NULL;
  if (!value || !*value) return;
  const char *end = value + strlen(value), *colon = NULL;
  if (value[0] == '[') {
    const char *close = strchr(value, ']');
    if (close && close[1] == ':') colon = close + 1;
    end = close ? close + 1 : end;
  } else {
    colon = strrchr(value, ':');
    if (colon) end = colon;
  }
  if (colon && colon[1]) *port = apr_pstrdup(p, colon + 1);
  *host = apr_pstrmemdup(p, value, (apr_size_t)(end - value));
  for (char *c = *host; *c; c++) *c = (char)apr_tolower(*c);
}

static apr_sockaddr_t *sockaddr(apr_pool_t *p, const char *ip, const char *port) {
  apr_sockaddr_t *sa = NULL;
  if (!ip || !*ip) return NULL;
  if (apr_sockaddr_info_get(&sa, ip, APR_UNSPEC, (apr_port_t)atoi(port ? port : "0"), 0, p) != APR_SUCCESS) return NULL;
  return sa;
}

static char *machine_name(apr_pool_t *p) {
  char name[256];
  if (gethostname(name, sizeof name) != 0) return apr_pstrdup(p, "127.0.0.1");
  name[sizeof name - 1] = 0;
  return apr_pstrdup(p, name);
}

static void fill_server(server_rec *s, apr_pool_t *p, const char *const *f) {
  char *name, *port;
  split_host(p, f[WSG_FACT_SERVER_NAME], &name, &port);
  s->server_hostname = name ? name : machine_name(p);
  s->port = port ? (apr_port_t)atoi(port) : 0;
  s->server_scheme = NULL;
  s->server_admin = apr_pstrdup(p, "[no address given]"); /* Apache's default ServerAdmin */
  s->log.level = atoi(f[WSG_FACT_LOG_LEVEL]);
  s->log.module_levels = NULL;
  s->is_virtual = 0;
  s->timeout = apr_time_from_sec(60);
  s->keep_alive_timeout = apr_time_from_sec(5);
  s->limit_req_line = DEFAULT_LIMIT_REQUEST_LINE;
  s->limit_req_fieldsize = DEFAULT_LIMIT_REQUEST_FIELDSIZE;
  s->limit_req_fields = DEFAULT_LIMIT_REQUEST_FIELDS;
}

static void fill_connection(conn_rec *c, apr_pool_t *p, server_rec *s, const char *const *f, uint32_t token) {
  c->pool = p;
  c->base_server = s;
  c->client_ip = apr_pstrdup(p, f[WSG_FACT_PEER_IP]);
  c->client_addr = sockaddr(p, f[WSG_FACT_PEER_IP], f[WSG_FACT_PEER_PORT]);
  c->local_ip = apr_pstrdup(p, f[WSG_FACT_LOCAL_IP]);
  c->local_addr = sockaddr(p, f[WSG_FACT_LOCAL_IP], f[WSG_FACT_LOCAL_PORT]);
  c->id = (long)token;
  c->notes = apr_table_make(p, 4);
  c->keepalive = AP_CONN_CLOSE;
  c->log = NULL; /* the server's */
}

/* Splits the request target into r->unparsed_uri, parsed_uri, uri, args and path_info. */
static void fill_uri(request_rec *r, apr_pool_t *p, const char *url) {
  r->unparsed_uri = apr_pstrdup(p, url);
  const char *path = url;
  if (url[0] != '/') {
    /* absolute-form (a proxy may send it): the path starts after scheme://authority */
    const char *authority = strstr(url, "://");
    path = authority ? strchr(authority + 3, '/') : NULL;
    if (!path) path = "/";
  }
  const char *query = strchr(path, '?');
  char *raw_path = query ? apr_pstrmemdup(p, path, (apr_size_t)(query - path)) : apr_pstrdup(p, path);
  r->parsed_uri.path = raw_path;
  r->parsed_uri.query = query ? apr_pstrdup(p, query + 1) : NULL;
  r->parsed_uri.is_initialized = 1;
  r->args = r->parsed_uri.query;
  r->uri = unescape(p, raw_path);
  remove_dot_segments(r->uri);
  /* As Apache 2.4.71 sets it when nothing under DocumentRoot matches (measured with a handler on
   * <Location>): r->filename ends at the URI's first segment, path_info is the rest
   * ("/ws/sub/x" -> "/sub/x", "/ws" -> ""). wsgate has no DocumentRoot, so filename stays NULL. */
  const char *rest = strchr(r->uri + 1, '/');
  r->path_info = apr_pstrdup(p, r->uri[0] == '/' && rest ? rest : "");
}

static void fill_env(request_rec *r, const char *const *f, int https) {
  apr_table_t *e = r->subprocess_env;
  apr_table_setn(e, "REMOTE_ADDR", r->useragent_ip);
  apr_table_setn(e, "REMOTE_PORT", f[WSG_FACT_PEER_PORT][0] ? apr_pstrdup(r->pool, f[WSG_FACT_PEER_PORT]) : "0");
  apr_table_setn(e, "SERVER_NAME", ap_get_server_name(r));
  apr_table_setn(e, "SERVER_PORT", apr_itoa(r->pool, ap_get_server_port(r)));
  apr_table_setn(e, "SERVER_ADDR", r->connection->local_ip);
  apr_table_setn(e, "SERVER_PROTOCOL", r->protocol);
  apr_table_setn(e, "REQUEST_METHOD", r->method);
  apr_table_setn(e, "REQUEST_URI", r->unparsed_uri);
  apr_table_setn(e, "REQUEST_SCHEME", https ? "https" : "http");
  if (r->args) apr_table_setn(e, "QUERY_STRING", r->args);
  if (https) apr_table_setn(e, "HTTPS", "on");
}

WSG_SHIM_API struct request_rec *wsg_httpd_request(void *parent, const wsg_request_input *in) {
  apr_pool_t *cp = parent, *p = NULL;
  /* As in Apache, the request's pool is a subpool of the connection's; both die with the connection. */
  if (!cp || apr_pool_create(&p, cp) != APR_SUCCESS) return NULL;
  apr_pool_userdata_setn((void *)(uintptr_t)in->token, WSG_POOL_TOKEN_KEY, NULL, cp);
  const char *const *f = in->facts;
  wsg_request *w = apr_pcalloc(p, sizeof *w);
  w->magic = WSG_REQUEST_MAGIC;
  w->token = in->token;
  w->https = f[WSG_FACT_HTTPS][0] != 0;
  request_rec *r = &w->request;
  fill_server(&w->server, cp, f);
  fill_connection(&w->connection, cp, &w->server, f, in->token);

  r->pool = p;
  r->connection = &w->connection;
  r->server = &w->server;
  r->method = apr_pstrdup(p, f[WSG_FACT_METHOD]);
  r->method_number = method_number(r->method);
  const char *version = f[WSG_FACT_HTTP_VERSION][0] ? f[WSG_FACT_HTTP_VERSION] : "1.1";
  r->protocol = apr_pstrcat(p, "HTTP/", version, NULL);
  int major = atoi(version);
  const char *dot = strchr(version, '.');
  r->proto_num = HTTP_VERSION(major, dot ? atoi(dot + 1) : 0);
  r->the_request = apr_pstrcat(p, r->method, " ", f[WSG_FACT_URL], " ", r->protocol, NULL);
  r->request_time = (apr_time_t)apr_atoi64(f[WSG_FACT_REQUEST_TIME]);
  r->status = HTTP_OK;
  r->handler = "websocket-handler";
  r->log = NULL; /* the server's level (what the connection's logger lets through) */

  char *host, *port;
  split_host(p, f[WSG_FACT_HOST], &host, &port);
  r->hostname = host ? host : w->server.server_hostname;
  if (port) {
    r->parsed_uri.port_str = port;
    r->parsed_uri.port = (apr_port_t)atoi(port);
  }
  r->parsed_uri.hostname = host;
  fill_uri(r, p, f[WSG_FACT_URL]);

  r->headers_in = apr_table_make(p, (int)(in->header_count / 2) + 1);
  for (size_t i = 0; i + 1 < in->header_count; i += 2) apr_table_add(r->headers_in, in->headers[i], in->headers[i + 1]);
  r->headers_out = apr_table_make(p, 4);
  r->err_headers_out = apr_table_make(p, 4);
  r->subprocess_env = apr_table_make(p, 16);
  r->notes = apr_table_make(p, 4);
  r->trailers_in = apr_table_make(p, 1);
  r->trailers_out = apr_table_make(p, 1);

  /* mod_remoteip: the client behind trusted proxies is the user agent; the connection keeps the peer. */
  r->useragent_ip = apr_pstrdup(p, f[WSG_FACT_USERAGENT_IP]);
  r->useragent_addr = strcmp(f[WSG_FACT_USERAGENT_IP], f[WSG_FACT_PEER_IP]) == 0
                        ? w->connection.client_addr
                        : sockaddr(p, f[WSG_FACT_USERAGENT_IP], f[WSG_FACT_PEER_PORT]);
  fill_env(r, f, w->https);
  return r;
}

typedef struct header_walk {
  wsg_header_sink sink;
  void *ctx;
} header_walk;

static int visit_header(void *rec, const char *key, const char *value) {
  header_walk *walk = rec;
  walk->sink(walk->ctx, key, value);
  return 1;
}

WSG_SHIM_API void wsg_httpd_response(const struct request_rec *r, wsg_header_sink sink, void *ctx) {
  header_walk walk = { sink, ctx };
  if (!r) return;
  if (r->headers_out) apr_table_do(visit_header, &walk, r->headers_out, NULL);
  if (r->err_headers_out) apr_table_do(visit_header, &walk, r->err_headers_out, NULL);
}
