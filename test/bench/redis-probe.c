/* redis-probe.c -- a second, independent measurement of Redis pub/sub latency.
 *
 * precision.ts runs it next to loadgen.c on the same redis-server to check
 * that loadgen's redis row is what a native client sees. It shares no code
 * and no design with loadgen.c on purpose: two threads and blocking
 * sockets instead of one epoll loop; the publisher sleeps to an absolute
 * time with clock_nanosleep() instead of an epoll timeout; the receiver
 * waits in poll(); the payload is "t=<ns>;" found with strstr-like
 * scanning instead of the bench's markers; and the percentiles come from
 * every sample sorted, not from a histogram.
 *
 * The load on Redis is the same as a bench cell's: N clients, each a
 * subscriber of channel "p" and a publisher connection; one PUBLISH every
 * 1/lineRate seconds, the publishers taking turns; a line reaches all N
 * subscribers, so deliveries/s = lineRate * N.
 *
 * usage: redis-probe <port> <clients> <deliveries/s> <warmup s> <seconds>
 * prints: deliveries <n> p50 <ms> p99 <ms> p999 <ms> max <ms>
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port, nclients;
static double rate, warmup_s, measure_s;
static int *subs, *pubs;
static volatile int done;
static int64_t measure_from, measure_to;
static double *samples;
static size_t nsamples, capsamples;

static int64_t mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int dial(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    perror("connect");
    exit(1);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* The publisher: line k at start + k / lineRate, on publisher k mod N. */
static void *publisher(void *arg) {
  (void)arg;
  double line_rate = rate / nclients;
  int64_t start = mono() + 10000000; /* 10 ms from now. */
  char drain[4096];
  for (uint64_t k = 0;; k++) {
    int64_t at = start + (int64_t)((double)k * 1e9 / line_rate);
    if (at >= measure_to) break;
    struct timespec ts = {.tv_sec = at / 1000000000LL, .tv_nsec = at % 1000000000LL};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    char body[64], cmd[160];
    int bl = snprintf(body, sizeof body, "t=%lld;", (long long)mono());
    int cl = snprintf(cmd, sizeof cmd, "*3\r\n$7\r\nPUBLISH\r\n$1\r\np\r\n$%d\r\n%s\r\n", bl, body);
    int fd = pubs[k % (uint64_t)nclients];
    if (write(fd, cmd, (size_t)cl) != cl) break;
    /* Publishers' replies (":N") are read back now and then, without waiting. */
    if (k % 64 == 0)
      for (int i = 0; i < nclients; i++) (void)recv(pubs[i], drain, sizeof drain, MSG_DONTWAIT);
  }
  done = 1;
  return NULL;
}

static void add_sample(double ms) {
  if (nsamples == capsamples) {
    capsamples = capsamples ? capsamples * 2 : 1 << 20;
    samples = realloc(samples, capsamples * sizeof *samples);
  }
  samples[nsamples++] = ms;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: redis-probe <port> <clients> <deliveries/s> <warmup s> <seconds>\n");
    return 2;
  }
  port = atoi(argv[1]);
  nclients = atoi(argv[2]);
  rate = atof(argv[3]);
  warmup_s = atof(argv[4]);
  measure_s = atof(argv[5]);
  subs = calloc((size_t)nclients, sizeof(int));
  pubs = calloc((size_t)nclients, sizeof(int));
  struct pollfd *pfd = calloc((size_t)nclients, sizeof *pfd);
  for (int i = 0; i < nclients; i++) {
    subs[i] = dial();
    pubs[i] = dial();
    const char *sub = "*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\np\r\n";
    if (write(subs[i], sub, strlen(sub)) < 0) return 1;
    char buf[256];
    size_t got = 0; /* The reply ends with ":1\r\n". */
    while (got < 4 || memcmp(buf + got - 4, ":1\r\n", 4) != 0) {
      ssize_t r = read(subs[i], buf + got, sizeof buf - got);
      if (r <= 0) return 1;
      got += (size_t)r;
    }
    pfd[i].fd = subs[i];
    pfd[i].events = POLLIN;
  }
  int64_t t0 = mono();
  measure_from = t0 + (int64_t)(warmup_s * 1e9);
  measure_to = measure_from + (int64_t)(measure_s * 1e9);
  pthread_t th;
  pthread_create(&th, NULL, publisher, NULL);

  /* The receiver: every subscriber's bytes, each "t=<ns>;" one delivery. */
  char buf[65536];
  char (*partial)[32] = calloc((size_t)nclients, 32); /* A "t=..." cut by a read. */
  int64_t quiet_since = 0;
  for (;;) {
    int n = poll(pfd, (nfds_t)nclients, 100);
    int64_t now = mono();
    if (n == 0) {
      if (done && (quiet_since == 0 ? (quiet_since = now, 0) : now - quiet_since > 500000000)) break;
      continue;
    }
    quiet_since = 0;
    for (int i = 0; i < nclients; i++) {
      if (!(pfd[i].revents & POLLIN)) continue;
      size_t plen = strlen(partial[i]);
      memcpy(buf, partial[i], plen);
      ssize_t r = read(subs[i], buf + plen, sizeof buf - plen - 1);
      if (r <= 0) return 1;
      size_t len = plen + (size_t)r;
      buf[len] = 0;
      partial[i][0] = 0;
      char *p = buf;
      for (;;) {
        char *t = strstr(p, "t=");
        if (!t) break;
        char *semi = strchr(t, ';');
        if (!semi) {
          if (strlen(t) < 32) strcpy(partial[i], t);
          break;
        }
        long long sent = strtoll(t + 2, NULL, 10);
        if (sent >= measure_from && sent < measure_to) add_sample((double)(now - sent) / 1e6);
        p = semi + 1;
      }
      /* Keep a lone trailing "t" that the next read may complete. */
      if (partial[i][0] == 0 && len > 0 && buf[len - 1] == 't') strcpy(partial[i], "t");
    }
  }
  pthread_join(th, NULL);
  qsort(samples, nsamples, sizeof *samples, cmp);
#define AT(p) (nsamples ? samples[(size_t)((p) * (double)(nsamples - 1))] : 0.0)
  printf("deliveries %zu p50 %.3f p99 %.3f p999 %.3f max %.3f\n", nsamples, AT(0.5), AT(0.99),
         AT(0.999), AT(1.0));
  return 0;
}
