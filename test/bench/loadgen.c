/* loadgen.c -- the fan-out benchmark's clients, in C: N connections, one epoll loop.
 *
 * fanout.ts compiles this file once (cc -O2, into test/bench/out/bin) and runs
 * it for every cell. The load used to be a Node process, and a Node process
 * measuring a 0.2 ms tail adds one of its own: its garbage collector, its
 * timers and its event loop sit between the socket and the timestamp. Here
 * a delivery is timestamped by the first thing that runs after epoll_wait()
 * says its socket is readable, and a line is stamped just before write().
 *
 * The configuration arrives on stdin, one "key value" per line:
 *
 *     proto chat|resp   mode flat|rate   rate <deliveries/s, all clients>
 *     window <lines in flight, all clients>   warmup_ms N   measure_ms N
 *     slices N          host 127.0.0.1     port N (once per node)
 *     client <group>[\t<setup line>]...      (once per client, in order)
 *
 * and the program answers on stdout, one line each:
 *
 *     ready             every client is connected, set up and synced
 *     measuring         the measured window starts
 *     stopped           the senders stopped; now draining
 *     report {...}      the numbers, as JSON (see LoadReport in fanout.ts)
 *     error <why>       and exit 1
 *
 * Every line a client sends carries a marker, as in the Node load before it:
 *
 *     ~b <phase> <sender> <seq> <sendTimeNs> ~e
 *
 * phase w (warm-up), m (measured) or s (sync). Receivers scan the byte
 * stream for markers rather than counting lines (step 01 merges and splits
 * lines). The time is CLOCK_MONOTONIC in nanoseconds: one process sends and
 * receives, so one clock. The latency of a delivery is receipt minus send,
 * recorded in microseconds (as a double, rounded to the nearest) in the
 * histogram of stats.ts: exact below 128 us, within 1/64 above.
 *
 * Redis (proto resp): each client is two connections, one SUBSCRIBEd to
 * c<group>, one that PUBLISHes the same marker lines; the sender's own
 * subscriber hears its line, so a line to a group of N is N deliveries.
 *
 * Fixed rate: one schedule for the whole load. Line j is due at
 * start + j / lineRate and goes to sender j mod senders, so the server sees
 * a steady stream (a line every 90 us at 100k deliveries/s to 10 clients),
 * not bursts every timer tick. The loop sleeps in epoll_pwait2() until the
 * next line is due, with a 1 us timer slack.
 *
 * Flat-out: a window of lines in flight, shared by all clients; a sender's
 * line is acknowledged when the next client of its group (its acker)
 * receives it, and the freed slot goes to the next sender in turn.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ============================ Histogram ===================================
 * The same buckets as stats.ts, so fanout.ts can merge and read it. */

#define SUB_BUCKETS 64
#define LINEAR_LIMIT (2 * SUB_BUCKETS)
#define HISTOGRAM_SIZE (LINEAR_LIMIT + 25 * SUB_BUCKETS)
static uint64_t histogram[HISTOGRAM_SIZE];

static void record(double micros) {
  uint64_t v = micros < 0 ? 0 : (uint64_t)(micros + 0.5);
  if (v > 0x7fffffff) v = 0x7fffffff;
  int b;
  if (v < LINEAR_LIMIT) {
    b = (int)v;
  } else {
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - 6;
    b = LINEAR_LIMIT + (shift - 1) * SUB_BUCKETS + (int)((v >> shift) - SUB_BUCKETS);
  }
  histogram[b]++;
}

/* ============================ Utilities =================================== */

