/*
 * The records the httpd shim hands to plugins, laid out by Apache 2.4's own httpd.h. One
 * allocation per connection holds all three, so a request_rec, conn_rec or server_rec pointer a
 * plugin passes back (ap_log_rerror, ap_log_cerror, ap_log_error) leads to its connection.
 */
#ifndef WSGATE_REQUEST_REC_H
#define WSGATE_REQUEST_REC_H

#include <stddef.h>
#include <stdint.h>

#include "httpd.h"
#include "httpd_shim.h"

#define WSG_REQUEST_MAGIC 0x77736731u /* "wsg1" */

typedef struct wsg_request {
  request_rec request; /* first: a request_rec pointer is a wsg_request pointer */
  conn_rec connection;
  server_rec server;
  uint32_t magic;
  uint32_t token;
  int https;
} wsg_request;

/* Key of the pool userdata that names the connection (ap_log_perror). */
#define WSG_POOL_TOKEN_KEY "wsgate:token"

/* The wsgate record a pointer belongs to, or NULL for one wsgate did not hand out. */
static inline wsg_request *wsg_request_of(const request_rec *r) {
  const wsg_request *w = (const wsg_request *)r;
  return w && w->magic == WSG_REQUEST_MAGIC ? (wsg_request *)w : NULL;
}
static inline wsg_request *wsg_request_of_conn(const conn_rec *c) {
  return c ? wsg_request_of((const request_rec *)((const char *)c - offsetof(wsg_request, connection))) : NULL;
}
static inline wsg_request *wsg_request_of_server(const server_rec *s) {
  return s ? wsg_request_of((const request_rec *)((const char *)s - offsetof(wsg_request, server))) : NULL;
}

#endif
