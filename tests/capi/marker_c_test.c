/* The C marker library as a C program uses it: linked against libwattprint_marker.so.1, compiled as C11.
 * A listening socket of its own stands for the run; the exact line the library writes is checked. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "wattprint_marker.h"

static int failures = 0;
#define CHECK(condition)                                                            \
  do {                                                                              \
    if (!(condition)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
      ++failures;                                                                   \
    }                                                                               \
  } while (0)

static unsigned long long monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec;
}

/* Reads from `fd` until `count` newlines arrived (or EOF) into `buffer`. */
static size_t read_lines(int fd, char* buffer, size_t size, int count) {
  size_t used = 0;
  while (used + 1 < size) {
    const ssize_t n = read(fd, buffer + used, size - 1 - used);
    int lines = 0;
    size_t i;
    if (n <= 0) break;
    used += (size_t)n;
    for (i = 0; i < used; ++i) lines += buffer[i] == '\n';
    if (lines >= count) break;
  }
  buffer[used] = '\0';
  return used;
}

int main(void) {
  char dir[] = "/tmp/wattprint-capi-XXXXXX";
  char path[sizeof(((struct sockaddr_un*)0)->sun_path)];
  struct sockaddr_un address;
  char buffer[512];
  char name[16];
  unsigned long long before;
  unsigned long long middle;
  unsigned long long after;
  unsigned long long t1 = 0;
  unsigned long long t2 = 0;
  int listener;
  int connection;

  /* Outside a run: nothing is done. */
  unsetenv("WATTPRINT_CONTROL_SOCKET");
  CHECK(wattprint_in_run() == 0);
  CHECK(wattprint_phase_begin("epoch") == 1);
  CHECK(wattprint_phase_end("epoch") == 1);
  CHECK(wattprint_phase_begin("bad name") == -EINVAL);
  CHECK(wattprint_phase_begin(NULL) == -EINVAL);

  if (mkdtemp(dir) == NULL) return 2;
  snprintf(path, sizeof path, "%s/control", dir);
  listener = socket(AF_UNIX, SOCK_STREAM, 0);
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  memcpy(address.sun_path, path, strlen(path) + 1);
  if (listener < 0 || bind(listener, (const struct sockaddr*)&address, sizeof address) != 0 ||
      listen(listener, 4) != 0) {
    perror("listen");
    return 2;
  }
  setenv("WATTPRINT_CONTROL_SOCKET", path, 1);
  CHECK(wattprint_in_run() == 1);
  before = monotonic_ns();
  CHECK(wattprint_phase_begin("epoch") == 0); /* connects: the backlog holds it until accept() */
  middle = monotonic_ns();
  CHECK(wattprint_phase_end("data/load-1.x:y_z") == 0);
  after = monotonic_ns();
  connection = accept(listener, NULL, NULL);
  CHECK(connection >= 0);
  read_lines(connection, buffer, sizeof buffer, 2);
  /* Exactly "begin <ns> epoch\nend <ns> data/load-1.x:y_z\n". */
  {
    int consumed = 0;
    CHECK(sscanf(buffer, "begin %llu %15s\n%n", &t1, name, &consumed) == 2);
    CHECK(strcmp(name, "epoch") == 0);
    CHECK(t1 >= before && t1 <= middle);
    CHECK(strncmp(buffer + consumed, "end ", 4) == 0);
    CHECK(sscanf(buffer + consumed, "end %llu ", &t2) == 1);
    CHECK(t2 >= middle && t2 <= after);
    CHECK(strstr(buffer, " data/load-1.x:y_z\n") != NULL);
    CHECK(buffer[strlen(buffer) - 1] == '\n');
  }
  /* The run went away: an error, never a crash by SIGPIPE (the default action would end this test). */
  close(connection);
  close(listener);
  unlink(path);
  {
    const int rc = wattprint_phase_begin("late");
    CHECK(rc == -ENOENT || rc == -ECONNREFUSED || rc == -EPIPE);
  }
  rmdir(dir);
  if (failures == 0) printf("marker_c_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