static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("error ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
  exit(1);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void say(const char *line) {
  printf("%s\n", line);
  fflush(stdout);
}

/* ============================ Connections ================================= */

typedef struct {
  int fd;
  char *out;         /* Bytes the kernel did not take yet. */
  size_t outlen, outcap;
  int want_out;      /* Registered for EPOLLOUT. */
} Conn;

typedef struct Client {
  int idx, group;
  Conn in;           /* Reads: the chat socket, or the subscriber. */
  Conn pub;          /* RESP: the publisher (fd -1 for chat: writes go to `in`). */
  char **setup;
  int nsetup;
  int welcomed, barrier_done, closed;
  char hello[256];   /* The welcome (or SUBSCRIBE reply) so far. */
  size_t hellolen;
  char barrier[512];
  size_t barrierlen;
  char tail[64];     /* A marker cut by the end of a read. */
  size_t taillen;
  uint64_t seq;
  int sync_seen;
  int acks;          /* Flat-out: index of the sender this client acks for, or -1. */
} Client;

static int proto_resp, mode_flat, nclients, nports;
static int ports[16];
static char host[64] = "127.0.0.1";
static double rate = 20000;
static long window_lines = 1000, warmup_ms = 1000, measure_ms = 3000, nslices = 6;
static Client *clients;
static int *group_size;
static int max_group = 0;
static int epfd;
static char phase = 'w';
static int sending = 0;
static uint64_t sent, expected, received, corrupt, closed_count;
static uint64_t *slices;
static int64_t measure_start, slice_ns;
static int *senders, nsenders, turn;
static long freed;

static int recipients(const Client *c) {
  int size = group_size[c->group];
  return proto_resp ? size : size - 1;
}

static void watch(Conn *k, uint32_t id, uint32_t events, int op) {
  struct epoll_event ev = {.events = events, .data.u32 = id};
  if (epoll_ctl(epfd, op, k->fd, &ev) < 0) fail("epoll_ctl: %s", strerror(errno));
}

static int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fail("socket: %s", strerror(errno));
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, host, &sa.sin_addr);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) fail("connect %d: %s", port, strerror(errno));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

/* Write bytes to a connection: what the kernel does not take waits in
 * k->out for EPOLLOUT, so a slow server never blocks the whole load. */
