/* wsload: a closed-loop WebSocket echo load generator in C, so the client costs far less CPU than the
 * servers it measures on the same small machine. Compiled by the benches with the system cc.
 *
 *   wsload HOST PORT PATH CONNECTIONS WINDOW SIZE SECONDS [text]
 *
 * Opens CONNECTIONS RFC 6455 connections to ws://HOST:PORT/PATH, keeps WINDOW masked binary (or, with
 * `text`, text) messages of SIZE bytes in flight on each (every echo that comes back lets the next one
 * go) for SECONDS, then waits for the echoes still in flight and prints one line:
 * `echoes N seconds S p50_us A p99_us B` (round-trip latency: an echo comes back in the order its
 * message went, so each connection keeps its send times in a ring of WINDOW). Echoes are counted by
 * bytes (the server's frame for SIZE bytes has a known length); frames are not parsed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  int fd;
  size_t pending;   /* bytes of the echo frame being received */
  int in_flight;
  int done;
  double *sent_at; /* ring of WINDOW send times, oldest at `oldest` */
  int oldest;
} conn_t;

static double *samples;
static size_t nsamples, samples_cap;

static void record_latency(double seconds) {
  if (nsamples == samples_cap) {
    samples_cap = samples_cap ? samples_cap * 2 : 1 << 16;
    samples = realloc(samples, samples_cap * sizeof *samples);
    if (!samples) {
      perror("realloc");
      exit(1);
    }
  }
  samples[nsamples++] = seconds;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void write_all(int fd, const unsigned char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      die("write");
    }
    buf += n;
    len -= (size_t)n;
  }
}

/* Connects and completes the opening handshake (blocking); returns the fd. */
static int open_ws(const char *host, int port, const char *path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) die("inet_pton");
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char req[512];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                   path, host, port);
  write_all(fd, (const unsigned char *)req, (size_t)n);
  char head[2048];
  size_t got = 0;
  while (got < sizeof head - 1) {
    ssize_t r = read(fd, head + got, 1); /* byte by byte: nothing after the head is consumed */
    if (r <= 0) die("handshake read");
    got += (size_t)r;
    head[got] = 0;
    if (got >= 4 && memcmp(head + got - 4, "\r\n\r\n", 4) == 0) break;
  }
  if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
    fprintf(stderr, "no 101: %s\n", head);
    exit(1);
  }
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 8 && !(argc == 9 && strcmp(argv[8], "text") == 0)) {
    fprintf(stderr, "usage: wsload HOST PORT PATH CONNECTIONS WINDOW SIZE SECONDS [text]\n");
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]);
  const char *path = argv[3];
  int nconn = atoi(argv[4]);
  int window = atoi(argv[5]);
  size_t size = (size_t)atol(argv[6]);
  double seconds = atof(argv[7]);

  /* One masked binary frame, and a burst of `window` of them. */
  size_t ext = size < 126 ? 0 : size < 65536 ? 2 : 8;
  size_t frame_len = 2 + ext + 4 + size;
  unsigned char *frame = malloc(frame_len);
  if (!frame) die("malloc");
  frame[0] = argc == 9 ? 0x81 : 0x82; /* the payload is ASCII: valid UTF-8 */
  if (ext == 0) frame[1] = (unsigned char)(0x80 | size);
  else if (ext == 2) {
    frame[1] = 0x80 | 126;
    frame[2] = (unsigned char)(size >> 8);
    frame[3] = (unsigned char)size;
  } else {
    frame[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++) frame[2 + i] = (unsigned char)((unsigned long long)size >> (56 - 8 * i));
  }
  const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  memcpy(frame + 2 + ext, mask, 4);
  for (size_t i = 0; i < size; i++) frame[2 + ext + 4 + i] = (unsigned char)(0x62 ^ mask[i & 3]);
  unsigned char *burst = malloc(frame_len * (size_t)window);
  if (!burst) die("malloc");
  for (int i = 0; i < window; i++) memcpy(burst + frame_len * (size_t)i, frame, frame_len);
  size_t echo_len = 2 + ext + size; /* the server's frame is unmasked */

  int ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  conn_t *conns = calloc((size_t)nconn, sizeof *conns);
  if (!conns) die("calloc");
  for (int i = 0; i < nconn; i++) {
    conns[i].fd = open_ws(host, port, path);
    conns[i].sent_at = calloc((size_t)window, sizeof(double));
    if (!conns[i].sent_at) die("calloc");
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) < 0) die("epoll_ctl");
  }

  double start = now();
  double deadline = start + seconds;
  for (int i = 0; i < nconn; i++) {
    write_all(conns[i].fd, burst, frame_len * (size_t)window);
    conns[i].in_flight = window;
    for (int k = 0; k < window; k++) conns[i].sent_at[k] = start;
  }
  long long echoes = 0;
  int running = nconn;
  static unsigned char buf[1 << 18];
  struct epoll_event events[256];
  while (running > 0) {
    int n = epoll_wait(ep, events, 256, 1000);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    int sending = now() < deadline;
    for (int e = 0; e < n; e++) {
      conn_t *c = events[e].data.ptr;
      ssize_t r = read(c->fd, buf, sizeof buf);
      if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        fprintf(stderr, "connection closed by the server\n");
        return 1;
      }
      c->pending += (size_t)r;
      int back = (int)(c->pending / echo_len);
      c->pending %= echo_len;
      echoes += back;
      c->in_flight -= back;
      double t = back > 0 ? now() : 0;
      /* The ring holds the in-flight messages oldest first; the ones back free their slots, which the
       * messages sent now take (a closed loop: at most WINDOW in flight). */
      for (int k = 0; k < back; k++) {
        int slot = (c->oldest + k) % window;
        record_latency(t - c->sent_at[slot]);
        c->sent_at[slot] = t;
      }
      c->oldest = (c->oldest + back) % window;
      if (sending && back > 0) {
        write_all(c->fd, burst, frame_len * (size_t)back);
        c->in_flight += back;
      } else if (!sending && c->in_flight == 0 && !c->done) {
        c->done = 1;
        running--;
      }
    }
  }
  double elapsed = now() - start;
  qsort(samples, nsamples, sizeof *samples, by_value);
  double p50 = nsamples ? samples[nsamples / 2] : 0, p99 = nsamples ? samples[(size_t)(nsamples * 0.99)] : 0;
  printf("echoes %lld seconds %.6f p50_us %.0f p99_us %.0f\n", echoes, elapsed, p50 * 1e6, p99 * 1e6);
  return 0;
}
