/* floor-echo: the least a WebSocket echo server can do, for bench/hotpath.bench.mjs's "floor" row:
 * one thread, epoll, no allocation per message. Each read is parsed in place, every complete frame
 * unmasked and its echo appended to the connection's output, and the output written once per read:
 * the kernel's copies and TCP are all that is left, and one copy of each message into the output.
 * It is not a server to use: no fragmentation, control frames, close handshake, UTF-8 validation or
 * limits; a frame it does not handle ends the connection. What it costs, and how its latency spreads
 * under the same load, is the floor the other rows stand on, on the same machine.
 *
 *   floor-echo PORT     (0: any free port; prints `port N` once listening on 127.0.0.1)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  int fd;
  int upgraded;
  unsigned char *in; /* bytes read and not yet parsed */
  size_t in_len, in_cap;
  unsigned char *out; /* echoes not yet taken by the kernel */
  size_t out_off, out_len, out_cap;
  int blocked; /* the kernel took not all of out: the rest goes on EPOLLOUT */
} conn_t;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void reserve(unsigned char **buf, size_t *cap, size_t need) {
  if (need <= *cap) return;
  size_t cap2 = *cap ? *cap : 1 << 16;
  while (cap2 < need) cap2 *= 2;
  *buf = realloc(*buf, cap2);
  if (!*buf) die("realloc");
  *cap = cap2;
}

/* ---- SHA-1 (FIPS 180-4), for Sec-WebSocket-Accept only */

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1(const unsigned char *msg, size_t len, unsigned char digest[20]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  size_t padded = ((len + 8) / 64 + 1) * 64;
  unsigned char *m = calloc(padded, 1);
  if (!m) die("calloc");
  memcpy(m, msg, len);
  m[len] = 0x80;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) m[padded - 1 - i] = (unsigned char)(bits >> (8 * i));
  for (size_t block = 0; block < padded; block += 64) {
    uint32_t w[80];
    for (int t = 0; t < 16; t++)
      w[t] = (uint32_t)m[block + 4 * t] << 24 | (uint32_t)m[block + 4 * t + 1] << 16 | (uint32_t)m[block + 4 * t + 2] << 8 | m[block + 4 * t + 3];
    for (int t = 16; t < 80; t++) w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++) {
      uint32_t f, k;
      if (t < 20) f = (b & c) | (~b & d), k = 0x5A827999;
      else if (t < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
      else if (t < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
      else f = b ^ c ^ d, k = 0xCA62C1D6;
      uint32_t next = rol(a, 5) + f + e + k + w[t];
      e = d, d = c, c = rol(b, 30), b = a, a = next;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
  }
  free(m);
  for (int i = 0; i < 20; i++) digest[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
}

static void base64(const unsigned char *in, size_t len, char *out) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < len ? in[i + 2] : 0);
    out[o++] = abc[v >> 18 & 63];
    out[o++] = abc[v >> 12 & 63];
    out[o++] = i + 1 < len ? abc[v >> 6 & 63] : '=';
    out[o++] = i + 2 < len ? abc[v & 63] : '=';
  }
  out[o] = 0;
}

/* ---- connections */

static void drop(int ep, conn_t *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->in);
  free(c->out);
  free(c);
}

/* Writes what the kernel takes; the rest waits for EPOLLOUT. 0: the connection failed. */
static int flush(int ep, conn_t *c) {
  while (c->out_off < c->out_len) {
    ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return 0;
      if (!c->blocked) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->blocked = 1;
      }
      return 1;
    }
    c->out_off += (size_t)n;
  }
  c->out_off = c->out_len = 0;
  if (c->blocked) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->blocked = 0;
  }
  return 1;
}

static void append(conn_t *c, const unsigned char *bytes, size_t len) {
  reserve(&c->out, &c->out_cap, c->out_len + len);
  memcpy(c->out + c->out_len, bytes, len);
  c->out_len += len;
}

