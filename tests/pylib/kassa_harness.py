"""Helpers shared by the Python suites (integration/, hil/)."""

import os
import shutil
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


def pki_init(kassa_hq, hq_data):
    """`kassa-hq pki init` for a test headquarters (once per data directory):
    the chain CA and a link certificate naming 127.0.0.1 and localhost."""
    if os.path.exists(os.path.join(hq_data, "pki", "ca.crt")):
        return
    subprocess.run(EMULATOR + [kassa_hq, "pki", "init", "--data", hq_data, "--chain", "kassa-test",
                               "--hq-name", "127.0.0.1", "--hq-name", "localhost"],
                   check=True, stdout=subprocess.DEVNULL)


def pki_issue(kassa_hq, hq_data, terminal, store, out_dir, days=None):
    """`kassa-hq pki issue`: terminal's bundle into out_dir. Returns the serial."""
    args = [kassa_hq, "pki", "issue", "--data", hq_data, "--terminal", terminal, "--store", store, "--out", out_dir]
    if days is not None:
        args += ["--days", str(days)]
    out = subprocess.run(EMULATOR + args, check=True, stdout=subprocess.PIPE, text=True).stdout
    return out.split()[1].rstrip(":")


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


# ---- operators ---------------------------------------------------------------
# Every permission of kassa::model::Permission, by name.
PERMISSIONS = ["view_own_book", "view_store_books", "add_to_book", "remove_from_book", "reassign",
               "create_customer", "edit_customer", "add_activity", "add_note"]
ROLES = {
    "associate": ["view_own_book", "add_to_book", "remove_from_book", "create_customer", "edit_customer",
                  "add_activity", "add_note"],
    "manager": list(PERMISSIONS),
    "cashier": ["create_customer"],
}
# Test PINs are hashed with few iterations so sign-in stays quick under qemu;
# kassa refuses fewer than 10,000 (and more than 1,000,000).
TEST_PIN_ITERATIONS = 10000


def pin_hash(pin, iterations=TEST_PIN_ITERATIONS):
    """The PIN hash kassa stores: pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX."""
    import hashlib
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return "pbkdf2-sha256$%d$%s$%s" % (iterations, salt.hex(), digest.hex())


def operator(worker_id, name, role, pin, stores, badge=None):
    op = {"worker_id": worker_id, "name": name, "role": role, "pin_hash": pin_hash(pin), "stores": list(stores)}
    if badge:
        op["badge"] = badge
    return op


CLIENTELING = {
    "roles": [{"id": r, "name": r.title(), "permissions": p} for r, p in ROLES.items()],
    "attributes": [
        {"name": "likes", "label": "Likes", "type": "choice", "display_order": 1, "refinable": True,
         "choices": ["handbags", "shoes", "jewellery", "scarves"]},
        {"name": "birthday", "label": "Birthday", "type": "date", "display_order": 2, "refinable": True},
        {"name": "size", "label": "Size", "type": "text", "display_order": 3, "refinable": False},
        {"name": "vip", "label": "VIP", "type": "yes_no", "display_order": 4, "refinable": True},
    ],
    "activity_types": [{"id": "visit", "name": "Store visit"}, {"id": "call", "name": "Phone call"},
                       {"id": "appointment", "name": "Appointment"}],
    "idle_timeout_s": 600, "max_pin_attempts": 3, "lockout_s": 300,
}

# The operator the non-clienteling suites sign in as: may do everything.
IT_WORKER, IT_PIN = "IT-OP", "2468"


def write_clienteling_file(path, stores, operators=None):
    """kassad's --clienteling file: CLIENTELING plus `operators` (default: IT-OP, a manager)."""
    import json
    ops = operators if operators is not None else [operator(IT_WORKER, "Integration Test", "manager", IT_PIN, stores)]
    with open(path, "w") as f:
        json.dump({"clienteling": CLIENTELING, "operators": ops}, f)
    return path


def http_json(port, method, path, body=None, timeout=10, token=None):
    """One JSON request to 127.0.0.1:`port`, with a bearer token when given: (status, body)."""
    import http.client
    import json
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        res = conn.getresponse()
        return res.status, json.loads(res.read() or b"null")
    finally:
        conn.close()


def sign_in(port, worker=IT_WORKER, pin=IT_PIN, timeout=10):
    """POST /v1/session on kassad at `port`; (status, body)."""
    import http.client
    import json
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/v1/session", body=json.dumps({"worker_id": worker, "pin": pin}),
                     headers={"Content-Type": "application/json"})
        res = conn.getresponse()
        return res.status, json.loads(res.read() or b"null")
    finally:
        conn.close()


JOURNALD = "/lib/systemd/systemd-journald"


class Journal:
    """A systemd-journald of its own (a journal namespace, systemd 245 and
    later), for tests that run daemons as systemd runs a unit with its output
    on the journal. Needs root; not systemd as PID 1 (journald opens its
    sockets itself). close() stops it and removes its sockets and files."""

    def __init__(self):
        self.namespace = "kassa-test-%d" % os.getpid()
        self.socket_dir = "/run/systemd/journal." + self.namespace
        with open("/etc/machine-id") as f:
            machine = f.read().strip()
        self.files = ["/var/log/journal/%s.%s" % (machine, self.namespace),
                      "/run/log/journal/%s.%s" % (machine, self.namespace)]
        self.proc = subprocess.Popen([JOURNALD, self.namespace], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(os.path.join(self.socket_dir, "stdout")) or self.proc.poll() is not None,
                 10, "journald's sockets")
        if self.proc.poll() is not None:
            raise AssertionError("systemd-journald %s exited %d" % (self.namespace, self.proc.returncode))

    def stream(self, identifier):
        """A socket to hand a process as its stdout and stderr: what systemd
        does for StandardOutput=journal (the stream protocol's header:
        identifier, unit, priority 6, <N> level prefixes parsed, nothing
        forwarded). JOURNAL_STREAM names it, as systemd sets it."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(os.path.join(self.socket_dir, "stdout"))
        s.shutdown(socket.SHUT_RD)
        s.sendall(("%s\n\n6\n1\n0\n0\n0\n" % identifier).encode())
        st = os.fstat(s.fileno())
        return s, "%d:%d" % (st.st_dev, st.st_ino)

    def export(self):
        """Every entry, in journalctl's export format (fields as text)."""
        return subprocess.run(["journalctl", "--namespace=" + self.namespace, "--no-pager", "-o", "export"],
                              check=True, stdout=subprocess.PIPE, timeout=60).stdout

    def close(self):
        stop_process(self.proc)
        for path in self.files + [self.socket_dir]:
            shutil.rmtree(path, ignore_errors=True)
