/*
 * The part of httpd's API that mod_websocket plugins commonly call, exported under Apache 2.4's
 * own names and signatures (a plugin links against the httpd binary; under wsgate these symbols
 * come from this library, loaded RTLD_GLOBAL before plugins). Logging goes to the connection's
 * pino logger through the helper; names and ports answer as Apache does with its defaults
 * (UseCanonicalName Off, HostnameLookups Off). Everything else a plugin needs from httpd is
 * named by `wsgate check` at the WebSocketHandler line.
 */
#define _GNU_SOURCE /* strcasestr */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apr_base64.h"
#include "apr_lib.h"
#include "apr_pools.h"
#include "apr_strings.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "request_rec.h"

#define WSG_SHIM_API __attribute__((visibility("default")))

/* Apache's MAX_STRING_LEN: longer log messages are cut, as in error_log. */
enum { LOG_LINE_MAX = 8192 };

static wsg_log_sink g_sink;

WSG_SHIM_API void wsg_httpd_bind(wsg_log_sink sink) { g_sink = sink; }

/* ---- logging ---- */
static uint32_t token_of_pool(apr_pool_t *p) {
  for (; p; p = apr_pool_parent_get(p)) {
    void *data = NULL;
    if (apr_pool_userdata_get(&data, WSG_POOL_TOKEN_KEY, p) == APR_SUCCESS && data) return (uint32_t)(uintptr_t)data;
  }
  return 0;
}

static void emit(uint32_t token, const char *file, int line, int level, apr_status_t status, const char *fmt, va_list ap) {
  if (!g_sink) return;
  char text[LOG_LINE_MAX];
  size_t at = 0;
  if (status != 0) {
    /* As Apache's error log: "(errno)description: message" */
    char why[256];
    apr_strerror(status, why, sizeof why);
    int n = snprintf(text, sizeof text, "(%d)%s: ", (int)status, why);
    at = n > 0 && (size_t)n < sizeof text ? (size_t)n : 0;
  }
  vsnprintf(text + at, sizeof text - at, fmt, ap);
  char source[512] = "";
  if (file) {
    const char *base = strrchr(file, '/');
    snprintf(source, sizeof source, "%s(%d)", base ? base + 1 : file, line);
  }
  g_sink(token, level & APLOG_LEVELMASK, source, text);
}

WSG_SHIM_API void ap_log_error_(const char *file, int line, int module_index, int level, apr_status_t status, const server_rec *s, const char *fmt, ...) {
  (void)module_index;
  wsg_request *w = wsg_request_of_server(s);
  va_list ap;
  va_start(ap, fmt);
  emit(w ? w->token : 0, file, line, level, status, fmt, ap);
  va_end(ap);
}

WSG_SHIM_API void ap_log_perror_(const char *file, int line, int module_index, int level, apr_status_t status, apr_pool_t *p, const char *fmt, ...) {
  (void)module_index;
  va_list ap;
  va_start(ap, fmt);
  emit(token_of_pool(p), file, line, level, status, fmt, ap);
  va_end(ap);
}

WSG_SHIM_API void ap_log_rerror_(const char *file, int line, int module_index, int level, apr_status_t status, const request_rec *r, const char *fmt, ...) {
  (void)module_index;
  wsg_request *w = wsg_request_of(r);
  va_list ap;
  va_start(ap, fmt);
  emit(w ? w->token : 0, file, line, level, status, fmt, ap);
  va_end(ap);
}

WSG_SHIM_API void ap_log_cerror_(const char *file, int line, int module_index, int level, apr_status_t status, const conn_rec *c, const char *fmt, ...) {
  (void)module_index;
  wsg_request *w = wsg_request_of_conn(c);
  va_list ap;
  va_start(ap, fmt);
  emit(w ? w->token : 0, file, line, level, status, fmt, ap);
  va_end(ap);
}