static void conn_write(Conn *k, uint32_t id, const char *p, size_t n) {
  if (k->fd < 0) return;
  if (k->outlen == 0) {
    ssize_t w = write(k->fd, p, n);
    if (w < 0 && errno != EAGAIN) return; /* The read side notices the close. */
    if (w > 0) {
      p += w;
      n -= (size_t)w;
    }
    if (n == 0) return;
  }
  if (k->outlen + n > k->outcap) {
    k->outcap = (k->outlen + n) * 2;
    k->out = realloc(k->out, k->outcap);
    if (!k->out) fail("out of memory");
  }
  memcpy(k->out + k->outlen, p, n);
  k->outlen += n;
  if (!k->want_out) {
    k->want_out = 1;
    watch(k, id, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
  }
}

static void conn_flush(Conn *k, uint32_t id) {
  while (k->outlen > 0) {
    ssize_t w = write(k->fd, k->out, k->outlen);
    if (w <= 0) {
      if (w < 0 && errno == EAGAIN) return;
      k->outlen = 0;
      break;
    }
    memmove(k->out, k->out + w, k->outlen - (size_t)w);
    k->outlen -= (size_t)w;
  }
  k->want_out = 0;
  watch(k, id, EPOLLIN, EPOLL_CTL_MOD);
}

/* Connection ids for epoll: 2*i is client i's reading socket, 2*i+1 its publisher. */
static Conn *conn_of(uint32_t id) {
  Client *c = &clients[id / 2];
  return id % 2 ? &c->pub : &c->in;
}

/* Send n marker lines from client c, in one write. */
static void send_lines(Client *c, int n) {
  if (c->closed || n <= 0) return;
  char buf[8192];
  size_t len = 0;
  for (int k = 0; k < n; k++) {
    if (len + 200 > sizeof buf) {
      Conn *k2 = proto_resp ? &c->pub : &c->in;
      conn_write(k2, (uint32_t)(2 * c->idx + (proto_resp ? 1 : 0)), buf, len);
      len = 0;
    }
    char line[96];
    int ll = snprintf(line, sizeof line, "~b %c %d %llu %lld ~e\n", phase, c->idx,
                      (unsigned long long)c->seq++, (long long)now_ns());
    if (proto_resp) {
      len += (size_t)snprintf(buf + len, sizeof buf - len,
                              "*3\r\n$7\r\nPUBLISH\r\n$%d\r\nc%d\r\n$%d\r\n%s\r\n",
                              snprintf(NULL, 0, "c%d", c->group), c->group, ll, line);
    } else {
      memcpy(buf + len, line, (size_t)ll);
      len += (size_t)ll;
    }
  }
  if (phase == 'm') {
    sent += (uint64_t)n;
    expected += (uint64_t)n * (uint64_t)recipients(c);
  }
  Conn *k = proto_resp ? &c->pub : &c->in;
  conn_write(k, (uint32_t)(2 * c->idx + (proto_resp ? 1 : 0)), buf, len);
}

/* Flat-out: give `slots` freed window slots to the next senders in turn. */
static void send_turns(long slots) {
  if (nsenders == 0) return;
  while (slots > 0) {
    Client *c = &clients[senders[turn]];
    turn = (turn + 1) % nsenders;
    /* Consecutive slots for the same sender (fewer senders than slots) go in one write. */
    long n = slots / nsenders + (slots % nsenders ? 1 : 0);
    if (n > slots) n = slots;
    if (n < 1) n = 1;
    send_lines(c, (int)n);
    slots -= n;
  }
}

/* ============================ Receiving =================================== */

static void on_marker(Client *c, char ph, int sender, int64_t t, int64_t now) {
  if (ph == 's') {
    c->sync_seen++;
    return;
  }
  if (phase == 'm' && measure_start > 0) {
    int64_t s = (now - measure_start) / slice_ns;
    if (s >= 0 && s < nslices) slices[s]++;
  }
  if (ph == 'm') {
    received++;
    record((double)(now - t) / 1000.0);
  }
  if (mode_flat && c->acks == sender) freed++;
}

/* Parse "<phase> <sender> <seq> <time> ~e" at p (just after "~b ").
 * Returns bytes consumed, 0 if the buffer ends first, -1 if invalid. */
static long parse_marker(const char *p, const char *end, Client *c, int64_t now) {
  const char *s = p;
  if (p >= end) return 0;
  char ph = *p++;
  if (ph != 'w' && ph != 'm' && ph != 's') return -1;
  int64_t f[3] = {0, 0, 0};
  for (int i = 0; i < 3; i++) {
    if (p >= end) return 0;
    if (*p != ' ') return -1;
    p++;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9') {
      f[i] = f[i] * 10 + (*p - '0');
      p++;
      digits++;
    }
    if (p >= end) return 0;
    if (digits == 0) return -1;
  }
  if (end - p < 3) return 0;
  if (p[0] != ' ' || p[1] != '~' || p[2] != 'e') return -1;
  on_marker(c, ph, (int)f[0], f[2], now);
  return (p + 3) - s;
}

static void scan(Client *c, const char *data, size_t n, int64_t now) {
  char joined[64 + 65536];
  const char *buf = data, *end = data + n;
  if (c->taillen > 0) {
    memcpy(joined, c->tail, c->taillen);
    memcpy(joined + c->taillen, data, n);
    buf = joined;
    end = joined + c->taillen + n;
    c->taillen = 0;
  }
  const char *p = buf;
  for (;;) {
    const char *at = memmem(p, (size_t)(end - p), "~b ", 3);
    if (!at) {
      /* Keep a possible start of a marker ("~" or "~b") for the next read. */
      const char *keep = end - 2 > p ? end - 2 : p;
      const char *t = memchr(keep, '~', (size_t)(end - keep));
      if (t) {
        c->taillen = (size_t)(end - t);
        memcpy(c->tail, t, c->taillen);
      }
      return;
    }
    long r = parse_marker(at + 3, end, c, now);
    if (r == 0) {
      size_t keep = (size_t)(end - at);
      if (keep > sizeof c->tail) {
        corrupt++;
        return;
      }
      memcpy(c->tail, at, keep);
      c->taillen = keep;
      return;
    }
    if (r < 0) {
      corrupt++;
      p = at + 1;
      continue;
    }
    p = at + 3 + r;
  }
}

static void on_close(Client *c) {
  if (!c->closed) closed_count++;
  c->closed = 1;
}

/* Read everything a connection has. The time is taken once per read: the
 * moment the bytes became ours. */