/* The request head is in; answers 101. 0: not a WebSocket request this server can answer. */
static int handshake(conn_t *c, size_t head_len) {
  static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  c->in[head_len - 1] = 0;
  const char *key = strcasestr((const char *)c->in, "\r\nSec-WebSocket-Key:");
  if (!key) return 0;
  key += 20;
  while (*key == ' ') key++;
  size_t key_len = strcspn(key, "\r\n ");
  if (key_len != 24) return 0;
  unsigned char joined[24 + sizeof guid - 1], digest[20];
  memcpy(joined, key, 24);
  memcpy(joined + 24, guid, sizeof guid - 1);
  sha1(joined, sizeof joined, digest);
  char accept[29], response[160];
  base64(digest, 20, accept);
  int n = snprintf(response, sizeof response,
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
  append(c, (const unsigned char *)response, (size_t)n);
  return 1;
}

/* XORs the payload with the 4-byte key, 8 bytes at a time. */
static void unmask(unsigned char *payload, size_t len, const unsigned char key[4]) {
  uint64_t key8;
  unsigned char k[8];
  for (int i = 0; i < 8; i++) k[i] = key[i & 3];
  memcpy(&key8, k, 8);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t word;
    memcpy(&word, payload + i, 8);
    word ^= key8;
    memcpy(payload + i, &word, 8);
  }
  for (; i < len; i++) payload[i] ^= key[i & 3];
}

/* Echoes every complete frame in c->in and keeps the incomplete rest. 0: a frame it cannot handle. */
static int echo_frames(conn_t *c) {
  size_t at = 0;
  while (c->in_len - at >= 2) {
    const unsigned char *f = c->in + at;
    int opcode = f[0] & 0x0f;
    if (!(f[0] & 0x80) || (opcode != 1 && opcode != 2) || !(f[1] & 0x80)) return 0;
    uint64_t len = f[1] & 0x7f;
    size_t head = 2;
    if (len == 126) {
      if (c->in_len - at < 4) break;
      len = (uint64_t)f[2] << 8 | f[3];
      head = 4;
    } else if (len == 127) {
      if (c->in_len - at < 10) break;
      len = 0;
      for (int i = 0; i < 8; i++) len = len << 8 | f[2 + i];
      head = 10;
    }
    if (c->in_len - at < head + 4 + len) break;
    unsigned char *payload = c->in + at + head + 4;
    unmask(payload, (size_t)len, f + head);
    unsigned char out_head[10];
    size_t out_head_len = 2;
    out_head[0] = f[0];
    if (len < 126) out_head[1] = (unsigned char)len;
    else if (len < 65536) out_head[1] = 126, out_head[2] = (unsigned char)(len >> 8), out_head[3] = (unsigned char)len, out_head_len = 4;
    else {
      out_head[1] = 127, out_head_len = 10;
      for (int i = 0; i < 8; i++) out_head[2 + i] = (unsigned char)(len >> (56 - 8 * i));
    }
    append(c, out_head, out_head_len);
    append(c, payload, (size_t)len);
    at += head + 4 + (size_t)len;
  }
  memmove(c->in, c->in + at, c->in_len - at);
  c->in_len -= at;
  return 1;
}

/* Reads what there is, answers it with one write. 0: the connection is over. */
static int readable(int ep, conn_t *c) {
  reserve(&c->in, &c->in_cap, c->in_len + (1 << 16));
  ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  if (n == 0) return 0;
  c->in_len += (size_t)n;
  if (!c->upgraded) {
    unsigned char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end) return c->in_len < 8192;
    size_t head_len = (size_t)(end - c->in) + 4;
    if (!handshake(c, head_len)) return 0;
    memmove(c->in, c->in + head_len, c->in_len - head_len);
    c->in_len -= head_len;
    c->upgraded = 1;
  }
  if (!echo_frames(c)) return 0;
  return c->blocked ? 1 : flush(ep, c);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: floor-echo PORT\n");
    return 2;
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(lfd, 512) < 0) die("listen");
  socklen_t addr_len = sizeof addr;
  getsockname(lfd, (struct sockaddr *)&addr, &addr_len);
  printf("port %d\n", ntohs(addr.sin_port));
  fflush(stdout);

  int ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int e = 0; e < n; e++) {
      conn_t *c = events[e].data.ptr;
      if (c == NULL) {
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn_t *nc = calloc(1, sizeof *nc);
          if (!nc) die("calloc");
          nc->fd = fd;
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        }
        continue;
      }
      int alive = 1;
      if (events[e].events & EPOLLOUT) alive = flush(ep, c);
      if (alive && (events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) alive = readable(ep, c);
      if (!alive) drop(ep, c);
    }
  }
}