WSG_SHIM_API void ap_log_cserror_(const char *file, int line, int module_index, int level, apr_status_t status, const conn_rec *c, const server_rec *s, const char *fmt, ...) {
  (void)module_index;
  wsg_request *w = wsg_request_of_conn(c);
  if (!w) w = wsg_request_of_server(s);
  va_list ap;
  va_start(ap, fmt);
  emit(w ? w->token : 0, file, line, level, status, fmt, ap);
  va_end(ap);
}

/* The log-level accessors the APLOG_*IS_LEVEL macros call when a plugin is built with AP_DEBUG. */
static int level_of(const struct ap_logconf *l, int index) {
  if (!l) return APLOG_NOTICE;
  return index < 0 || !l->module_levels || l->module_levels[index] < 0 ? l->level : l->module_levels[index];
}
#undef ap_get_server_module_loglevel
#undef ap_get_conn_module_loglevel
#undef ap_get_conn_server_module_loglevel
#undef ap_get_request_module_loglevel
WSG_SHIM_API int ap_get_server_module_loglevel(const server_rec *s, int index) { return s ? level_of(&s->log, index) : APLOG_NOTICE; }
WSG_SHIM_API int ap_get_conn_module_loglevel(const conn_rec *c, int index) {
  return c ? level_of(c->log ? c->log : (c->base_server ? &c->base_server->log : NULL), index) : APLOG_NOTICE;
}
WSG_SHIM_API int ap_get_conn_server_module_loglevel(const conn_rec *c, const server_rec *s, int index) {
  if (c && c->log) return level_of(c->log, index);
  return ap_get_server_module_loglevel(s, index);
}
WSG_SHIM_API int ap_get_request_module_loglevel(const request_rec *r, int index) {
  if (!r) return APLOG_NOTICE;
  return level_of(r->log ? r->log : (r->server ? &r->server->log : NULL), index);
}

/* ---- names and ports (UseCanonicalName Off) ---- */
WSG_SHIM_API const char *ap_run_http_scheme(const request_rec *r) {
  wsg_request *w = wsg_request_of(r);
  return w && w->https ? "https" : "http";
}

WSG_SHIM_API apr_port_t ap_run_default_port(const request_rec *r) {
  wsg_request *w = wsg_request_of(r);
  return w && w->https ? DEFAULT_HTTPS_PORT : DEFAULT_HTTP_PORT;
}

WSG_SHIM_API const char *ap_get_server_name(request_rec *r) {
  if (r->hostname) return r->hostname;
  return r->server ? r->server->server_hostname : NULL;
}

WSG_SHIM_API const char *ap_get_server_name_for_url(request_rec *r) {
  const char *name = ap_get_server_name(r);
  /* An IPv6 literal is bracketed in a URL */
  if (name && strchr(name, ':') && name[0] != '[') return apr_pstrcat(r->pool, "[", name, "]", NULL);
  return name;
}

WSG_SHIM_API apr_port_t ap_get_server_port(const request_rec *r) {
  if (r->parsed_uri.port_str) return r->parsed_uri.port;
  if (r->server && r->server->port) return r->server->port;
  return ap_run_default_port(r);
}

WSG_SHIM_API char *ap_construct_url(apr_pool_t *p, const char *uri, request_rec *r) {
  const char *scheme = ap_run_http_scheme(r);
  const char *host = ap_get_server_name_for_url(r);
  apr_port_t port = ap_get_server_port(r);
  if (port == ap_run_default_port(r)) return apr_pstrcat(p, scheme, "://", host, uri, NULL);
  return apr_psprintf(p, "%s://%s:%u%s", scheme, host, (unsigned)port, uri);
}

/* HostnameLookups Off: the address, never a DNS name. */
WSG_SHIM_API const char *ap_get_remote_host(conn_rec *conn, void *dir_config, int type, int *str_is_ip) {
  (void)dir_config;
  if (str_is_ip) *str_is_ip = 0;
  if (type == REMOTE_HOST || type == REMOTE_DOUBLE_REV) return NULL;
  if (str_is_ip) *str_is_ip = 1;
  return conn->client_ip;
}

