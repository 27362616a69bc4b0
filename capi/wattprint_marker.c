/* wattprint phase markers, the C library (wattprint_marker.h): sends "begin|end <monotonic_ns> <name>\n" to
 * the run's control socket (docs/markers.md). C11 and POSIX only, no C++ runtime. */
#define _GNU_SOURCE
#include "wattprint_marker.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CONTROL_SOCKET_VARIABLE "WATTPRINT_CONTROL_SOCKET"
#define MAX_NAME_LENGTH 64
#define SEND_TIMEOUT_S 2

/* The process's one connection, guarded by `lock`. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static int connection_fd = -1;
static pid_t connection_pid = 0; /* the process that opened it */
static dev_t connection_dev = 0; /* its identity: the program may have closed the fd and reused it */
static ino_t connection_ino = 0;
static char connection_path[sizeof(((struct sockaddr_un*)0)->sun_path)];

static int valid_name(const char* name) {
  size_t length = 0;
  if (name == NULL) return 0;
  for (; name[length] != '\0'; ++length) {
    const char c = name[length];
    const int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                   c == '.' || c == ':' || c == '/' || c == '-';
    if (!ok || length >= MAX_NAME_LENGTH) return 0;
  }
  return length > 0;
}

/* The fd still refers to the socket that was connected (the program may have closed it and reused the
 * number for something else, which must then be left alone). */
static int fd_is_the_connection(void) {
  struct stat st;
  if (connection_fd < 0 || fstat(connection_fd, &st) != 0) return 0;
  return S_ISSOCK(st.st_mode) && st.st_dev == connection_dev && st.st_ino == connection_ino;
}

/* The connection is still the one this process opened (same process, same socket behind the fd). */
static int connection_is_ours(void) { return connection_pid == getpid() && fd_is_the_connection(); }

static void drop_connection(void) {
  if (connection_fd >= 0 && connection_is_ours()) close(connection_fd);
  connection_fd = -1;
}

/* fork(): the child must not write into its parent's connection, nor find the lock held by a thread that
 * does not exist in it. */
static void before_fork(void) { pthread_mutex_lock(&lock); }
static void after_fork_in_parent(void) { pthread_mutex_unlock(&lock); }
static void after_fork_in_child(void) {
  if (fd_is_the_connection()) close(connection_fd); /* the child's copy only */
  connection_fd = -1;
  pthread_mutex_unlock(&lock);
}
static void register_fork_handlers(void) {
  pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

/* Connects to `path` unless already connected to it; 0 or -errno. */
static int ensure_connected(const char* path) {
  struct sockaddr_un address;
  struct timeval timeout;
  struct stat st;
  int fd = -1;
  int attempt;
  if (connection_is_ours() && strcmp(connection_path, path) == 0) return 0;
  if (connection_fd >= 0 && connection_pid != getpid()) {
    if (fd_is_the_connection()) close(connection_fd); /* inherited through a fork without the handlers */
    connection_fd = -1;
  }
  drop_connection();
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  memcpy(address.sun_path, path, strlen(path) + 1); /* length checked by the caller */
  timeout.tv_sec = SEND_TIMEOUT_S;
  timeout.tv_usec = 0;
  for (attempt = 0;; ++attempt) {
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    /* Also bounds connect() when the run's backlog is full. */
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) != 0) {
      const int error = errno;
      close(fd);
      return -error;
    }
    if (connect(fd, (const struct sockaddr*)&address, sizeof address) == 0) break;
    {
      const int error = errno;
      close(fd);
      if (error != EINTR || attempt >= 3) return -error;
    }
  }
  if (fstat(fd, &st) != 0) {
    const int error = errno;
    close(fd);
    return -error;
  }
  connection_fd = fd;
  connection_pid = getpid();
  connection_dev = st.st_dev;
  connection_ino = st.st_ino;
  memcpy(connection_path, path, strlen(path) + 1);
  return 0;
}

/* Writes the whole line; 0 or -errno (-EAGAIN after SEND_TIMEOUT_S without progress). */
static int send_line(const char* line, size_t length) {
  while (length > 0) {
    const ssize_t sent = send(connection_fd, line, length, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
    line += sent;
    length -= (size_t)sent;
  }
  return 0;
}

static int send_mark(const char* kind, const char* name) {
  struct timespec now;
  const char* path;
  char line[128];
  int length;
  int result = 0;
  int attempt;
  int cancel_state;
  clock_gettime(CLOCK_MONOTONIC, &now); /* the moment of the mark: before any waiting */
  if (!valid_name(name)) return -EINVAL;
  path = getenv(CONTROL_SOCKET_VARIABLE);
  if (path == NULL || path[0] == '\0') return 1;
  if (strlen(path) >= sizeof connection_path) return -ENAMETOOLONG;
  length = snprintf(line, sizeof line, "%s %llu %s\n", kind,
                    (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec, name);
  if (length < 0 || (size_t)length >= sizeof line) return -EINVAL;
  pthread_once(&atfork_once, register_fork_handlers);
  /* A thread cancelled inside send() must not leave the lock held. */
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
  pthread_mutex_lock(&lock);
  for (attempt = 0; attempt < 2; ++attempt) {
    result = ensure_connected(path);
    if (result != 0) break;
    result = send_line(line, (size_t)length);
    if (result == 0) break;
    /* A failed or partial line leaves the connection unusable; the run drops the cut line. */
    drop_connection();
    /* The run closed this connection (it restarted its socket?): one fresh connection, one more try. */
    if (result != -EPIPE && result != -ECONNRESET && result != -ENOTCONN) break;
  }
  pthread_mutex_unlock(&lock);
  pthread_setcancelstate(cancel_state, NULL);
  return result;
}

int wattprint_phase_begin(const char* name) { return send_mark("begin", name); }

int wattprint_phase_end(const char* name) { return send_mark("end", name); }

int wattprint_in_run(void) {
  const char* path = getenv(CONTROL_SOCKET_VARIABLE);
  return path != NULL && path[0] != '\0';
}
