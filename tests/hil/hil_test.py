"""Hardware-in-the-loop tests: kassad (the cross-compiled one under qemu in
the ARM suites) runs as a black box with its real Linux backends pointed at
emulated devices:
  - a serial barcode scanner, a serial card reader and a pole display on
    pseudo-terminal pairs (the scanner's path is a symlink, so unplugging
    and replugging is closing one pty and pointing the link at a new one);
  - a network receipt printer: a TCP listener in this test that answers
    ESC/POS status queries, records the job bytes and decodes them to text;
  - the evdev keyboard-wedge backend, fed input events through a pipe, and
    through a real virtual keyboard where /dev/uinput exists (skipped here).
Events are read from kassad's WebSocket event stream with a minimal client.
"""

import base64
import errno
import fcntl
import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from kassa_harness import (EMULATOR, IT_PIN, IT_WORKER, operator, serve_tcp, sign_in, stop_process,  # noqa: E402
                           wait_for, write_clienteling_file)

KASSAD = os.environ["KASSAD"]
SAMPLE_CONFIG = os.environ["KASSA_SAMPLE_CONFIG"]




class Pty:
    """A pseudo-terminal pair: kassad opens the slave path, the test the master."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        attrs = termios.tcgetattr(self.master)
        attrs[3] &= ~(termios.ECHO | termios.ICANON)  # raw enough for byte streams
        termios.tcsetattr(self.master, termios.TCSANOW, attrs)
        self.path = os.ttyname(self.slave)
        flags = fcntl.fcntl(self.master, fcntl.F_GETFL)
        fcntl.fcntl(self.master, fcntl.F_SETFL, flags | os.O_NONBLOCK)

    def write(self, text):
        os.write(self.master, text.encode())

    def read_all(self):
        out = b""
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except (BlockingIOError, OSError):
                return out
            if not chunk:
                return out
            out += chunk

    def close(self):
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


def escpos_text(data):
    """The printable text of an ESC/POS job (commands dropped)."""
    out = bytearray()
    i = 0
    args = {ord("@"): 0, ord("a"): 1, ord("E"): 1, ord("d"): 1, ord("t"): 1, ord("!"): 1}
    while i < len(data):
        b = data[i]
        if b == 0x1B or b == 0x1D:
            cmd = data[i + 1] if i + 1 < len(data) else 0
            i += 2 + (2 if b == 0x1D and cmd == ord("V") else args.get(cmd, 1))
            continue
        if b == 0x10 and i + 2 < len(data) and data[i + 1] == 0x04:
            i += 3
            continue
        out.append(b)
        i += 1
    return out.decode("ascii", "replace")


class NetworkPrinter:
    """A TCP 9100 printer: answers DLE EOT n, records everything else."""

    def __init__(self, port=0):
        self.received = bytearray()
        self.paper_out = False
        self.cut_after = None  # close the connection after this many job bytes
        self.lock = threading.RLock()  # the cut closes the printer while holding it
        self.conns = []
        self.closed = False
        self.server = serve_tcp(self._accepted, port, backlog=4)
        self.port = self.server.getsockname()[1]

    @staticmethod
    def back_on(port):
        """A printer on `port` again, once the one that went away has let go of it
        (a connection kassad made while it closed can hold the port a moment)."""
        def bind():
            try:
                return NetworkPrinter(port)
            except OSError as e:
                if e.errno != errno.EADDRINUSE:
                    raise
                return None
        return wait_for(bind, 10, "port %d free for the printer to come back on" % port, interval=0.1)

    def _accepted(self, conn):
        with self.lock:
            if self.closed:  # accepted while the printer went away: it is gone too
                conn.close()
                return
            self.conns.append(conn)
        threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        pending = b""
        try:
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                pending += chunk
                while pending:
                    if pending[:2] == b"\x10\x04":
                        if len(pending) < 3:
                            break
                        n = pending[2]
                        pending = pending[3:]
                        answer = 0x72 if (n == 4 and self.paper_out) else 0x12
                        conn.sendall(bytes([answer]))
                        continue
                    cut = pending.find(b"\x10\x04")
                    data, pending = (pending, b"") if cut < 0 else (pending[:cut], pending[cut:])
                    with self.lock:
                        if self.cut_after is not None:
                            room = self.cut_after
                            self.received += data[:room]
                            self.cut_after = max(0, room - len(data))
                            if self.cut_after == 0:
                                self.cut_after = None
                                conn.close()
                                self.close()
                                return
                        else:
                            self.received += data
        except OSError:
            return

    def text(self):
        with self.lock:
            return escpos_text(bytes(self.received))

    def close(self):
        with self.lock:
            self.closed = True
        try:
            # shutdown wakes the accept() blocked in the other thread, so the
            # port is free for a printer that comes back on it.
            self.server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.server.close()
        except OSError:
            pass
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


class EventStream:
    """A minimal WebSocket client (RFC 6455) for kassad's /v1/events."""

    def __init__(self, port, token):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /v1/events?token=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                           % (token, port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        self.events = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise OSError("closed")
            data += chunk
        return data

    def _read(self):
        self.sock.settimeout(None)
        try:
            while True:
                b0, b1 = self._exact(2)
                length = b1 & 0x7F
                if length == 126:
                    length = struct.unpack(">H", self._exact(2))[0]
                elif length == 127:
                    length = struct.unpack(">Q", self._exact(8))[0]
                payload = self._exact(length)
                if b0 & 0x0F == 1:
                    with self.lock:
                        self.events.append(json.loads(payload))
        except OSError:
            return

    def wait(self, event_type, timeout=15, **match):
        def find():
            with self.lock:
                for e in self.events:
                    if e["type"] == event_type and all(e.get(k) == v for k, v in match.items()):
                        return e
            return None
        return wait_for(find, timeout, "event %s %s" % (event_type, match))

    def close(self):
        self.sock.close()


class KassadOnDevices(unittest.TestCase):
    """Starts kassad with `--hal linux` and the devices given to start(); stops it after the test."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kassa-hil-")
        self.proc = None
        self.events = None
        self.log = open(os.path.join(self.tmp, "kassad.log"), "wb")
        self.addCleanup(self.stop)  # also when setUp fails half-way, unlike tearDown

    def start(self, devices):
        self.devices_file = os.path.join(self.tmp, "devices.json")
        with open(self.devices_file, "w") as f:
            json.dump(devices, f)
        port_file = os.path.join(self.tmp, "port")
        # The operator the suite signs in as, with badge EMP0042.
        clienteling = write_clienteling_file(os.path.join(self.tmp, "clienteling.json"), ["RIGA-01"],
                                             [operator(IT_WORKER, "Hil Operator", "manager", IT_PIN, ["RIGA-01"],
                                                       badge="EMP0042")])
        self.proc = subprocess.Popen(EMULATOR + [
            KASSAD, "--data", os.path.join(self.tmp, "data"), "--config", SAMPLE_CONFIG, "--clienteling", clienteling,
            "--terminal", "HIL-1",
            "--listen", "127.0.0.1:0", "--port-file", port_file, "--hal", "linux", "--devices", self.devices_file,
            "--log-level", os.environ.get("KASSA_HIL_LOG", "info")],
            stdout=self.log, stderr=self.log)
        wait_for(lambda: os.path.exists(port_file) or self.proc.poll() is not None, 30, "kassad to start")
        if self.proc.poll() is not None:
            raise AssertionError(self.kassad_log())
        with open(port_file) as f:
            self.port = int(f.read())
        code, session = sign_in(self.port)
        if code != 201:
            raise AssertionError("sign-in answered %d: %s" % (code, session))
        self.token = session["token"]
        self.events = EventStream(self.port, self.token)
        wait_for(lambda: all(d["state"] == "ready" for d in self.devices_status().values() if d), 20,
                 "every device ready")

    def kassad_log(self):
        self.log.flush()
        with open(os.path.join(self.tmp, "kassad.log"), errors="replace") as f:
            return f.read()

    def stop(self):
        if self.events:
            self.events.close()
        stop_process(self.proc)
        self.log.close()
        if os.environ.get("KASSA_KEEP_HIL"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def http(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers={"Content-Type": "application/json", "Authorization": "Bearer " + self.token})
            res = conn.getresponse()
            return res.status, json.loads(res.read() or b"null")
        finally:
            conn.close()

    def anonymous_http(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers={"Content-Type": "application/json"})
            res = conn.getresponse()
            return res.status, json.loads(res.read() or b"null")
        finally:
            conn.close()

    def devices_status(self):
        code, body = self.http("GET", "/v1/devices")
        self.assertEqual(code, 200, body)
        return body["devices"]


class HilTest(KassadOnDevices):
    """Serial scanner, card reader and pole display on ptys; a TCP 9100 printer."""

    def setUp(self):
        super().setUp()
        self.scanner = Pty()
        self.reader = Pty()
        self.display = Pty()
        self.printer = NetworkPrinter()
        self.addCleanup(lambda: [p.close() for p in (self.scanner, self.reader, self.display)])
        self.addCleanup(lambda: self.printer.close())
        self.scanner_link = os.path.join(self.tmp, "scanner")
        os.symlink(self.scanner.path, self.scanner_link)
        self.start({
            "scanner": {"transport": "serial", "path": self.scanner_link, "baud": 9600},
            "card_reader": {"transport": "serial", "path": self.reader.path, "badge_prefix": "EMP"},
            "printer": {"transport": "tcp", "host": "127.0.0.1", "port": self.printer.port},
            "display": {"transport": "serial", "path": self.display.path},
            "key_file": os.path.join(self.tmp, "device.key"),
        })

    def test_scan_of_a_loyalty_card_finds_the_customer_and_greets_them(self):
        code, liga = self.http("POST", "/v1/customers", {"first_name": "Līga", "last_name": "Ozoliņa",
                                                          "loyalty_cards": ["LC-1001"]})
        self.assertEqual(code, 201, liga)
        self.display.read_all()
        self.scanner.write("LC-1001\r")
        event = self.events.wait("customer_found", device="scanner")
        self.assertEqual(event["customer"]["id"], liga["id"])
        self.assertEqual(event["code"], "LC-1001")
        shown = wait_for(lambda: self.display.read_all(), 10, "the pole display")
        self.assertEqual(shown, b"\x0c" + b"Welcome".ljust(20) + b"Liga Ozolina".ljust(20))

    def test_events_with_customers_reach_signed_in_clients_only(self):
        # The sign-in screen listens without a session (for badge swipes);
        # a customer found by a scan goes only to signed-in clients, and a
        # swipe tells it only who signed in, never the badge.
        anonymous = EventStream(self.port, "0" * 32)
        try:
            code, liga = self.http("POST", "/v1/customers", {"first_name": "Liga", "last_name": "Ozola",
                                                              "loyalty_cards": ["LC-2002"]})
            self.assertEqual(code, 201, liga)
            code, swipe = self.anonymous_http("POST", "/v1/session/swipe")
            self.assertEqual(code, 201, swipe)
            self.reader.write(";EMP0042=1?\r")
            anonymous.wait("signed_in", device="card_reader", detail="Hil Operator")
            self.scanner.write("LC-2002\r")
            self.events.wait("customer_found", device="scanner")
            self.reader.write(";EMP0043=1?\r")  # after the scan: once it arrives, the scan's event would have too
            anonymous.wait("badge_refused", device="card_reader")
            with anonymous.lock:
                self.assertEqual([e for e in anonymous.events if e.get("customer")], [])
                text = json.dumps(anonymous.events)
            self.assertNotIn("EMP004", text)
            # The screen that opened the ticket redeems it for a session, once.
            code, session = self.anonymous_http("POST", "/v1/session", {"ticket": swipe["ticket"]})
            self.assertEqual(code, 201, session)
            self.assertEqual(session["operator"]["worker_id"], IT_WORKER)
            code, again = self.anonymous_http("POST", "/v1/session", {"ticket": swipe["ticket"]})
            self.assertEqual(code, 401, again)
            # A badge sent to the API signs nobody in.
            code, refused = self.anonymous_http("POST", "/v1/session", {"badge": "EMP0042"})
            self.assertEqual(code, 400, refused)
            self.assertEqual(refused["error"]["field"], "badge")
        finally:
            anonymous.close()

    def test_unknown_card_then_sign_up_and_printed_receipt(self):
        self.reader.write(";60019988=2512?\r")
        event = self.events.wait("unknown_card", device="card_reader")
        self.assertEqual(event["code"], "60019988")
        code, created = self.http("POST", "/v1/customers?print_receipt=true",
                                  {"first_name": "Jānis", "last_name": "Bērziņš", "loyalty_cards": [event["code"]],
                                   "secondary_emails": [{"value": "janis@home.lv", "consent": True}]})
        self.assertEqual(code, 201, created)
        self.assertEqual(created["receipt"], "printed")
        text = wait_for(lambda: "Janis Berzins" in self.printer.text() and self.printer.text(), 10, "the receipt")
        self.assertIn("Customer no. Pending sync", text)
        self.assertIn("Email janis@home.lv: marketing yes", text)
        self.assertIn("Loyalty card: 60019988", text)
        self.reader.write(";EMP0042=1?\r")
        refused = self.events.wait("badge_refused")  # no sign-in screen is waiting
        self.assertNotIn("code", refused)

    def test_printer_pulled_mid_receipt_reports_and_retries(self):
        code, c = self.http("POST", "/v1/customers", {"first_name": "Aino", "last_name": "Virtanen"})
        self.assertEqual(code, 201)
        port = self.printer.port
        self.printer.cut_after = 20  # the printer goes away 20 bytes into the receipt
        code, body = self.http("POST", "/v1/customers/%s/receipt" % c["id"])
        self.assertEqual(code, 503, body)
        self.assertEqual(body["error"]["field"], "printer")
        self.events.wait("receipt_waiting")
        status = wait_for(lambda: (s := self.devices_status()["printer"])["state"] == "disconnected" and s, 10,
                          "the printer to show disconnected")
        self.assertTrue(status["detail"])
        # The printer comes back on the same address: kassad reconnects, sees
        # it ready, and prints the waiting receipt by itself.
        self.printer = NetworkPrinter.back_on(port)
        self.events.wait("receipt_printed", timeout=20)
        self.assertIn("Aino Virtanen", self.printer.text())
        self.assertEqual(self.devices_status()["printer"]["state"], "ready")

    def test_paper_out_is_a_clear_status(self):
        self.printer.paper_out = True
        status = wait_for(lambda: (s := self.devices_status()["printer"])["state"] == "fault" and s, 10, "paper out")
        self.assertEqual(status["detail"], "paper out")
        self.printer.paper_out = False
        wait_for(lambda: self.devices_status()["printer"]["state"] == "ready", 10, "the paper to be back")

    def test_scanner_unplugged_and_replugged_without_restarting(self):
        # The replacement pty exists before the old one goes, so it gets
        # another index: a reused index brings back the old tty's settings
        # (seen with qemu -strace) and is not what a replug looks like.
        replugged = Pty()
        self.scanner.close()
        os.unlink(self.scanner_link)
        wait_for(lambda: self.devices_status()["scanner"]["state"] == "disconnected", 10, "scanner disconnected")
        self.events.wait("device_status", device="scanner")
        os.symlink(replugged.path, self.scanner_link)
        self.scanner = replugged
        wait_for(lambda: self.devices_status()["scanner"]["state"] == "ready", 10, "scanner back")
        self.assertEqual(self.proc.poll(), None)
        self.scanner.write("NO-SUCH-CARD\r")
        self.assertEqual(self.events.wait("unknown_card", device="scanner")["code"], "NO-SUCH-CARD")


# Key codes (linux/input-event-codes.h) of the US layout kassad's evdev backend
# maps: the character -> (code, shift).
_KEYS_LOWER = "\0\0" "1234567890-=" "\0\0" "qwertyuiop[]" "\0\0" "asdfghjkl;'`" "\0" "\\zxcvbnm,./"
_KEYS_UPPER = "\0\0" "!@#$%^&*()_+" "\0\0" "QWERTYUIOP{}" "\0\0" "ASDFGHJKL:\"~" "\0" "|ZXCVBNM<>?"
EV_SYN, EV_KEY, KEY_ENTER, KEY_LEFTSHIFT = 0, 1, 28, 42


def key_events(text, enter=True):
    """(type, code, value) triples a keyboard-wedge scanner sends for `text`."""
    out = []
    for ch in text:
        shift = ch not in _KEYS_LOWER
        code = (_KEYS_UPPER if shift else _KEYS_LOWER).index(ch)
        if shift:
            out.append((EV_KEY, KEY_LEFTSHIFT, 1))
        out += [(EV_KEY, code, 1), (EV_SYN, 0, 0), (EV_KEY, code, 0), (EV_SYN, 0, 0)]
        if shift:
            out.append((EV_KEY, KEY_LEFTSHIFT, 0))
    if enter:
        out += [(EV_KEY, KEY_ENTER, 1), (EV_SYN, 0, 0), (EV_KEY, KEY_ENTER, 0), (EV_SYN, 0, 0)]
    return out


def pack_events(events, long_format):
    """struct input_event {struct timeval time; u16 type; u16 code; s32 value;}
    with the target's `long` (q on 64-bit targets, i on 32-bit armhf)."""
    now = time.time()
    sec, usec = int(now), int((now % 1) * 1e6)
    return b"".join(struct.pack("<%s%sHHi" % (long_format, long_format), sec, usec, t, c, v) for t, c, v in events)


def target_long_format():
    # The HIL suite runs the build of one architecture: armhf under qemu-arm
    # has a 32-bit long and time_t; the host and aarch64 have 64-bit ones.
    return "i" if EMULATOR and os.path.basename(EMULATOR[0]) == "qemu-arm" else "q"


class EvdevScannerTest(KassadOnDevices):
    """The evdev keyboard-wedge decoder (key codes, shift, Enter, the 100 ms
    end of a record without Enter, the device going away) fed through a pipe:
    these machines have no /dev/uinput, so the pipe stands in for the input
    device and the grab is off (`"grab": false`; a pipe cannot be grabbed)."""

    def setUp(self):
        super().setUp()
        self.fifo = os.path.join(self.tmp, "event-kbd")
        os.mkfifo(self.fifo)
        # Held open read-write so that kassad's reads block instead of seeing
        # end of file; closing it is the scanner being unplugged.
        self.writer = os.open(self.fifo, os.O_RDWR)
        self.addCleanup(lambda: self.writer is not None and os.close(self.writer))
        self.start({"scanner": {"transport": "evdev", "path": self.fifo, "grab": False}})

    def type(self, text, enter=True):
        os.write(self.writer, pack_events(key_events(text, enter), target_long_format()))

    def test_keyboard_wedge_scan_finds_the_customer(self):
        code, c = self.http("POST", "/v1/customers", {"first_name": "Mei", "last_name": "Wang",
                                                       "loyalty_cards": ["LC-2002"]})
        self.assertEqual(code, 201, c)
        self.type("LC-2002")
        event = self.events.wait("customer_found", device="scanner")
        self.assertEqual(event["code"], "LC-2002")
        self.assertEqual(event["customer"]["id"], c["id"])
        # A scanner set up without an Enter suffix: the record ends when the keys stop.
        self.type("Xy/9", enter=False)
        self.assertEqual(self.events.wait("unknown_card", device="scanner")["code"], "Xy/9")

    def test_unplugged_keyboard_wedge_is_reported_and_comes_back(self):
        os.close(self.writer)
        self.writer = None
        wait_for(lambda: self.devices_status()["scanner"]["state"] == "disconnected", 10, "scanner disconnected")
        self.writer = os.open(self.fifo, os.O_RDWR)
        wait_for(lambda: self.devices_status()["scanner"]["state"] == "ready", 10, "scanner back")
        self.type("AGAIN-1")
        self.assertEqual(self.events.wait("unknown_card", device="scanner")["code"], "AGAIN-1")


class UinputScannerTest(KassadOnDevices):
    """A virtual keyboard made with /dev/uinput typing into kassad's evdev
    backend with its exclusive grab, where the machine has /dev/uinput."""

    UI_SET_EVBIT, UI_SET_KEYBIT, UI_DEV_CREATE, UI_DEV_DESTROY = 0x40045564, 0x40045565, 0x5501, 0x5502
    NAME = b"kassa-hil-wedge-%d" % os.getpid()

    def setUp(self):
        super().setUp()
        if not os.access("/dev/uinput", os.W_OK):
            self.skipTest("no writable /dev/uinput on this machine: the keyboard wedge through a real input "
                          "device is not tested here (EvdevScannerTest covers the decoder through a pipe)")
        if target_long_format() == "i":
            self.skipTest("qemu-arm passes the host's 64-bit input_event through unchanged to the 32-bit "
                          "target; run this on an armhf board")
        self.uinput = os.open("/dev/uinput", os.O_WRONLY | os.O_NONBLOCK)
        self.addCleanup(os.close, self.uinput)
        fcntl.ioctl(self.uinput, self.UI_SET_EVBIT, EV_KEY)
        for code in range(1, 128):
            fcntl.ioctl(self.uinput, self.UI_SET_KEYBIT, code)
        # struct uinput_user_dev: name[80], input_id (4 x u16), ff_effects_max, 4 x abs[64].
        os.write(self.uinput, struct.pack("80sHHHHi", self.NAME, 0x03, 0x1234, 0x5678, 1, 0) + bytes(4 * 64 * 4))
        fcntl.ioctl(self.uinput, self.UI_DEV_CREATE)
        self.addCleanup(fcntl.ioctl, self.uinput, self.UI_DEV_DESTROY)
        node = wait_for(self.event_node, 5, "the virtual keyboard's /dev/input/event node")
        self.start({"scanner": {"transport": "evdev", "path": node}})

    def event_node(self):
        base = "/sys/class/input"
        for entry in os.listdir(base):
            if not entry.startswith("event"):
                continue
            try:
                with open(os.path.join(base, entry, "device", "name"), "rb") as f:
                    if f.read().strip() == self.NAME and os.path.exists("/dev/input/" + entry):
                        return "/dev/input/" + entry
            except OSError:
                continue
        return None

    def test_virtual_keyboard_scan_reaches_kassad(self):
        os.write(self.uinput, pack_events(key_events("UI-3003"), "q"))
        self.assertEqual(self.events.wait("unknown_card", device="scanner")["code"], "UI-3003")


class DevicesFileTest(unittest.TestCase):
    def test_a_bad_devices_file_is_refused_with_the_member_named(self):
        with tempfile.TemporaryDirectory(prefix="kassa-hil-") as tmp:
            for devices, named in ((
                    {"scanner": {"transport": "serial", "path": "/dev/ttyACM0", "grab": False}}, "scanner.grab"),
                    ({"card_reader": {"transport": "evdev", "path": "/dev/input/event3", "grab": 1}},
                     "card_reader.grab"),
                    ({"display": {"transport": "evdev", "path": "/dev/input/event3"}}, "display.transport")):
                path = os.path.join(tmp, "devices.json")
                with open(path, "w") as f:
                    json.dump(devices, f)
                run = subprocess.run(EMULATOR + [KASSAD, "--data", os.path.join(tmp, "data"), "--config",
                                                 SAMPLE_CONFIG, "--listen", "127.0.0.1:0", "--hal", "linux",
                                                 "--devices", path], capture_output=True, text=True, timeout=60)
                self.assertNotEqual(run.returncode, 0, devices)
                self.assertIn(named, run.stderr, devices)


if __name__ == "__main__":
    unittest.main()