WSG_SHIM_API const char *ap_get_useragent_host(request_rec *r, int type, int *str_is_ip) {
  if (str_is_ip) *str_is_ip = 0;
  if (type == REMOTE_HOST || type == REMOTE_DOUBLE_REV) return NULL;
  if (str_is_ip) *str_is_ip = 1;
  return r->useragent_ip;
}

WSG_SHIM_API int ap_is_initial_req(request_rec *r) { return r->main == NULL && r->prev == NULL; }

WSG_SHIM_API const char *ap_get_server_banner(void) { return "wsgate"; }
WSG_SHIM_API const char *ap_get_server_description(void) { return "wsgate (mod_websocket plugin host)"; }

/* ---- string helpers plugins use to pick apart headers and query strings ---- */
WSG_SHIM_API char *ap_getword(apr_pool_t *p, const char **line, char stop) {
  const char *pos = strchr(*line, stop);
  if (!pos) {
    char *word = apr_pstrdup(p, *line);
    *line += strlen(*line);
    return word;
  }
  char *word = apr_pstrmemdup(p, *line, (apr_size_t)(pos - *line));
  while (*pos == stop) pos++;
  *line = pos;
  return word;
}

WSG_SHIM_API char *ap_getword_nc(apr_pool_t *p, char **line, char stop) { return ap_getword(p, (const char **)line, stop); }

WSG_SHIM_API char *ap_getword_white(apr_pool_t *p, const char **line) {
  const char *pos = *line;
  while (*pos && !apr_isspace(*pos)) pos++;
  char *word = apr_pstrmemdup(p, *line, (apr_size_t)(pos - *line));
  while (apr_isspace(*pos)) pos++;
  *line = pos;
  return word;
}

WSG_SHIM_API char *ap_getword_white_nc(apr_pool_t *p, char **line) { return ap_getword_white(p, (const char **)line); }

WSG_SHIM_API int ap_unescape_url(char *url) {
  /* As Apache: %00 and an escaped '/' are refused (HTTP_NOT_FOUND), a bad escape is HTTP_BAD_REQUEST. */
  char *in = url, *out = url;
  int bad = 0, refused = 0;
  for (; *in; in++, out++) {
    if (*in != '%') {
      *out = *in;
      continue;
    }
    if (!apr_isxdigit(in[1]) || !apr_isxdigit(in[2])) {
      bad = 1;
      *out = '%';
      continue;
    }
    char hex[3] = { in[1], in[2], 0 };
    char ch = (char)strtol(hex, NULL, 16);
    if (ch == 0 || ch == '/') refused = 1;
    *out = ch;
    in += 2;
  }
  *out = 0;
  if (bad) return HTTP_BAD_REQUEST;
  return refused ? HTTP_NOT_FOUND : OK;
}

WSG_SHIM_API void ap_str_tolower(char *s) {
  for (; *s; s++) *s = (char)apr_tolower(*s);
}

WSG_SHIM_API void ap_str_toupper(char *s) {
  for (; *s; s++) *s = (char)apr_toupper(*s);
}

WSG_SHIM_API char *ap_strcasestr(const char *s1, const char *s2) { return strcasestr(s1, s2); }

WSG_SHIM_API char *ap_pbase64decode(apr_pool_t *p, const char *encoded) {
  char *decoded = apr_palloc(p, (apr_size_t)apr_base64_decode_len(encoded));
  int n = apr_base64_decode(decoded, encoded);
  decoded[n] = 0;
  return decoded;
}

WSG_SHIM_API char *ap_pbase64encode(apr_pool_t *p, char *string) {
  int len = (int)strlen(string);
  char *encoded = apr_palloc(p, (apr_size_t)apr_base64_encode_len(len));
  apr_base64_encode(encoded, string, len);
  return encoded;
}
