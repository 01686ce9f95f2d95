/*
 * wsgate native plugin host helper: implements the WebSocketServer functions in C so that a
 * plugin never calls into JavaScript. Node only ever calls *into* this library (koffi, main
 * thread); plugin threads only touch C memory under one mutex and wake Node through a pipe.
 * That removes koffi's C->JS callback hazards (blocking callbacks, join deadlocks, unregister).
 *
 * Built by scripts/build-native.mjs with -Wl,-z,nodelete so it is never unmapped.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "websocket_plugin.h"
#include "httpd_shim.h"

#define WSG_API __attribute__((visibility("default")))

/* Records handed to JS besides the plugin's own message types. */
/* WSG_RECORD_LOG: a plugin's ap_log_* line: u8 level, source NUL, text. */
/* WSG_RECORD_INPUT_SLICE: a send of bytes inside the message on_message is handling (an echo, a
 * reply that quotes the request): u32 type, u32 offset, u32 length into that message's buffer,
 * which JS still holds, instead of a copy. */
/* WSG_RECORD_FRAMES: text and binary sends inside on_message, already framed for the wire (RFC 6455
 * server frames: FIN, no mask, no extension), when JS asked for them (the call's `frames` argument):
 * u32 frame count, then the frames back to back. A call's consecutive sends share one record, which
 * JS writes to the socket as it is: no record, view or frame of its own per reply. */
enum {
  WSG_RECORD_OVERFLOW = 0x1000,
  WSG_RECORD_DISCONNECTED = 0x1001,
  WSG_RECORD_LOG = 0x1002,
  WSG_RECORD_INPUT_SLICE = 0x1003,
  WSG_RECORD_FRAMES = 0x1004,
};
enum { WSG_SLICE_PAYLOAD = 12, WSG_SLICE_MIN = 64 };
/* Framed sends: the count before the frames; an input slice longer than WSG_FRAMED_SLICE_MAX stays a
 * slice (its bytes are not copied; JS frames it), as JS's encoder copies payloads up to 1 KiB
 * behind their header and sends larger ones as they are. */
enum { WSG_FRAMES_COUNT = 4, WSG_FRAMED_SLICE_MAX = 1024 };
enum { WSG_RECORD_HEADER = 12 }; /* u32 token, u32 type, u32 length (little-endian host) */
/* Bytes of a plugin's close payload that are queued: the 125 a close frame may carry, plus one that
 * says the payload was longer and whether the reason's cut falls inside a UTF-8 sequence. */
enum { WSG_CLOSE_KEEP = 126 };

/* Why wsg_plugin_load failed. */
enum {
  WSG_LOAD_OK = 0,
  WSG_LOAD_OPEN = 1,
  WSG_LOAD_SYMBOL = 2,
  WSG_LOAD_NULL = 3,
  WSG_LOAD_VERSION = 4,
  WSG_LOAD_SIZE = 5,
  WSG_LOAD_NO_ON_MESSAGE = 6,
};

typedef enum {
  CONN_CONNECTING,    /* on_connect may run; sends queue until JS releases the connection */
  CONN_OPEN,          /* accepted */
  CONN_CLOSING,       /* closing (plugin, peer or gateway) or overflowed: further sends return 0 */
  CONN_DISCONNECTING, /* on_disconnect running: sends return 0 */
  CONN_DONE,          /* on_disconnect returned; waiting for wsg_conn_free */
  CONN_DECLINED,      /* on_connect returned NULL */
} conn_state;

typedef struct queued_item {
  struct queued_item *next;
  int type;
  uint32_t len;
  unsigned char data[];
} queued_item;

/* What an item counts against the queue cap: its payload and its bookkeeping, so that a thread
 * looping on empty sends cannot grow the queue without bound either. */
#define ITEM_COST(len) (sizeof(queued_item) + (size_t)(len))

typedef struct wsg_plugin {
  WebSocketPlugin *plugin;
  void *dl;
} wsg_plugin;

typedef struct string_list {
  char *block;
  char **items;
  size_t count;
} string_list;

typedef struct wsg_conn {
  WebSocketServer server; /* first member: a server pointer is a connection pointer */
  wsg_plugin *plugin;
  uint32_t token;
  conn_state state;
  int released; /* JS has the connection open: queued items may be drained */
  void *priv;
  string_list headers;   /* key, value, key, value ... */
  string_list protocols;
  string_list facts;     /* WSG_FACT_COUNT strings for the request_rec (httpd_shim.h) */
  char **response;       /* key, value, ... (malloc'd) */
  size_t response_count;
  char *chosen_protocol;
  queued_item *head, *tail;
  size_t queued_bytes, queue_cap; /* queued_bytes: its queue items (arena records: arena_cost) */
  struct wsg_conn *ready_next;
  int in_ready;
  struct wsg_conn *done_next;
  /* What its records in the arena count against queue_cap, while the arena they are in is not
   * taken yet: only when arena_generation is g_arena_generation (arena_cost_locked). */
  size_t arena_cost;
  uint64_t arena_generation;
  void *pool;
  void *request;      /* what request() returns */
  void *fake_request; /* the stand-in's malloc'd block, when that is what request() returns */
} wsg_conn;

static int takes_sends_in(conn_state state) { return state == CONN_CONNECTING || state == CONN_OPEN; }

/* The plugin's sends are taken (not refused with 0): before the close starts. Caller holds g_lock. */
static int takes_sends_locked(const wsg_conn *c) { return takes_sends_in(c->state); }

/* State changes are made under g_lock, and also stored atomically: wsg_conn_messages reads the
 * state between two on_message calls without the lock (a lock per message was a fifth of a small
 * message's cost in the helper). */
static void set_state_locked(wsg_conn *c, conn_state state) { __atomic_store_n(&c->state, state, __ATOMIC_RELAXED); }

/* Whether one more frame of `payload` bytes stays within the cap, with `pending` already counted.
 * One frame larger than the cap still passes when nothing is pending (as on the socket side). */
