/*
 * dumb_increment.c - the classic "dumb-increment-protocol" demo as a WebSocketPlugin.
 *
 * Accepts only clients offering the subprotocol `dumb-increment-protocol`. A thread per connection
 * sends "0", "1", "2", ... every 50 ms; the message "reset\n" (exactly) sets the counter back to 0.
 * Per-connection state comes from the request's APR pool, as plugins written for Apache do, so it
 * declines (403) when the host offers no request (wsgate without libapr-1).
 *
 * Build (from the repository root):
 *   cc -shared -fPIC -pthread -I handlers/include $(apr-1-config --includes) -o build/plugins/dumb_increment.so handlers/c/dumb_increment.c
 * Serve:  WebSocketHandler build/plugins/dumb_increment.so dumb_increment_init
 *         (see conf/native-dumb-increment.conf)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <apr_pools.h>

#include "websocket_plugin.h"

#define PROTOCOL "dumb-increment-protocol"
#define INTERVAL_NS (50L * 1000 * 1000)

/* The part of Apache's request_rec this plugin reads: its first field. With httpd's own headers
 * (httpd.h) this is simply `r->pool`. */
struct request_rec {
  apr_pool_t *pool;
};

typedef struct {
  const WebSocketServer *server;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  unsigned long counter;
  int stop;
} increment_state;

static void *increment_thread(void *arg) {
  increment_state *st = arg;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  pthread_mutex_lock(&st->lock);
  while (!st->stop) {
    char text[32];
    int n = snprintf(text, sizeof text, "%lu", st->counter++);
    pthread_mutex_unlock(&st->lock);
    st->server->send(st->server, MESSAGE_TYPE_TEXT, (const unsigned char *)text, (size_t)n);
    pthread_mutex_lock(&st->lock);
    next.tv_nsec += INTERVAL_NS;
    if (next.tv_nsec >= 1000000000L) {
      next.tv_sec++;
      next.tv_nsec -= 1000000000L;
    }
    while (!st->stop && pthread_cond_timedwait(&st->wake, &st->lock, &next) != ETIMEDOUT) {
    }
  }
  pthread_mutex_unlock(&st->lock);
  return NULL;
}

static void *CALLBACK increment_on_connect(const WebSocketServer *server) {
  struct request_rec *r = server->request(server);
  if (!r) return NULL;
  int offered = 0;
  for (size_t i = 0, n = server->protocol_count(server); i < n; i++) {
    const char *p = server->protocol_index(server, i);
    if (p && strcmp(p, PROTOCOL) == 0) offered = 1;
  }
  if (!offered) return NULL;

  increment_state *st = apr_pcalloc(r->pool, sizeof *st);
  if (!st) return NULL;
  st->server = server;
  pthread_mutex_init(&st->lock, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&st->wake, &attr);
  pthread_condattr_destroy(&attr);
  if (pthread_create(&st->thread, NULL, increment_thread, st) != 0) {
    pthread_cond_destroy(&st->wake);
    pthread_mutex_destroy(&st->lock);
    return NULL;
  }
  server->protocol_set(server, PROTOCOL);
  return st;
}

static size_t CALLBACK increment_on_message(void *plugin_private, const WebSocketServer *server, const int type,
                                            unsigned char *buffer, const size_t buffer_size) {
  increment_state *st = plugin_private;
  (void)server;
  if (type == MESSAGE_TYPE_TEXT && buffer_size == 6 && memcmp(buffer, "reset\n", 6) == 0) {
    pthread_mutex_lock(&st->lock);
    st->counter = 0;
    pthread_mutex_unlock(&st->lock);
  }
  return 0;
}

static void CALLBACK increment_on_disconnect(void *plugin_private, const WebSocketServer *server) {
  increment_state *st = plugin_private;
  (void)server;
  pthread_mutex_lock(&st->lock);
  st->stop = 1;
  pthread_cond_signal(&st->wake);
  pthread_mutex_unlock(&st->lock);
  pthread_join(st->thread, NULL); /* the state lives in the pool, freed by the host afterwards */
  pthread_cond_destroy(&st->wake);
  pthread_mutex_destroy(&st->lock);
}

static WebSocketPlugin increment_plugin = {
  sizeof(WebSocketPlugin),
  WEBSOCKET_PLUGIN_VERSION_0,
  NULL,
  increment_on_connect,
  increment_on_message,
  increment_on_disconnect,
};

EXPORT WebSocketPlugin *CALLBACK dumb_increment_init(void) {
  return &increment_plugin;
}
