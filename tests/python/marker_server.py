"""Test-side stand-in for wattprint's control socket: a Unix stream socket server in a thread that accepts
any number of connections and records every line received, with the connection it came on and the peer's
pid (SO_PEERCRED). Tests wait for lines with wait_for_lines() (no sleeps)."""

import os
import re
import select
import shutil
import socket
import struct
import tempfile
import threading
import time

LINE_PATTERN = re.compile(r"(begin|end) ([0-9]+) ([A-Za-z0-9_.:/-]{1,64})")


class Received:
    __slots__ = ("kind", "time_ns", "name", "connection", "pid", "raw")

    def __init__(self, raw, connection, pid):
        self.raw = raw
        self.connection = connection
        self.pid = pid
        match = LINE_PATTERN.fullmatch(raw)
        if match is None:
            self.kind, self.time_ns, self.name = None, None, None
        else:
            self.kind, self.time_ns, self.name = match.group(1), int(match.group(2)), match.group(3)

    def __repr__(self):
        return "Received(%r, connection=%d, pid=%d)" % (self.raw, self.connection, self.pid)


class MarkerServer:
    """with MarkerServer() as server: os.environ[...] = server.path ..."""

    def __init__(self, path=None):
        """path: where to listen (its directory is created, and removed by stop()); default: a fresh one."""
        if path is None:
            self.directory = tempfile.mkdtemp(prefix="wattprint-py-test-")
            self.path = os.path.join(self.directory, "control.sock")
        else:
            self.directory = os.path.dirname(path)
            self.path = path
            os.makedirs(self.directory, mode=0o700)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(64)
        self._wake_read, self._wake_write = os.pipe()
        self._condition = threading.Condition()
        self._lines = []
        self._connections = 0
        self._closed_connections = 0
        self._stopped = False
        self._thread = threading.Thread(target=self._serve, name="marker-server", daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _serve(self):
        clients = {}  # socket -> (connection number, pid, pending bytes)
        try:
            while True:
                readable, _, _ = select.select([self._listener, self._wake_read] + list(clients), [], [])
                if self._wake_read in readable:
                    break
                if self._listener in readable:
                    conn, _ = self._listener.accept()
                    pid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                              struct.calcsize("3i")))[0]
                    with self._condition:
                        self._connections += 1
                        clients[conn] = [self._connections, pid, b""]
                for conn in [c for c in readable if c in clients]:
                    data = conn.recv(65536)
                    number, pid, pending = clients[conn]
                    if not data:
                        conn.close()
                        del clients[conn]
                        with self._condition:
                            if pending:  # a partial line at the end of a connection is kept, as raw
                                self._lines.append(Received(pending.decode("ascii", "replace"), number, pid))
                            self._closed_connections += 1
                            self._condition.notify_all()
                        continue
                    pending += data
                    *complete, pending = pending.split(b"\n")
                    clients[conn][2] = pending
                    if complete:
                        with self._condition:
                            for raw in complete:
                                self._lines.append(Received(raw.decode("ascii", "replace"), number, pid))
                            self._condition.notify_all()
        finally:
            for conn in clients:
                conn.close()

    def wait_for_lines(self, count, timeout_s=10.0):
        """All lines so far once at least `count` arrived (or the timeout passed: the caller's asserts fail)."""
        deadline = time.monotonic() + timeout_s
        with self._condition:
            while len(self._lines) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            return list(self._lines)

    def wait_until(self, predicate, timeout_s=10.0):
        """All lines so far once predicate(lines) holds (or the timeout passed: the caller's asserts fail)."""
        deadline = time.monotonic() + timeout_s
        with self._condition:
            while not predicate(self._lines):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            return list(self._lines)

    def wait_for_closed_connections(self, count, timeout_s=10.0):
        deadline = time.monotonic() + timeout_s
        with self._condition:
            while self._closed_connections < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            return self._closed_connections

    def lines(self):
        with self._condition:
            return list(self._lines)

    def connections(self):
        with self._condition:
            return self._connections

    def stop(self):
        """Closes every connection and the listener and removes the socket (the run is gone)."""
        if self._stopped:
            return
        self._stopped = True
        os.write(self._wake_write, b"x")
        self._thread.join()
        self._listener.close()
        os.close(self._wake_read)
        os.close(self._wake_write)
        shutil.rmtree(self.directory, ignore_errors=True)


class StalledServer:
    """Accepts connections and never reads: a run that hangs. The client's sends fill the buffer and block."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="wattprint-py-test-")
        self.path = os.path.join(self.directory, "control.sock")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(64)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._listener.close()
        shutil.rmtree(self.directory, ignore_errors=True)
        return False
