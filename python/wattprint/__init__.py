"""Phase marks for `wattprint run`: tell wattprint where the epochs, training and evaluation of a program are.

    import wattprint

    for epoch in range(epochs):
        with wattprint.phase("epoch"):
            with wattprint.phase("train"):
                train_one_epoch()
            with wattprint.phase("eval"):
                evaluate()

Inside `wattprint run`, every mark goes to the run's control socket (its path is in the environment variable
WATTPRINT_CONTROL_SOCKET) as one line, ``begin <monotonic_ns> <name>`` or ``end <monotonic_ns> <name>``,
with the moment it happened (CLOCK_MONOTONIC, the clock of ``time.monotonic_ns()``). wattprint's report then
gives the energy and CO2 of each phase. Outside a run the marks do nothing (one warning says so).

A mark never waits for an answer and never raises into the program for a socket problem: a run that is gone
or stalls (sends time out after 2 s) gives one warning, and the marks after it are ignored. An invalid phase
name is a programming error and raises ValueError: names are 1 to 64 characters from [A-Za-z0-9_.:/-].

A ``begin`` of a name that is still open ends it first, so repeated ``begin("epoch")`` give consecutive
epochs; ``end(name)`` closes the innermost open phase of that name.

Pure Python (standard library only, Python 3.8 or later); safe to use from several threads (one connection
per process, one line written at a time) and in forked processes (a child opens its own connection).
"""

import contextlib
import os
import re
import socket
import sys
import threading
import time
import warnings

__all__ = ["phase", "begin", "end", "in_run", "CONTROL_SOCKET_VARIABLE"]

#: The environment variable holding the control socket's path inside `wattprint run`.
CONTROL_SOCKET_VARIABLE = "WATTPRINT_CONTROL_SOCKET"

_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.:/-]{1,64}")
_SEND_TIMEOUT_S = 2.0  # a stalled run must not hang the program for longer than this (tests lower it)
_NOT_IN_RUN_MESSAGE = "wattprint: not inside `wattprint run`; phase marks are ignored"
_SEND_FLAGS = getattr(socket, "MSG_NOSIGNAL", 0)  # EPIPE as an error, not SIGPIPE, whatever the handler


class _State:
    """The process's connection to the control socket; every field is guarded by `lock`."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sock = None  # connected socket, or None
        self.pid = os.getpid()  # the process that owns `sock`
        self.disabled = False  # marks are ignored from now on (outside a run, or the socket failed)
        self.warned = False  # one warning per process

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


_state = _State()


def _after_fork_in_child():
    # The parent's lock may have been held by another thread at fork time, and its connection belongs to the
    # parent: the child starts afresh (closing the child's copy of the descriptor leaves the parent's open).
    old = _state.sock
    _state.lock = threading.Lock()
    _state.sock = None
    _state.pid = os.getpid()
    if old is not None:
        try:
            old.close()
        except OSError:
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _check_name(name):
    if not isinstance(name, str):
        raise TypeError("wattprint: a phase name must be a str, not %s" % type(name).__name__)
    if _NAME_PATTERN.fullmatch(name) is None:
        raise ValueError(
            "wattprint: invalid phase name %r: use 1 to 64 characters from A-Z a-z 0-9 _ . : / -" % (name,)
        )


def _program_stacklevel():
    """warnings.warn's stacklevel that points at the first frame outside this package (the program's call)."""
    level = 1
    frame = sys._getframe(2)  # the caller of warnings.warn's caller, i.e. _warn_once's caller
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        level += 1
        if module != "wattprint" and not module.startswith("wattprint."):
            break
        frame = frame.f_back
    return level


def _warn_once(message):
    # Called with the lock held.
    if not _state.warned:
        _state.warned = True
        try:
            warnings.warn(message, RuntimeWarning, stacklevel=_program_stacklevel())
        except Exception:  # noqa: BLE001 - `python -W error` or pytest's filterwarnings=error
            # Warnings turned into errors must not stop the training: say it on stderr instead.
            try:
                sys.stderr.write(message + "\n")
            except Exception:  # noqa: BLE001
                pass


def _connect(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(_SEND_TIMEOUT_S)
        sock.connect(path)
    except BaseException:
        sock.close()
        raise
    return sock


def _send(line):
    """Writes one protocol line; never raises for a socket problem."""
    with _state.lock:
        if _state.pid != os.getpid():  # forked without the at-fork hook (or before it ran)
            _after_fork_in_child()
        if _state.disabled:
            return
        if _state.sock is None:
            path = os.environ.get(CONTROL_SOCKET_VARIABLE, "")
            if not path:
                _state.disabled = True
                _warn_once(_NOT_IN_RUN_MESSAGE)
                return
            try:
                _state.sock = _connect(path)
            except (OSError, ValueError) as error:
                _give_up("cannot connect to the control socket %s (%s)" % (path, error))
                return
        try:
            _state.sock.sendall(line, _SEND_FLAGS)
            return
        except (BrokenPipeError, ConnectionResetError):
            pass  # the run may have restarted its listener: reconnect once
        except OSError as error:  # timeout (the run stalls) or anything else: stop trying
            _give_up("writing to the control socket failed (%s)" % (error,))
            return
        _state.close()
        path = os.environ.get(CONTROL_SOCKET_VARIABLE, "")
        try:
            _state.sock = _connect(path)
            _state.sock.sendall(line, _SEND_FLAGS)
        except (OSError, ValueError) as error:
            _give_up("lost the control socket %s (%s)" % (path, error))


def _give_up(reason):
    # Called with the lock held.
    _state.close()
    _state.disabled = True
    _warn_once("wattprint: %s; phase marks from now on are ignored" % (reason,))


def _mark(kind, name):
    _check_name(name)
    now_ns = time.monotonic_ns()  # when it happened, before any waiting for the lock
    _send(("%s %d %s\n" % (kind, now_ns, name)).encode("ascii"))


def begin(name):
    """Marks the start of phase `name` (a phase of that name still open ends here)."""
    _mark("begin", name)


def end(name):
    """Marks the end of the innermost open phase `name`."""
    _mark("end", name)


def in_run():
    """True inside `wattprint run` (its control socket is in the environment)."""
    return bool(os.environ.get(CONTROL_SOCKET_VARIABLE))


class phase(contextlib.ContextDecorator):  # noqa: N801 (used like a function: `with wattprint.phase("x"):`)
    """Context manager (or decorator) marking a phase: begin on entry, end on exit, also on an exception.

    The name is checked at once: ``phase("two words")`` raises ValueError before the block runs.
    """

    def __init__(self, name):
        _check_name(name)
        self.name = name

    def __enter__(self):
        begin(self.name)
        return self

    def __exit__(self, exc_type, exc, traceback):
        end(self.name)
        return False

    def __repr__(self):
        return "wattprint.phase(%r)" % (self.name,)


def _reset():
    """For tests: forget the connection and the warnings, as in a fresh process."""
    with _state.lock:
        _state.close()
        _state.disabled = False
        _state.warned = False
        _state.pid = os.getpid()