static int within_cap(size_t pending, size_t payload, size_t cap) { return pending == 0 || pending + ITEM_COST(payload) <= cap; }

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static wsg_conn *g_ready_head, *g_ready_tail;
static wsg_conn *g_done_head, *g_done_tail;
static int g_signaled;
/* Plugins' log lines (any thread), handed to JS before anything else on the next drain. */
typedef struct log_item {
  struct log_item *next;
  uint32_t token;
  uint32_t len;
  unsigned char data[];
} log_item;
static log_item *g_log_head, *g_log_tail;
static size_t g_log_bytes;
/* A plugin logging in a loop faster than Node drains cannot grow memory without bound. */
enum { LOG_QUEUE_CAP = 1 << 20 };
static int g_wake_read = -1, g_wake_write = -1;
static int64_t g_live_conns;
/* Plugin sends waiting in the connections' queues, all connections together (the queue-depth gauge). */
static int64_t g_queued_items, g_queued_payload;
/* The arena: memory JS handed over (a Buffer it keeps) where sends from threads other than the
 * connection's on_message call are written as records at once, under g_lock: JS hands views of it to
 * the sockets, so such a send is copied once (into the arena) instead of into a queue item and then
 * into JS's buffer at the drain. A send that does not fit, or whose connection has queue items,
 * takes the queue (order is kept: a connection's arena records always precede its queue items, and
 * every drain takes the whole arena before any queue). JS gives the next arena ahead of time
 * (wsg_arena_next); a take switches to it. */
static unsigned char *g_arena, *g_arena_next;
static size_t g_arena_cap, g_arena_next_cap, g_arena_used;
static int64_t g_arena_items, g_arena_payload;
/* Counts the takes: a connection's arena_cost from an earlier generation is void (its records are JS's). */
static uint64_t g_arena_generation;
/* Where each drain reports to JS (a Uint32Array it keeps): WSG_REPORT_TAKEN arena bytes taken (views
 * of arena[0, taken)), WSG_REPORT_SPLIT bytes of `out` that precede them, WSG_REPORT_SWITCHED 1 when
 * the arena given by wsg_arena_next is now the arena. */
enum { WSG_REPORT_TAKEN = 0, WSG_REPORT_SPLIT = 1, WSG_REPORT_SWITCHED = 2, WSG_REPORT_SIZE = 3 };
static uint32_t *g_report;
/* Larger sends take the queue: they would use up an arena (64 KiB, pump.ts) for one message. */
enum { WSG_ARENA_RECORD_MAX = 16 * 1024 };
/* The connection whose on_message runs on this thread: its sends are drained right after the
 * call, so they need no wake-up (saves a pipe write and a loop iteration per reply). */
static __thread struct wsg_conn *tl_in_message;
/* The JS buffer that call drains into: while the connection's queue is empty, that thread's sends
 * are written there at once, as records (one copy from the plugin's buffer to the socket's, no
 * queue item). tl_used: bytes written so far. */
static __thread unsigned char *tl_out;
static __thread size_t tl_cap, tl_used;
/* What those records would have cost in the queue: they count against its cap as if queued, so
 * the cap means the same with or without the shortcut. */
static __thread size_t tl_direct_cost;
/* The message that on_message call is handling, when JS keeps its buffer for the records: sends of
 * bytes inside it become WSG_RECORD_INPUT_SLICE records (no copy at all). NULL in batch calls,
 * whose buffer JS reuses. */
static __thread const unsigned char *tl_input;
static __thread size_t tl_input_len;
/* That call's text and binary sends go into tl_out framed (WSG_RECORD_FRAMES), when JS asked. The
 * record being added to starts at tl_frames_at and ends at tl_frames_end; it takes the next frame
 * only while it is the last record written (tl_frames_end == tl_used), so frames keep their order
 * with the other records. */
static __thread int tl_frames;
static __thread size_t tl_frames_at, tl_frames_end;

/* ---- APR, loaded at run time so the helper builds and runs without it ---- */
typedef int (*apr_initialize_fn)(void);
typedef int (*apr_pool_create_ex_fn)(void **pool, void *parent, void *abort_fn, void *allocator);
typedef void (*apr_pool_destroy_fn)(void *pool);
static apr_pool_create_ex_fn g_pool_create;
static apr_pool_destroy_fn g_pool_destroy;
static char g_apr_error[256];
/* Without the httpd shim: a zeroed stand-in for Apache's request_rec whose first field is the pool. */
enum { FAKE_REQUEST_SIZE = 2048 };
/* The httpd shim (built where Apache's httpd.h is installed): a real request_rec and ap_*. */
static wsg_httpd_request_fn g_httpd_request;
static wsg_httpd_response_fn g_httpd_response;
static char g_httpd_error[512];

