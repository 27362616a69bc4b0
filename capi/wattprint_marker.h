/* wattprint phase markers: mark where the phases of a program (epochs, steps, stages) begin and end, so
 * that `wattprint run` reports the energy and CO2 of each phase.
 *
 * Inside `wattprint run -- COMMAND`, every process of COMMAND's tree has the environment variable
 * WATTPRINT_CONTROL_SOCKET: these functions send one line to that Unix socket (protocol: docs/markers.md).
 * Outside a run they do nothing and return 1, so a program can keep its marks in all builds.
 *
 *   #include <wattprint/wattprint_marker.h>
 *   for (int epoch = 0; epoch < 10; ++epoch) {
 *     wattprint_phase_begin("epoch");   // a begin of an open name also ends it: epochs follow each other
 *     train_one_epoch();
 *   }
 *   wattprint_phase_end("epoch");
 *
 * Link with -lwattprint_marker (pkg-config: wattprint-marker). Written in C11 with no C++ runtime: any
 * language with a C FFI can load libwattprint_marker.so.1.
 *
 * Thread-safe: one connection per process, used under a mutex. Fork-safe: a child opens its own
 * connection. The moment of a mark is read from CLOCK_MONOTONIC when the function is called. A send never
 * raises SIGPIPE and gives up after 2 seconds if the run stops reading. */
#ifndef WATTPRINT_MARKER_H
#define WATTPRINT_MARKER_H

#if defined(__GNUC__)
#define WATTPRINT_MARKER_API __attribute__((visibility("default")))
#else
#define WATTPRINT_MARKER_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Phase names: 1 to 64 characters from A-Z a-z 0-9 _ . : / - */

/* A phase named `name` begins now (a phase of that name still open ends here).
 * Returns 0 when sent, 1 when not inside a wattprint run (nothing done), -EINVAL for a NULL or invalid name,
 * or -errno when the run's socket cannot be reached or written (e.g. -ENOENT or -ECONNREFUSED when the run
 * has ended, -EAGAIN when the run did not read for 2 seconds). */
WATTPRINT_MARKER_API int wattprint_phase_begin(const char* name);

/* The innermost open phase named `name` (and any phase nested in it) ends now. Returns as
 * wattprint_phase_begin(). */
WATTPRINT_MARKER_API int wattprint_phase_end(const char* name);

/* 1 when inside a wattprint run (WATTPRINT_CONTROL_SOCKET is set and not empty), else 0. */
WATTPRINT_MARKER_API int wattprint_in_run(void);

#ifdef __cplusplus
}
#endif

#endif /* WATTPRINT_MARKER_H */
