"""The wattprint Python module against a test-side control socket server (marker_server.py).

Run with Debian's python3: PYTHONPATH=<repo>/python /usr/bin/python3 -m unittest -v test_module
"""

import os
import sys
import threading
import time
import unittest
import warnings

import wattprint
from marker_server import MarkerServer, StalledServer

VARIABLE = "WATTPRINT_CONTROL_SOCKET"


class RunEnvironment:
    """Points WATTPRINT_CONTROL_SOCKET at `path` (None: unset) and resets the module, as a fresh process."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.saved = os.environ.get(VARIABLE)
        if self.path is None:
            os.environ.pop(VARIABLE, None)
        else:
            os.environ[VARIABLE] = self.path
        wattprint._reset()
        return self

    def __exit__(self, *exc):
        wattprint._reset()
        if self.saved is None:
            os.environ.pop(VARIABLE, None)
        else:
            os.environ[VARIABLE] = self.saved
        return False


def wattprint_warnings(caught):
    return [w for w in caught if "wattprint" in str(w.message)]


class PhaseTest(unittest.TestCase):
    def setUp(self):
        self.server = MarkerServer()
        self.environment = RunEnvironment(self.server.path)
        self.environment.__enter__()

    def tearDown(self):
        self.environment.__exit__(None, None, None)
        self.server.stop()

    def test_phase_sends_begin_then_end_bracketing_the_body(self):
        before_ns = time.monotonic_ns()
        with wattprint.phase("epoch"):
            body_ns = time.monotonic_ns()
        after_ns = time.monotonic_ns()
        lines = self.server.wait_for_lines(2)
        self.assertEqual([(line.kind, line.name) for line in lines], [("begin", "epoch"), ("end", "epoch")])
        self.assertLessEqual(before_ns, lines[0].time_ns)
        self.assertLessEqual(lines[0].time_ns, body_ns)
        self.assertLessEqual(body_ns, lines[1].time_ns)
        self.assertLessEqual(lines[1].time_ns, after_ns)
        self.assertEqual(lines[0].pid, os.getpid())
        self.assertTrue(wattprint.in_run())

    def test_line_format_is_exactly_the_protocol(self):
        wattprint.begin("a.b:c/d-e_F9")
        wattprint.end("x")
        lines = self.server.wait_for_lines(2)
        self.assertRegex(lines[0].raw, r"^begin [1-9][0-9]* a\.b:c/d-e_F9$")
        self.assertRegex(lines[1].raw, r"^end [1-9][0-9]* x$")

    def test_nested_phases_and_one_connection(self):
        with wattprint.phase("epoch"):
            with wattprint.phase("train"):
                pass
            with wattprint.phase("eval"):
                pass
        lines = self.server.wait_for_lines(6)
        self.assertEqual(
            [line.raw.split(" ")[0] + " " + line.name for line in lines],
            ["begin epoch", "begin train", "end train", "begin eval", "end eval", "end epoch"],
        )
        times = [line.time_ns for line in lines]
        self.assertEqual(times, sorted(times))
        self.assertEqual({line.connection for line in lines}, {1})
        self.assertEqual(self.server.connections(), 1)

    def test_exception_inside_phase_still_sends_end_and_propagates(self):
        with self.assertRaises(KeyError):
            with wattprint.phase("epoch"):
                raise KeyError("boom")
        lines = self.server.wait_for_lines(2)
        self.assertEqual([(line.kind, line.name) for line in lines], [("begin", "epoch"), ("end", "epoch")])

    def test_phase_as_decorator(self):
        @wattprint.phase("step")
        def step(x):
            return x * 2

        self.assertEqual(step(21), 42)
        self.assertEqual(step(1), 2)
        lines = self.server.wait_for_lines(4)
        self.assertEqual([line.kind for line in lines], ["begin", "end", "begin", "end"])

    def test_invalid_names_raise_and_send_nothing(self):
        for name in ["", "two words", "x" * 65, "tab\t", "new\nline", "é", "semi;colon"]:
            with self.subTest(name=name):
                with self.assertRaises(ValueError):
                    wattprint.phase(name)
                with self.assertRaises(ValueError):
                    wattprint.begin(name)
                with self.assertRaises(ValueError):
                    wattprint.end(name)
        with self.assertRaises(TypeError):
            wattprint.begin(b"bytes")
        wattprint.begin("x" * 64)  # the longest valid name; the only line sent
        lines = self.server.wait_for_lines(1)
        self.assertEqual([line.name for line in lines], ["x" * 64])

    def test_fork_child_marks_arrive_on_its_own_connection(self):
        wattprint.begin("parent")  # the parent's connection exists before the fork
        self.server.wait_for_lines(1)
        child = os.fork()
        if child == 0:
            status = 1
            try:
                with wattprint.phase("child"):
                    pass
                status = 0
            finally:
                os._exit(status)
        _, status = os.waitpid(child, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status, 0)
        wattprint.end("parent")  # the parent's connection still works after the child closed its copy
        lines = self.server.wait_for_lines(4)
        by_pid = {}
        for line in lines:
            by_pid.setdefault(line.pid, []).append(line)
        self.assertEqual(set(by_pid), {os.getpid(), child})
        self.assertEqual([line.raw.split(" ")[0] + " " + line.name for line in by_pid[child]],
                         ["begin child", "end child"])
        self.assertEqual([line.raw.split(" ")[0] + " " + line.name for line in by_pid[os.getpid()]],
                         ["begin parent", "end parent"])
        parent_connections = {line.connection for line in by_pid[os.getpid()]}
        child_connections = {line.connection for line in by_pid[child]}
        self.assertEqual(len(parent_connections), 1)
        self.assertEqual(len(child_connections), 1)
        self.assertNotEqual(parent_connections, child_connections)

    def test_threads_marks_arrive_intact(self):
        threads_count, marks_per_thread = 8, 2000
        start = threading.Barrier(threads_count)

        def work(index):
            name = "thread%d" % index
            start.wait()
            for _ in range(marks_per_thread // 2):
                with wattprint.phase(name):
                    pass

        threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        total = threads_count * marks_per_thread
        lines = self.server.wait_for_lines(total)
        self.assertEqual(len(lines), total)
        malformed = [line for line in lines if line.kind is None]
        self.assertEqual(malformed, [])
        self.assertEqual(self.server.connections(), 1)
        for index in range(threads_count):
            own = [line for line in lines if line.name == "thread%d" % index]
            self.assertEqual(len(own), marks_per_thread)
            self.assertEqual([line.kind for line in own], ["begin", "end"] * (marks_per_thread // 2))
            times = [line.time_ns for line in own]
            self.assertEqual(times, sorted(times))

    def test_ten_thousand_marks_take_well_under_a_second(self):
        count = 10000
        start = time.perf_counter()
        for _ in range(count // 2):
            wattprint.begin("step")
            wattprint.end("step")
        elapsed_s = time.perf_counter() - start
        lines = self.server.wait_for_lines(count)
        self.assertEqual(len(lines), count)
        print("\n%d marks in %.3f s: %.0f marks/s (%.1f us each)"
              % (count, elapsed_s, count / elapsed_s, elapsed_s / count * 1e6), file=sys.stderr)
        self.assertLess(elapsed_s, 1.0)


class FailureTest(unittest.TestCase):
    def test_warnings_turned_into_errors_do_not_stop_the_program(self):
        # `python -W error` (or pytest's filterwarnings = error): the warning must not become an exception.
        import subprocess

        env = dict(os.environ)
        env.pop(wattprint.CONTROL_SOCKET_VARIABLE, None)
        code = "import wattprint\nwith wattprint.phase('epoch'):\n    pass\nprint('trained')"
        done = subprocess.run([sys.executable, "-W", "error", "-c", code], env=env, capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, "trained\n")
        self.assertIn("not inside `wattprint run`", done.stderr)

    def test_outside_a_run_one_warning_for_many_calls_and_no_error(self):
        with RunEnvironment(None):
            self.assertFalse(wattprint.in_run())
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                for _ in range(100):
                    with wattprint.phase("epoch"):
                        wattprint.begin("train")
                        wattprint.end("train")
            ours = wattprint_warnings(caught)
            self.assertEqual(len(ours), 1)
            self.assertEqual(str(ours[0].message),
                             "wattprint: not inside `wattprint run`; phase marks are ignored")
            self.assertEqual(ours[0].filename, __file__)  # points at the program's line, not the module's
            with self.assertRaises(ValueError):  # a bad name is still a programming error
                wattprint.begin("bad name")

    def test_empty_variable_is_outside_a_run(self):
        with RunEnvironment(""):
            self.assertFalse(wattprint.in_run())
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                wattprint.begin("x")
                wattprint.end("x")
            self.assertEqual(len(wattprint_warnings(caught)), 1)

    def test_server_gone_one_warning_no_exception_training_continues(self):
        server = MarkerServer()
        with RunEnvironment(server.path):
            wattprint.begin("epoch")
            self.assertEqual(len(server.wait_for_lines(1)), 1)
            server.stop()  # closes the connection and removes the socket: the run is gone
            self.assertFalse(os.path.exists(server.path))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                trained = 0
                for _ in range(50):
                    with wattprint.phase("epoch"):
                        trained += 1
            self.assertEqual(trained, 50)
            ours = wattprint_warnings(caught)
            self.assertEqual(len(ours), 1, [str(w.message) for w in ours])
            self.assertIn("phase marks from now on are ignored", str(ours[0].message))

    def test_no_socket_at_the_path_one_warning(self):
        with RunEnvironment("/nonexistent-wattprint-dir/control.sock"):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                for _ in range(20):
                    wattprint.begin("epoch")
            ours = wattprint_warnings(caught)
            self.assertEqual(len(ours), 1)
            self.assertIn("cannot connect to the control socket /nonexistent-wattprint-dir/control.sock",
                          str(ours[0].message))

    def test_server_restarted_at_the_same_path_reconnects_once(self):
        first = MarkerServer()
        with RunEnvironment(first.path):
            wattprint.begin("a")
            self.assertEqual(len(first.wait_for_lines(1)), 1)
            first.stop()  # the connection is reset and the socket removed ...
            with MarkerServer(first.path) as second:  # ... and a listener comes back at the same path
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    wattprint.end("a")
                self.assertEqual(wattprint_warnings(caught), [])
                lines = second.wait_for_lines(1)
                self.assertEqual([line.raw for line in lines][0].split(" ")[0::2], ["end", "a"])

    def test_stalled_run_times_out_once_and_marks_stop_blocking(self):
        saved = wattprint._SEND_TIMEOUT_S
        wattprint._SEND_TIMEOUT_S = 0.2
        try:
            with StalledServer() as server, RunEnvironment(server.path):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    start = time.monotonic()
                    for _ in range(20000):  # ~1.8 MB of lines: far more than a socket buffer holds
                        wattprint.begin("x" * 64)
                    elapsed_s = time.monotonic() - start
                ours = wattprint_warnings(caught)
                self.assertEqual(len(ours), 1)
                self.assertIn("writing to the control socket failed", str(ours[0].message))
                self.assertLess(elapsed_s, 5.0)  # one 0.2 s timeout, then nothing waits
        finally:
            wattprint._SEND_TIMEOUT_S = saved


if __name__ == "__main__":
    unittest.main()