static void load_apr(void) {
  /* Lets an operator (and the tests) run plugins as on a host without libapr-1. */
  const char *off = getenv("WSGATE_NATIVE_NO_APR");
  if (off && *off && strcmp(off, "0") != 0) {
    snprintf(g_apr_error, sizeof g_apr_error, "libapr-1 disabled by WSGATE_NATIVE_NO_APR");
    return;
  }
  void *apr = dlopen("libapr-1.so.0", RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
  if (!apr) {
    snprintf(g_apr_error, sizeof g_apr_error, "libapr-1.so.0 not loadable (%s)", dlerror());
    return;
  }
  apr_initialize_fn init = (apr_initialize_fn)dlsym(apr, "apr_initialize");
  apr_pool_create_ex_fn create = (apr_pool_create_ex_fn)dlsym(apr, "apr_pool_create_ex");
  apr_pool_destroy_fn destroy = (apr_pool_destroy_fn)dlsym(apr, "apr_pool_destroy");
  if (!init || !create || !destroy) {
    snprintf(g_apr_error, sizeof g_apr_error, "libapr-1.so.0 lacks apr_initialize/apr_pool_create_ex/apr_pool_destroy");
    return;
  }
  if (init() != 0) {
    snprintf(g_apr_error, sizeof g_apr_error, "apr_initialize failed");
    return;
  }
  g_pool_create = create;
  g_pool_destroy = destroy;
}

/* Once per process: wake pipe and APR. Returns the pipe's read end; `message` gets why APR is
 * unavailable (empty when it is available). */
static void log_sink(uint32_t token, int level, const char *source, const char *text);

/* After APR: the shim's ap_* must be global before the first plugin is opened. */
static void load_httpd_shim(const char *path) {
  if (!g_pool_create) {
    snprintf(g_httpd_error, sizeof g_httpd_error, "%s", g_apr_error);
    return;
  }
  if (!path || !*path) {
    snprintf(g_httpd_error, sizeof g_httpd_error, "the httpd shim is disabled (WSGATE_HTTPD_SHIM is empty)");
    return;
  }
  if (access(path, F_OK) != 0) {
    snprintf(g_httpd_error, sizeof g_httpd_error, "wsgate was built without Apache's httpd.h (%s is missing)", path);
    return;
  }
  void *shim = dlopen(path, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
  if (!shim) {
    snprintf(g_httpd_error, sizeof g_httpd_error, "%s", dlerror());
    return;
  }
  wsg_httpd_bind_fn bind = (wsg_httpd_bind_fn)dlsym(shim, "wsg_httpd_bind");
  wsg_httpd_request_fn request = (wsg_httpd_request_fn)dlsym(shim, "wsg_httpd_request");
  wsg_httpd_response_fn response = (wsg_httpd_response_fn)dlsym(shim, "wsg_httpd_response");
  if (!bind || !request || !response) {
    snprintf(g_httpd_error, sizeof g_httpd_error, "%s lacks wsg_httpd_bind/wsg_httpd_request/wsg_httpd_response", path);
    return;
  }
  bind(log_sink);
  g_httpd_request = request;
  g_httpd_response = response;
}

/* Whether request() returns a real request_rec; `message` gets why not. */
WSG_API int wsg_httpd_status(char *message, size_t message_size) {
  pthread_mutex_lock(&g_lock);
  int ok = g_httpd_request != NULL;
  if (message && message_size) snprintf(message, message_size, "%s", ok ? "" : g_httpd_error);
  pthread_mutex_unlock(&g_lock);
  return ok;
}

/* Whether the process defines `name` (plugins' undefined symbols, for `wsgate check`). */
WSG_API int wsg_symbol_defined(const char *name) { return dlsym(RTLD_DEFAULT, name) != NULL; }

WSG_API int wsg_setup(const char *httpd_shim, char *message, size_t message_size) {
  pthread_mutex_lock(&g_lock);
  if (g_wake_read < 0) {
    /* Pin this library too (besides -z nodelete at link time, which not every linker has). */
    Dl_info self;
    if (dladdr((void *)wsg_setup, &self) && self.dli_fname) dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    int fds[2];
    if (pipe(fds) == 0) {
      for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
      }
      g_wake_read = fds[0];
      g_wake_write = fds[1];
      load_apr();
      load_httpd_shim(httpd_shim);
    } else {
      snprintf(g_apr_error, sizeof g_apr_error, "pipe: %s", strerror(errno));
    }
  }
  if (message && message_size) snprintf(message, message_size, "%s", g_pool_create ? "" : g_apr_error);
  int fd = g_wake_read;
  pthread_mutex_unlock(&g_lock);
  return fd;
}

/* Plugin sends queued and not yet drained, all connections: `out[0]` messages, `out[1]` payload bytes. */
WSG_API void wsg_queue_depth(int64_t *out) {
  pthread_mutex_lock(&g_lock);
  out[0] = g_queued_items;
  out[1] = g_queued_payload;
  pthread_mutex_unlock(&g_lock);
}

WSG_API int64_t wsg_live_connections(void) {
  pthread_mutex_lock(&g_lock);
  int64_t n = g_live_conns;
  pthread_mutex_unlock(&g_lock);
  return n;
}

static void wake(void) {
  char byte = 1;
  ssize_t r = write(g_wake_write, &byte, 1); /* EAGAIN: a byte is already pending; fine */
  (void)r;
}

/* With g_lock held. Returns 1 when the caller must wake Node after unlocking. */
static int signal_locked(void) {
  if (g_signaled || (!g_ready_head && !g_done_head && !g_log_head && !g_arena_used)) return 0;
  g_signaled = 1;
  return 1;
}

static int make_ready_locked(wsg_conn *c) {
  if (c->released && !c->in_ready && c->head) {
    c->in_ready = 1;
    c->ready_next = NULL;
    if (g_ready_tail) g_ready_tail->ready_next = c; else g_ready_head = c;
    g_ready_tail = c;
  }
  return signal_locked();
}

static void discard_queue_locked(wsg_conn *c) {
  queued_item *it = c->head;
  while (it) {
    queued_item *next = it->next;
    g_queued_items--;
    g_queued_payload -= it->len;
    free(it);
    it = next;
  }
  c->head = c->tail = NULL;
  c->queued_bytes = 0;
  /* Its arena records stay in the arena; JS drops them (the connection is gone or going). */
  c->arena_cost = 0;
}

/* With g_lock held: what c's records in the arena count against its cap until JS takes them. */
static size_t arena_cost_locked(const wsg_conn *c) { return c->arena_generation == g_arena_generation ? c->arena_cost : 0; }

static void remove_ready_locked(wsg_conn *c) {
  if (!c->in_ready) return;
  wsg_conn *prev = NULL;
  for (wsg_conn *p = g_ready_head; p; prev = p, p = p->ready_next) {
    if (p != c) continue;
    if (prev) prev->ready_next = p->ready_next; else g_ready_head = p->ready_next;
    if (g_ready_tail == p) g_ready_tail = prev;
    break;
  }
  c->in_ready = 0;
}

static void put_record(unsigned char *out, size_t *used, uint32_t token, uint32_t type, const unsigned char *data, uint32_t len);

/* RFC 6455 5.2: a server frame's header is 2 bytes, 4 with a 16-bit length, 10 with a 64-bit one. */
static size_t frame_header_size(size_t len) { return len < 126 ? 2 : len <= 0xFFFF ? 4 : 10; }

/* The call's open WSG_RECORD_FRAMES is the last record, ending at `at`: a frame written there joins it. */
static int frames_record_ends_at(size_t at) { return tl_frames_end != 0 && tl_frames_end == at; }

/* What a framed send adds to tl_out: its frame, and a record header with the count unless it joins
 * the record written last. */
static size_t framed_need(size_t len) {
  size_t record = frames_record_ends_at(tl_used) ? 0 : WSG_RECORD_HEADER + WSG_FRAMES_COUNT;
  return record + frame_header_size(len) + len;
}

static void put_u32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get_u32(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* Writes a FIN text or binary frame of `data` at tl_out + at (the space framed_need reserved),
 * adding it to the last record when that is the call's open WSG_RECORD_FRAMES. */
static void put_frame(size_t at, uint32_t token, int kind, const unsigned char *data, size_t len) {
  if (!frames_record_ends_at(at)) {
    tl_frames_at = at;
    put_u32(tl_out + at, token);
    put_u32(tl_out + at + 4, WSG_RECORD_FRAMES);
    put_u32(tl_out + at + 8, WSG_FRAMES_COUNT);
    put_u32(tl_out + at + WSG_RECORD_HEADER, 0);
    at += WSG_RECORD_HEADER + WSG_FRAMES_COUNT;
  }
  unsigned char *p = tl_out + at;
  size_t header = frame_header_size(len);
  p[0] = (unsigned char)(0x80 | (kind == MESSAGE_TYPE_TEXT ? 0x1 : 0x2));
  if (header == 2) {
    p[1] = (unsigned char)len;
  } else if (header == 4) {
    p[1] = 126;
    p[2] = (unsigned char)(len >> 8);
    p[3] = (unsigned char)len;
  } else {
    p[1] = 127;
    for (int i = 0; i < 8; i++) p[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
  }
  if (len) memcpy(p + header, data, len);
  size_t frame = header + len;
  unsigned char *record = tl_out + tl_frames_at;
  put_u32(record + 8, get_u32(record + 8) + (uint32_t)frame);
  put_u32(record + WSG_RECORD_HEADER, get_u32(record + WSG_RECORD_HEADER) + 1);
  tl_frames_end = at + frame;
}

/* ---- the server functions the plugin calls ---- */
static wsg_conn *conn_of(const WebSocketServer *server) { return (wsg_conn *)server; }

static void log_sink(uint32_t token, int level, const char *source, const char *text) {
  size_t source_len = strlen(source), text_len = strlen(text);
  size_t len = 1 + source_len + 1 + text_len;
  log_item *it = malloc(sizeof *it + len);
  if (!it) return;
  it->next = NULL;
  it->token = token;
  it->len = (uint32_t)len;
  it->data[0] = (unsigned char)(level < 0 ? 0 : level > 255 ? 255 : level);
  memcpy(it->data + 1, source, source_len + 1);
  memcpy(it->data + 2 + source_len, text, text_len);
  pthread_mutex_lock(&g_lock);
  if (g_log_bytes + len > LOG_QUEUE_CAP) {
    pthread_mutex_unlock(&g_lock);
    free(it);
    return;
  }
  g_log_bytes += len;
  if (g_log_tail) g_log_tail->next = it; else g_log_head = it;
  g_log_tail = it;
  int need_wake = signal_locked();
  pthread_mutex_unlock(&g_lock);
  if (need_wake) wake();
}

/* With g_lock held: the connection's request_rec, built on first use from its own APR pool
 * (destroyed in wsg_conn_free): Apache 2.4's by the shim, else the zeroed stand-in. */
static void *request_locked(wsg_conn *c) {
  if (c->request) return c->request;
  void *pool = NULL;
  if (g_pool_create(&pool, NULL, NULL, NULL) != 0 || !pool) return NULL;
  void *req = NULL;
  if (g_httpd_request && c->facts.count >= WSG_FACT_COUNT) {
    wsg_request_input in = {
      .facts = (const char *const *)c->facts.items,
      .headers = (const char *const *)c->headers.items,
      .header_count = c->headers.count,
      .token = c->token,
    };
    req = g_httpd_request(pool, &in);
  } else {
    req = calloc(1, FAKE_REQUEST_SIZE);
    if (req) {
      *(void **)req = pool;
      c->fake_request = req;
    }
  }
  if (!req) {
    g_pool_destroy(pool);
    return NULL;
  }
  c->pool = pool;
  c->request = req;
  return req;
}

static struct request_rec *srv_request(const WebSocketServer *server) {
  if (!server || !g_pool_create) return NULL;
  pthread_mutex_lock(&g_lock);
  void *req = request_locked(conn_of(server));
  pthread_mutex_unlock(&g_lock);
  return (struct request_rec *)req;
}

static const char *srv_header_get(const WebSocketServer *server, const char *key) {
  if (!server || !key) return NULL;
  const string_list *h = &conn_of(server)->headers;
  for (size_t i = 0; i + 1 < h->count; i += 2)
    if (strcasecmp(h->items[i], key) == 0) return h->items[i + 1];
  return NULL;
}

/* With g_lock held: replaces (case-insensitively) or adds a response header. */
static void response_set_locked(wsg_conn *c, const char *key, const char *value) {
  char *k = strdup(key), *v = strdup(value);
  if (!k || !v) { free(k); free(v); return; }
  for (size_t i = 0; i < c->response_count; i += 2) {
    if (strcasecmp(c->response[i], key) == 0) {
      free(c->response[i]);
      free(c->response[i + 1]);
      c->response[i] = k;
      c->response[i + 1] = v;
      return;
    }
  }
  char **grown = realloc(c->response, (c->response_count + 2) * sizeof *grown);
  if (grown) {
    c->response = grown;
    grown[c->response_count++] = k;
    grown[c->response_count++] = v;
  } else {
    free(k);
    free(v);
  }
}

static void srv_header_set(const WebSocketServer *server, const char *key, const char *value) {
  if (!server || !key || !value) return;
  pthread_mutex_lock(&g_lock);
  response_set_locked(conn_of(server), key, value);
  pthread_mutex_unlock(&g_lock);
}

static void response_sink(void *ctx, const char *key, const char *value) { response_set_locked(ctx, key, value); }

static size_t srv_protocol_count(const WebSocketServer *server) {
  return server ? conn_of(server)->protocols.count : 0;
}

static const char *srv_protocol_index(const WebSocketServer *server, size_t index) {
  if (!server) return NULL;
  const string_list *p = &conn_of(server)->protocols;
  return index < p->count ? p->items[index] : NULL;
}

static void srv_protocol_set(const WebSocketServer *server, const char *protocol) {
  if (!server || !protocol) return;
  wsg_conn *c = conn_of(server);
  char *copy = strdup(protocol);
  if (!copy) return;
  pthread_mutex_lock(&g_lock);
  free(c->chosen_protocol);
  c->chosen_protocol = copy;
  pthread_mutex_unlock(&g_lock);
}

static size_t srv_send(const WebSocketServer *server, const int type, const unsigned char *buf, const size_t size) {
  if (!server || (size && !buf) || size > UINT32_MAX) return 0;
  wsg_conn *c = conn_of(server);
  int kind = type;
  if (kind != MESSAGE_TYPE_TEXT && kind != MESSAGE_TYPE_BINARY && kind != MESSAGE_TYPE_PING && kind != MESSAGE_TYPE_PONG)
    kind = MESSAGE_TYPE_CLOSE;
  /* RFC 6455 5.5: control frames carry at most 125 bytes. */
  if ((kind == MESSAGE_TYPE_PING || kind == MESSAGE_TYPE_PONG) && size > 125) return 0;
  /* A close payload (code + reason) is checked and repaired in JS (close-payload.ts), which needs
   * only its first WSG_CLOSE_KEEP bytes. */
  size_t payload = kind == MESSAGE_TYPE_CLOSE && size > WSG_CLOSE_KEEP ? WSG_CLOSE_KEEP : size;
  uintptr_t from = (uintptr_t)buf, input = (uintptr_t)tl_input;
  int slice = tl_input && kind != MESSAGE_TYPE_CLOSE && size >= WSG_SLICE_MIN && from >= input &&
              from - input <= tl_input_len && size <= tl_input_len - (from - input);
  int framed = tl_in_message == c && tl_frames && (kind == MESSAGE_TYPE_TEXT || kind == MESSAGE_TYPE_BINARY) &&
               !(slice && size > WSG_FRAMED_SLICE_MAX);
  size_t need = framed ? framed_need(payload) : 0;
  /* A frame that does not fit may still fit as a slice record. */
  if (framed && tl_used + need > tl_cap) framed = 0;
  if (!framed) need = WSG_RECORD_HEADER + (slice ? WSG_SLICE_PAYLOAD : payload);
  if (tl_in_message == c && tl_out && kind != MESSAGE_TYPE_CLOSE && tl_used + need <= tl_cap) {
    /* Straight into JS's buffer, when nothing of this connection is queued (order is kept). The
     * space is reserved under the lock and filled after it: only this thread writes or reads it
     * until the call returns. */
    pthread_mutex_lock(&g_lock);
    int direct = !c->head && !arena_cost_locked(c) && takes_sends_locked(c) && within_cap(tl_direct_cost, payload, c->queue_cap);
    int refused = !direct && !takes_sends_locked(c);
    size_t at = tl_used;
    if (direct) {
      tl_used += need;
      tl_direct_cost += ITEM_COST(payload);
    }
    pthread_mutex_unlock(&g_lock);
    if (refused) return 0;
    if (direct && framed) {
      put_frame(at, c->token, kind, buf, payload);
      return size;
    }
    if (direct && slice) {
      unsigned char where[WSG_SLICE_PAYLOAD];
      uint32_t fields[3] = {(uint32_t)kind, (uint32_t)(from - input), (uint32_t)size};
      memcpy(where, fields, sizeof where);
      put_record(tl_out, &at, c->token, WSG_RECORD_INPUT_SLICE, where, WSG_SLICE_PAYLOAD);
      return size;
    }
    if (direct) {
      put_record(tl_out, &at, c->token, (uint32_t)kind, buf, (uint32_t)payload);
      return size;
    }
  }
  /* Not for the connection whose on_message is running here: a burst past JS's buffer waits in the
   * queue, which the pump drains at its pace, while a drain takes the arena all at once (tried: the
   * canary of test/native/fairness.test.ts then took 327 ms in a loaded run, its bound is 250 ms). */
  if (tl_in_message != c && kind != MESSAGE_TYPE_CLOSE && payload <= WSG_ARENA_RECORD_MAX) {
    /* Into the arena, if the connection is released (its 101 is out), has nothing queued, stays
     * under its cap and the record fits; otherwise on to the queue, which handles the rest. */
    pthread_mutex_lock(&g_lock);
    int refused = !takes_sends_locked(c);
    size_t arena_cost = arena_cost_locked(c);
    int fits = !refused && c->released && !c->head && g_arena && g_arena_used + WSG_RECORD_HEADER + payload <= g_arena_cap &&
               within_cap(arena_cost, payload, c->queue_cap);
    int need_wake = 0;
    if (fits) {
      put_record(g_arena, &g_arena_used, c->token, (uint32_t)kind, buf, (uint32_t)payload);
      c->arena_cost = arena_cost + ITEM_COST(payload);
      c->arena_generation = g_arena_generation;
      g_arena_items++;
      g_arena_payload += payload;
      g_queued_items++;
      g_queued_payload += payload;
      need_wake = signal_locked();
    }
    pthread_mutex_unlock(&g_lock);
    if (refused) return 0;
    if (need_wake) wake();
    if (fits) return size;
  }
  queued_item *it = malloc(sizeof *it + payload);
  if (!it) return 0;
  it->next = NULL;
  it->type = kind;
  it->len = (uint32_t)payload;
  if (payload) memcpy(it->data, buf, payload);

  size_t result = size;
  pthread_mutex_lock(&g_lock);
  if (!takes_sends_locked(c)) {
    pthread_mutex_unlock(&g_lock);
    free(it);
    return 0;
  }
  /* Over the cap: drop this frame, stop the plugin's sends, and let JS close with 1008. One frame
   * larger than the cap still passes on an empty queue (as on the socket side). */
  size_t pending = c->queued_bytes + arena_cost_locked(c) + (tl_in_message == c ? tl_direct_cost : 0);
  if (!within_cap(pending, payload, c->queue_cap)) {
    it->type = WSG_RECORD_OVERFLOW;
    it->len = 0;
    result = 0;
  }
  if (it->type == MESSAGE_TYPE_CLOSE || it->type == WSG_RECORD_OVERFLOW) set_state_locked(c, CONN_CLOSING);
  if (c->tail) c->tail->next = it; else c->head = it;
  c->tail = it;
  c->queued_bytes += ITEM_COST(it->len);
  g_queued_items++;
  g_queued_payload += it->len;
  int need_wake = tl_in_message == c ? 0 : make_ready_locked(c);
  pthread_mutex_unlock(&g_lock);
  if (need_wake) wake();
  return result;
}

static void srv_close(const WebSocketServer *server) {
  srv_send(server, MESSAGE_TYPE_CLOSE, NULL, 0);
}

/* ---- plugins ---- */
WSG_API wsg_plugin *wsg_plugin_load(const char *path, const char *init_name, int *error_kind, char *error, size_t error_size) {
  *error_kind = WSG_LOAD_OK;
  error[0] = 0;
  /* Never unloaded: plugin threads may outlive everything that refers to them. */
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!dl) {
    *error_kind = WSG_LOAD_OPEN;
    snprintf(error, error_size, "%s", dlerror());
    return NULL;
  }
  dlerror();
  void *symbol = dlsym(dl, init_name);
  if (!symbol) {
    *error_kind = WSG_LOAD_SYMBOL;
    const char *why = dlerror();
    snprintf(error, error_size, "%s", why ? why : "symbol is NULL");
    return NULL;
  }
  WebSocketPlugin *(*init)(void) = (WebSocketPlugin * (*)(void)) symbol;
  WebSocketPlugin *plugin = init();
  if (!plugin) {
    *error_kind = WSG_LOAD_NULL;
  } else if (plugin->version != WEBSOCKET_PLUGIN_VERSION_0) {
    *error_kind = WSG_LOAD_VERSION;
    snprintf(error, error_size, "%u", plugin->version);
  } else if (plugin->size < sizeof(WebSocketPlugin)) {
    *error_kind = WSG_LOAD_SIZE;
    snprintf(error, error_size, "%u", plugin->size);
  } else if (!plugin->on_message) {
    *error_kind = WSG_LOAD_NO_ON_MESSAGE;
  }
  if (*error_kind != WSG_LOAD_OK) return NULL;
  wsg_plugin *handle = calloc(1, sizeof *handle);
  if (!handle) {
    *error_kind = WSG_LOAD_OPEN;
    snprintf(error, error_size, "out of memory");
    return NULL;
  }
  handle->plugin = plugin;
  handle->dl = dl;
  return handle;
}

WSG_API void wsg_plugin_destroy(wsg_plugin *handle) {
  if (!handle) return;
  if (handle->plugin->destroy) handle->plugin->destroy(handle->plugin);
  free(handle); /* dl stays loaded (RTLD_NODELETE) */
}

/* ---- connections ---- */
/* `block` is NUL-separated strings; `split` also splits on ", \t" and drops empty tokens. */
static int parse_strings(string_list *out, const unsigned char *block, size_t size, int split) {
  out->block = malloc(size + 1);
  if (!out->block) return -1;
  if (size) memcpy(out->block, block, size);
  out->block[size] = 0;
  size_t cap = 1;
  for (size_t i = 0; i < size; i++)
    if (out->block[i] == 0 || (split && (out->block[i] == ',' || out->block[i] == ' ' || out->block[i] == '\t'))) cap++;
  out->items = calloc(cap, sizeof *out->items);
  if (!out->items) return -1;
  out->count = 0;
  size_t start = 0;
  for (size_t i = 0; i <= size; i++) {
    char ch = out->block[i];
    int sep = ch == 0 || (split && (ch == ',' || ch == ' ' || ch == '\t'));
    if (!sep) continue;
    out->block[i] = 0;
    if (i < size || i > start) {
      if (!split || i > start) out->items[out->count++] = out->block + start;
    }
    start = i + 1;
  }
  return 0;
}

static void free_strings(string_list *l) {
  free(l->block);
  free(l->items);
  l->block = NULL;
  l->items = NULL;
  l->count = 0;
}

WSG_API wsg_conn *wsg_conn_new(wsg_plugin *plugin, uint32_t token, const unsigned char *headers, size_t headers_size,
                               const unsigned char *protocols, size_t protocols_size, const unsigned char *facts,
                               size_t facts_size, size_t queue_cap) {
  wsg_conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->server.size = sizeof(WebSocketServer);
  c->server.version = WEBSOCKET_SERVER_VERSION_1;
  c->server.state = (struct _WebSocketState *)c;
  c->server.request = srv_request;
  c->server.header_get = srv_header_get;
  c->server.header_set = srv_header_set;
  c->server.protocol_count = srv_protocol_count;
  c->server.protocol_index = srv_protocol_index;
  c->server.protocol_set = srv_protocol_set;
  c->server.send = srv_send;
  c->server.close = srv_close;
  c->plugin = plugin;
  c->token = token;
  c->state = CONN_CONNECTING; /* not shared yet */
  c->queue_cap = queue_cap;
  /* headers block ends with a NUL; drop the final empty item */
  if (parse_strings(&c->headers, headers, headers_size, 0) != 0 ||
      parse_strings(&c->protocols, protocols, protocols_size, 1) != 0 ||
      parse_strings(&c->facts, facts, facts_size, 0) != 0) {
    free_strings(&c->headers);
    free_strings(&c->protocols);
    free_strings(&c->facts);
    free(c);
    return NULL;
  }
  if (c->headers.count % 2) c->headers.count--;
  pthread_mutex_lock(&g_lock);
  g_live_conns++;
  pthread_mutex_unlock(&g_lock);
  return c;
}

/* Calls on_connect (JS thread, before the 101). 1 = accepted, 0 = declined. */
WSG_API int wsg_conn_connect(wsg_conn *c) {
  WebSocketPlugin *p = c->plugin->plugin;
  void *priv = p->on_connect ? p->on_connect(&c->server) : NULL;
  pthread_mutex_lock(&g_lock);
  int accepted = !p->on_connect || priv != NULL;
  if (accepted) {
    c->priv = priv;
    if (c->state == CONN_CONNECTING) set_state_locked(c, CONN_OPEN);
    /* What the plugin put in r->headers_out / err_headers_out goes on the 101 too, as in Apache. */
    if (c->request && c->request != c->fake_request) g_httpd_response(c->request, response_sink, c);
  } else {
    set_state_locked(c, CONN_DECLINED);
    discard_queue_locked(c);
    remove_ready_locked(c);
  }
  pthread_mutex_unlock(&g_lock);
  return accepted;
}

/* Chosen protocol NUL, then key NUL value NUL ...; returns the size needed (copies when it fits). */
WSG_API size_t wsg_conn_response(wsg_conn *c, unsigned char *out, size_t cap) {
  pthread_mutex_lock(&g_lock);
  const char *chosen = c->chosen_protocol ? c->chosen_protocol : "";
  size_t need = strlen(chosen) + 1;
  for (size_t i = 0; i < c->response_count; i++) need += strlen(c->response[i]) + 1;
  if (need <= cap) {
    size_t at = 0, n = strlen(chosen) + 1;
    memcpy(out, chosen, n);
    at += n;
    for (size_t i = 0; i < c->response_count; i++) {
      n = strlen(c->response[i]) + 1;
      memcpy(out + at, c->response[i], n);
      at += n;
    }
  }
  pthread_mutex_unlock(&g_lock);
  return need;
}

static void put_record(unsigned char *out, size_t *used, uint32_t token, uint32_t type, const unsigned char *data, uint32_t len) {
  put_u32(out + *used, token);
  put_u32(out + *used + 4, type);
  put_u32(out + *used + 8, len);
  if (len) memcpy(out + *used + WSG_RECORD_HEADER, data, len);
  *used += WSG_RECORD_HEADER + len;
}

/* Added to a positive wsg_drain result when more is pending (results stay below 2^32 + 12). */
#define WSG_MORE ((int64_t)1 << 40)

/* Copies c's queued items while they fit (JS hands the payloads on as views of `out`: this is
 * their only copy after the plugin's send). Returns 0 when emptied, else the size the next item needs. */
static size_t drain_conn_locked(wsg_conn *c, unsigned char *out, size_t cap, size_t *used) {
  while (c->head) {
    queued_item *it = c->head;
    size_t need = WSG_RECORD_HEADER + (size_t)it->len;
    if (*used + need > cap) return need;
    put_record(out, used, c->token, (uint32_t)it->type, it->data, it->len);
    c->head = it->next;
    if (!c->head) c->tail = NULL;
    c->queued_bytes -= ITEM_COST(it->len);
    g_queued_items--;
    g_queued_payload -= it->len;
    free(it);
  }
  return 0;
}

/* With g_lock held: hands JS the arena's records through the report (JS takes views of them before
 * the rest of `out`, whose first `split` bytes precede them), and switches to the arena JS gave next. */
static void take_arena_locked(size_t split) {
  if (!g_report) return;
  g_report[WSG_REPORT_TAKEN] = (uint32_t)g_arena_used;
  g_report[WSG_REPORT_SPLIT] = (uint32_t)split;
  g_report[WSG_REPORT_SWITCHED] = 0;
  if (g_arena_used) {
    g_arena += g_arena_used;
    g_arena_cap -= g_arena_used;
    g_arena_used = 0;
    g_arena_generation++;
    g_queued_items -= g_arena_items;
    g_queued_payload -= g_arena_payload;
    g_arena_items = g_arena_payload = 0;
  }
  if (g_arena_next) {
    g_arena = g_arena_next;
    g_arena_cap = g_arena_next_cap;
    g_arena_next = NULL;
    g_report[WSG_REPORT_SWITCHED] = 1;
  }
}

/* Where drains report the arena (WSG_REPORT_SIZE u32s JS keeps for the life of the process). */
WSG_API void wsg_arena_report(uint32_t *report) {
  pthread_mutex_lock(&g_lock);
  g_report = report;
  if (report) memset(report, 0, WSG_REPORT_SIZE * sizeof *report);
  pthread_mutex_unlock(&g_lock);
}

/* The arena after the current one (JS keeps `arena` alive): the next drain switches to it. */
WSG_API void wsg_arena_next(unsigned char *arena, size_t cap) {
  pthread_mutex_lock(&g_lock);
  g_arena_next = arena;
  g_arena_next_cap = cap;
  pthread_mutex_unlock(&g_lock);
}

/* Drains one connection (and releases it: later sends wake Node), or with c NULL the done list and
 * every ready connection; either way the whole arena first (reported, not copied). Returns bytes
 * written, plus WSG_MORE when more is pending; 0 when nothing is pending; -N when the next record
 * must be drained alone into a buffer of exactly N bytes. */
static int64_t drain_from(wsg_conn *c, unsigned char *out, size_t cap, size_t used) {
  size_t need = 0;
  int need_wake = 0;
  pthread_mutex_lock(&g_lock);
  if (c) {
    c->released = 1;
    take_arena_locked(used);
    need = drain_conn_locked(c, out, cap, &used);
    /* Left-overs beyond this batch also go through the ready list, in case JS stops taking them
     * now. Not for -N: JS drains that record at once into a buffer of its own. */
    if (need && used) need_wake = make_ready_locked(c);
  } else {
    /* Log lines first: one from on_disconnect must reach JS before the connection is freed. */
    while (g_log_head && used + WSG_RECORD_HEADER + g_log_head->len <= cap) {
      log_item *l = g_log_head;
      put_record(out, &used, l->token, WSG_RECORD_LOG, l->data, l->len);
      g_log_head = l->next;
      if (!g_log_head) g_log_tail = NULL;
      g_log_bytes -= l->len;
      free(l);
    }
    if (g_log_head) need = WSG_RECORD_HEADER + g_log_head->len;
    while (!need && g_done_head && used + WSG_RECORD_HEADER <= cap) {
      wsg_conn *d = g_done_head;
      put_record(out, &used, d->token, WSG_RECORD_DISCONNECTED, NULL, 0);
      g_done_head = d->done_next;
      if (!g_done_head) g_done_tail = NULL;
    }
    if (!need && g_done_head) need = WSG_RECORD_HEADER;
    take_arena_locked(used);
    while (!need && g_ready_head) {
      wsg_conn *r = g_ready_head;
      need = drain_conn_locked(r, out, cap, &used);
      if (need) break;
      g_ready_head = r->ready_next;
      if (!g_ready_head) g_ready_tail = NULL;
      r->in_ready = 0;
    }
    /* Everything handed over: the next send must wake Node again. Otherwise JS keeps draining. */
    if (!need) g_signaled = 0;
  }
  pthread_mutex_unlock(&g_lock);
  if (need_wake) wake();
  if (used == 0 && need) return -(int64_t)need;
  return (int64_t)used + (need ? WSG_MORE : 0);
}

/* `out` + `at` … `out` + `cap`: where the records go. JS's buffer is written from the front and
 * handed on in views, so its next call writes after what the last one used (`at`). Narrows
 * `out` and `cap` to that window; 0 when `at` is past the end (nothing may be written). */
static int records_window(unsigned char **out, size_t at, size_t *cap) {
  if (at > *cap) return 0;
  *out += at;
  *cap -= at;
  return 1;
}

WSG_API int64_t wsg_drain(wsg_conn *c, unsigned char *out, size_t at, size_t cap) {
  if (!records_window(&out, at, &cap)) return 0;
  return drain_from(c, out, cap, 0);
}

/* on_message's sends go into `out` while they can (tl_out), then the queue follows them. */
static void in_message_begin(wsg_conn *c, unsigned char *out, size_t cap, int frames) {
  tl_in_message = c;
  tl_out = out;
  tl_cap = cap;
  tl_used = 0;
  tl_direct_cost = 0;
  tl_frames = frames;
  tl_frames_at = tl_frames_end = 0;
}

static int64_t in_message_end(wsg_conn *c, unsigned char *out, size_t cap) {
  size_t used = tl_used;
  tl_in_message = NULL;
  tl_out = NULL;
  tl_frames = 0;
  return drain_from(c, out, cap, used);
}

/* The close handshake started on the JS side (the peer's close, a 1001 at shutdown, a keepalive
 * or queue failure): from now on the plugin's sends return 0, as they did in mod_websocket. What
 * is already queued still goes out. */
WSG_API void wsg_conn_closing(wsg_conn *c) {
  pthread_mutex_lock(&g_lock);
  if (takes_sends_locked(c)) set_state_locked(c, CONN_CLOSING);
  pthread_mutex_unlock(&g_lock);
}

/* on_message for each message of a batch, then one drain: JS makes one call per socket read instead
 * of one per message. The messages lie in `base` (the buffer of the read that brought them, which JS
 * holds), each named by [u32 type][u32 offset][u32 length] in `index`, so none is copied, and a send
 * of a message's own bytes becomes an input slice of `base`. A connection that starts closing
 * meanwhile (the plugin's close, its queue over the cap) hears none of the batch's later messages,
 * as one message at a time it would not: a plugin bursting on each of a thousand queued commands
 * would otherwise make millions of refused sends in this one call, on the JS thread. `frames`: the
 * connection's frames carry no extension, so text and binary replies may come framed (WSG_RECORD_FRAMES).
 * `out`, `at` and `cap` as for wsg_drain. */
WSG_API int64_t wsg_conn_messages(wsg_conn *c, unsigned char *base, size_t base_size, const uint32_t *index, size_t count,
                                  unsigned char *out, size_t at, size_t cap, int frames) {
  if (!records_window(&out, at, &cap)) return 0;
  in_message_begin(c, out, cap, frames);
  tl_input = base_size ? base : NULL;
  tl_input_len = base_size;
  for (size_t i = 0; i < count; i++) {
    if (!takes_sends_in(__atomic_load_n(&c->state, __ATOMIC_RELAXED))) break;
    uint32_t type = index[3 * i], offset = index[3 * i + 1], length = index[3 * i + 2];
    if (offset > base_size || length > base_size - offset) break;
    c->plugin->plugin->on_message(c->priv, &c->server, (int)type, length ? base + offset : NULL, length);
  }
  tl_input = NULL;
  tl_input_len = 0;
  return in_message_end(c, out, cap);
}

/* Calls on_message on the JS thread, then drains what the plugin queued, keeping reply order.
 * `frames` as for wsg_conn_messages, `out`, `at` and `cap` as for wsg_drain. */
WSG_API int64_t wsg_conn_message(wsg_conn *c, int type, unsigned char *buf, size_t size, unsigned char *out, size_t at, size_t cap,
                                 int frames) {
  if (!records_window(&out, at, &cap)) return 0;
  in_message_begin(c, out, cap, frames);
  tl_input = size ? buf : NULL;
  tl_input_len = size;
  c->plugin->plugin->on_message(c->priv, &c->server, type, size ? buf : NULL, size);
  tl_input = NULL;
  tl_input_len = 0;
  return in_message_end(c, out, cap);
}

static void *disconnect_thread(void *arg) {
  wsg_conn *c = arg;
  c->plugin->plugin->on_disconnect(c->priv, &c->server);
  pthread_mutex_lock(&g_lock);
  set_state_locked(c, CONN_DONE);
  c->done_next = NULL;
  if (g_done_tail) g_done_tail->done_next = c; else g_done_head = c;
  g_done_tail = c;
  int need_wake = signal_locked();
  pthread_mutex_unlock(&g_lock);
  if (need_wake) wake();
  return NULL;
}

/* Stops sends (they return 0 from now on) and runs on_disconnect on a helper thread, never the JS
 * thread: a plugin joining its own thread there cannot block Node. Returns 1 when a
 * WSG_RECORD_DISCONNECTED record will follow, 0 when the connection is already done. */
WSG_API int wsg_conn_disconnect(wsg_conn *c) {
  pthread_mutex_lock(&g_lock);
  int declined = c->state == CONN_DECLINED;
  set_state_locked(c, declined ? CONN_DECLINED : CONN_DISCONNECTING);
  discard_queue_locked(c);
  remove_ready_locked(c);
  pthread_mutex_unlock(&g_lock);
  if (declined || !c->plugin->plugin->on_disconnect) {
    pthread_mutex_lock(&g_lock);
    if (!declined) set_state_locked(c, CONN_DONE);
    pthread_mutex_unlock(&g_lock);
    return 0;
  }
  pthread_attr_t attr;
  pthread_t thread;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int rc = pthread_create(&thread, &attr, disconnect_thread, c);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    /* No thread available: run it here; sends cannot block, so this cannot deadlock. */
    c->plugin->plugin->on_disconnect(c->priv, &c->server);
    pthread_mutex_lock(&g_lock);
    set_state_locked(c, CONN_DONE);
    pthread_mutex_unlock(&g_lock);
    return 0;
  }
  return 1;
}

/* After on_disconnect returned (or for a declined connection): frees everything and the APR pool. */
WSG_API void wsg_conn_free(wsg_conn *c) {
  if (!c) return;
  pthread_mutex_lock(&g_lock);
  discard_queue_locked(c);
  remove_ready_locked(c);
  g_live_conns--;
  pthread_mutex_unlock(&g_lock);
  if (c->pool && g_pool_destroy) g_pool_destroy(c->pool);
  free(c->fake_request);
  for (size_t i = 0; i < c->response_count; i++) free(c->response[i]);
  free(c->response);
  free(c->chosen_protocol);
  free_strings(&c->headers);
  free_strings(&c->protocols);
  free_strings(&c->facts);
  free(c);
}
