"""Helpers shared by the Python suites (integration/, hil/)."""

import os
import signal
import socket
import subprocess
import threading
import time

# Cross builds run the target binaries through qemu-user ("" on the host).
EMULATOR = os.environ.get("KASSA_EMULATOR", "").split()


def wait_for(predicate, timeout, what, interval=0.02):
    """Returns predicate()'s first truthy value; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def stop_process(proc, timeout=10):
    """SIGTERM, and SIGKILL when it has not ended after `timeout` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def serve_tcp(on_connection, port=0, backlog=16):
    """A socket listening on 127.0.0.1 (`port` 0: a free one) whose accepted
    connections go to `on_connection(conn)` on a daemon thread. Closing the
    socket stops accepting."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(backlog)

    def accept():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            on_connection(conn)

    threading.Thread(target=accept, daemon=True).start()
    return server