static void on_readable(uint32_t id) {
  Client *c = &clients[id / 2];
  Conn *k = conn_of(id);
  static char buf[65536];
  for (;;) {
    ssize_t r = read(k->fd, buf, sizeof buf);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
      epoll_ctl(epfd, EPOLL_CTL_DEL, k->fd, NULL);
      close(k->fd);
      k->fd = -1;
      on_close(c);
      return;
    }
    if (r < 0) return;
    int64_t now = now_ns();
    if (id % 2) continue; /* The publisher's ":<receivers>" replies. */
    const char *p = buf;
    size_t n = (size_t)r;
    if (!c->welcomed) {
      size_t take = n < sizeof c->hello - 1 - c->hellolen ? n : sizeof c->hello - 1 - c->hellolen;
      memcpy(c->hello + c->hellolen, p, take);
      c->hellolen += take;
      c->hello[c->hellolen] = 0;
      const char *mark = proto_resp ? ":1\r\n" : "\n";
      char *e = strstr(c->hello, mark);
      if (!e) continue;
      c->welcomed = 1;
      size_t used = (size_t)(e - c->hello) + strlen(mark) - (c->hellolen - take);
      p += used;
      n -= used;
    }
    if (!c->barrier_done && c->nsetup > 0) {
      /* The barrier's reply may come after any amount of other lines (the
       * other clients' /join notices, relayed by every node): look at all
       * of it, keeping only the tail a reply split across reads could
       * start in, not the first 511 bytes. */
      static const char marker[] = "Unsupported command";
      const size_t keep = sizeof marker - 2; /* strlen(marker) - 1 */
      const char *q = p;
      size_t left = n;
      while (left > 0 && !c->barrier_done) {
        if (c->barrierlen == sizeof c->barrier - 1) {
          memmove(c->barrier, c->barrier + c->barrierlen - keep, keep);
          c->barrierlen = keep;
        }
        size_t room = sizeof c->barrier - 1 - c->barrierlen;
        size_t take = left < room ? left : room;
        memcpy(c->barrier + c->barrierlen, q, take);
        c->barrierlen += take;
        c->barrier[c->barrierlen] = 0;
        q += take;
        left -= take;
        if (strstr(c->barrier, marker)) c->barrier_done = 1;
      }
    }
    if (n > 0) scan(c, p, n, now);
  }
}

/* ============================ The loop ==================================== */

/* Run the loop until `deadline` (ns) or until done() says so. */
static void loop_until(int64_t deadline, int (*done)(void), void (*tick)(int64_t now, int64_t *next)) {
  struct epoll_event evs[256];
  for (;;) {
    int64_t now = now_ns();
    if (done && done()) return;
    if (now >= deadline) return;
    int64_t next = deadline;
    if (tick) tick(now, &next);
    now = now_ns();
    int64_t wait = next - now;
    if (wait < 0) wait = 0;
    struct timespec ts = {.tv_sec = wait / 1000000000, .tv_nsec = wait % 1000000000};
    int n = epoll_pwait2(epfd, evs, 256, &ts, NULL);
    if (n < 0 && errno != EINTR) fail("epoll_pwait2: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
      uint32_t id = evs[i].data.u32;
      Conn *k = conn_of(id);
      if (k->fd < 0) continue;
      if (evs[i].events & EPOLLOUT) conn_flush(k, id);
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(id);
    }
    if (freed > 0 && sending) send_turns(freed);
    freed = 0;
  }
}

static int all_welcomed(void) {
  for (int i = 0; i < nclients; i++)
    if (!clients[i].welcomed) return 0;
  return 1;
}

static int all_barriers(void) {
  for (int i = 0; i < nclients; i++)
    if (clients[i].nsetup > 0 && !clients[i].barrier_done) return 0;
  return 1;
}

static int all_synced(void) {
  for (int i = 0; i < nclients; i++)
    if (clients[i].sync_seen < recipients(&clients[i])) return 0;
  return 1;
}

