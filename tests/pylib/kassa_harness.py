"""Helpers shared by the Python suites (integration/, hil/)."""

import os
import signal
import subprocess
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