/* Fixed rate: send every line that is due, say when the next one is. */
static int64_t rate_start;
static double line_interval_ns;
static uint64_t lines_sent;
static void rate_tick(int64_t now, int64_t *next) {
  if (!sending || nsenders == 0) return;
  for (;;) {
    int64_t due = rate_start + (int64_t)(lines_sent * line_interval_ns);
    if (due > now) {
      if (due < *next) *next = due;
      return;
    }
    send_lines(&clients[senders[lines_sent % (uint64_t)nsenders]], 1);
    lines_sent++;
  }
}

static uint64_t drain_last;
static int64_t drain_change;
static int drained(void) {
  if (received >= expected) return 1;
  int64_t now = now_ns();
  if (received != drain_last) {
    drain_last = received;
    drain_change = now;
  } else if (now - drain_change > 1000000000) {
    return 1;
  }
  return 0;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

/* ============================ Main ======================================== */

static void read_config(void) {
  char line[4096];
  int cap = 0;
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    char *val = strchr(line, ' ');
    if (!val) continue;
    *val++ = 0;
    if (!strcmp(line, "proto")) proto_resp = !strcmp(val, "resp");
    else if (!strcmp(line, "mode")) mode_flat = !strcmp(val, "flat");
    else if (!strcmp(line, "rate")) rate = atof(val);
    else if (!strcmp(line, "window")) window_lines = atol(val);
    else if (!strcmp(line, "warmup_ms")) warmup_ms = atol(val);
    else if (!strcmp(line, "measure_ms")) measure_ms = atol(val);
    else if (!strcmp(line, "slices")) nslices = atol(val);
    else if (!strcmp(line, "host")) snprintf(host, sizeof host, "%s", val);
    else if (!strcmp(line, "port") && nports < 16) ports[nports++] = atoi(val);
    else if (!strcmp(line, "client")) {
      if (nclients == cap) {
        cap = cap ? cap * 2 : 64;
        clients = realloc(clients, sizeof(Client) * (size_t)cap);
      }
      Client *c = &clients[nclients];
      memset(c, 0, sizeof *c);
      c->idx = nclients++;
      c->acks = -1;
      char *tab = strchr(val, '\t');
      if (tab) *tab++ = 0;
      c->group = atoi(val);
      if (c->group > max_group) max_group = c->group;
      while (tab) {
        char *next = strchr(tab, '\t');
        if (next) *next++ = 0;
        c->setup = realloc(c->setup, sizeof(char *) * (size_t)(c->nsetup + 1));
        c->setup[c->nsetup++] = strdup(tab);
        tab = next;
      }
    }
  }
  if (nclients == 0 || nports == 0) fail("config: no clients or no port");
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_TIMERSLACK, 1UL); /* Wake on time, not up to 50 us late. */
  read_config();
  group_size = calloc((size_t)max_group + 1, sizeof(int));
  for (int i = 0; i < nclients; i++) group_size[clients[i].group]++;
  epfd = epoll_create1(0);

  /* Connect: client i talks to node i / per, as fanout.ts splits them. */
  int per = (nclients + nports - 1) / nports;
  for (int i = 0; i < nclients; i++) {
    Client *c = &clients[i];
    int port = ports[i / per];
    c->in.fd = connect_to(port);
    watch(&c->in, (uint32_t)(2 * i), EPOLLIN, EPOLL_CTL_ADD);
    c->pub.fd = -1;
    if (proto_resp) {
      c->pub.fd = connect_to(port);
      watch(&c->pub, (uint32_t)(2 * i + 1), EPOLLIN, EPOLL_CTL_ADD);
      char sub[128];
      int n = snprintf(NULL, 0, "c%d", c->group);
      int len = snprintf(sub, sizeof sub, "*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\nc%d\r\n", n, c->group);
      conn_write(&c->in, (uint32_t)(2 * i), sub, (size_t)len);
    }
  }
  loop_until(now_ns() + 20000000000LL, all_welcomed, NULL);
  if (!all_welcomed()) fail("not every client got its welcome in 20 s");

  /* Setup lines, then a command every step refuses with a reply: lines are
   * handled in order, so the reply proves the setup took effect. */
  int any_setup = 0;
  for (int i = 0; i < nclients; i++) {
    Client *c = &clients[i];
    if (c->nsetup == 0) continue;
    any_setup = 1;
    for (int s = 0; s < c->nsetup; s++) {
      conn_write(&c->in, (uint32_t)(2 * i), c->setup[s], strlen(c->setup[s]));
      conn_write(&c->in, (uint32_t)(2 * i), "\n", 1);
    }
    conn_write(&c->in, (uint32_t)(2 * i), "/bench-barrier\n", 15);
  }
  if (any_setup) {
    loop_until(now_ns() + 15000000000LL, all_barriers, NULL);
    if (!all_barriers()) fail("setup: not every client got its barrier reply");
    phase = 's';
    for (int i = 0; i < nclients; i++) send_lines(&clients[i], 1);
    loop_until(now_ns() + 15000000000LL, all_synced, NULL);
    if (!all_synced()) fail("sync: not every client heard its whole group");
  }

  /* Pair each sender with the next client of its group: its acker. */
  int *last = malloc(sizeof(int) * ((size_t)max_group + 1));
  int *first = malloc(sizeof(int) * ((size_t)max_group + 1));
  for (int g = 0; g <= max_group; g++) last[g] = first[g] = -1;
  int *ackerOf = malloc(sizeof(int) * (size_t)nclients);
  for (int i = 0; i < nclients; i++) {
    int g = clients[i].group;
    if (first[g] < 0) first[g] = i;
    if (last[g] >= 0) ackerOf[last[g]] = i;
    last[g] = i;
  }
  for (int g = 0; g <= max_group; g++)
    if (last[g] >= 0) ackerOf[last[g]] = first[g];
  senders = malloc(sizeof(int) * (size_t)nclients);
  for (int i = 0; i < nclients; i++) {
    if (recipients(&clients[i]) <= 0) continue;
    senders[nsenders++] = i;
    if (group_size[clients[i].group] >= 2) clients[ackerOf[i]].acks = i;
  }
  say("ready");

  /* Warm up, measure, stop. */
  slices = calloc((size_t)nslices, sizeof(uint64_t));
  slice_ns = measure_ms * 1000000 / nslices;
  phase = 'w';
  sending = 1;
  double deliveries_per_round = 0;
  for (int i = 0; i < nsenders; i++) deliveries_per_round += recipients(&clients[senders[i]]);
  int64_t t0 = now_ns();
  if (mode_flat) {
    send_turns(window_lines);
  } else {
    /* rate deliveries/s = lineRate * (deliveries per round / senders). */
    double line_rate = rate * nsenders / deliveries_per_round;
    line_interval_ns = 1e9 / line_rate;
    rate_start = t0;
  }
  loop_until(t0 + warmup_ms * 1000000, NULL, mode_flat ? NULL : rate_tick);
  phase = 'm';
  measure_start = now_ns();
  say("measuring");
  double cpu0 = cpu_seconds();
  loop_until(measure_start + measure_ms * 1000000, NULL, mode_flat ? NULL : rate_tick);
  sending = 0;
  int64_t measure_end = now_ns();
  double cpu = (cpu_seconds() - cpu0) / ((double)(measure_end - measure_start) / 1e9);
  say("stopped");

  /* Drain: every expected delivery in, or nothing for a second, or 20 s. */
  drain_last = received;
  drain_change = now_ns();
  loop_until(now_ns() + 20000000000LL, drained, NULL);

  printf("report {\"sent\":%llu,\"expected\":%llu,\"received\":%llu,\"sliceMs\":%.3f,\"cpu\":%.4f,"
         "\"closed\":%llu,\"corrupt\":%llu,\"slices\":[",
         (unsigned long long)sent, (unsigned long long)expected, (unsigned long long)received,
         (double)slice_ns / 1e6, cpu, (unsigned long long)closed_count,
         (unsigned long long)corrupt);
  for (int s = 0; s < nslices; s++) printf("%s%llu", s ? "," : "", (unsigned long long)slices[s]);
  printf("],\"latency\":[");
  for (int b = 0; b < HISTOGRAM_SIZE; b++)
    printf("%s%llu", b ? "," : "", (unsigned long long)histogram[b]);
  printf("]}\n");
  fflush(stdout);
  return 0;
}
