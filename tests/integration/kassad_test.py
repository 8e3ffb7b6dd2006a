"""Integration tests: real kassad and kassactl processes on 127.0.0.1.

Each test starts kassad on a fresh data directory with a free port, drives it
through kassactl (the contract scripts rely on) and raw HTTP, and kills it
with SIGKILL where power-cut safety is the question. Paths come from the
environment CTest sets: KASSAD, KASSACTL, KASSA_SAMPLE_CONFIG.
"""

import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from kassa_harness import EMULATOR, IT_WORKER, sign_in, stop_process, write_clienteling_file  # noqa: E402

KASSAD = os.environ["KASSAD"]
KASSACTL = os.environ["KASSACTL"]
SAMPLE_CONFIG = os.environ["KASSA_SAMPLE_CONFIG"]


class Kassad:
    """One kassad process on its data directory."""

    def __init__(self, data_dir, config=SAMPLE_CONFIG):
        self.data_dir = data_dir
        self.config = config
        self.proc = None
        self.port = None
        self.token = None
        self.clienteling = write_clienteling_file(data_dir + ".clienteling.json", ["RIGA-01"])

    def start(self, with_config=True, sign_in_as_it=True):
        port_file = os.path.join(self.data_dir, "..", os.path.basename(self.data_dir) + ".port")
        if os.path.exists(port_file):
            os.remove(port_file)
        args = [KASSAD, "--data", self.data_dir, "--listen", "127.0.0.1:0", "--terminal", "POS-IT",
                "--port-file", port_file, "--log-level", "warning"]
        if with_config:
            args += ["--config", self.config, "--clienteling", self.clienteling]
        self.proc = subprocess.Popen(EMULATOR + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file):
            if self.proc.poll() is not None:
                raise AssertionError("kassad exited: " + self.proc.stderr.read().decode())
            if time.monotonic() > deadline:
                raise AssertionError("kassad did not start in 30 s")
            time.sleep(0.01)
        with open(port_file) as f:
            self.port = int(f.read())
        self.token = None
        if sign_in_as_it:
            status, body = sign_in(self.port)
            if status != 201:
                raise AssertionError("sign-in as %s answered %d: %s" % (IT_WORKER, status, body))
            self.token = body["token"]
        return self

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            stop_process(self.proc)
            self.proc.stdout.close()
            self.proc.stderr.close()

    def http(self, method, path, body=None, raw=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = raw if raw is not None else (json.dumps(body) if body is not None else None)
            headers = {"Content-Type": "application/json"}
            if self.token:
                headers["Authorization"] = "Bearer " + self.token
            conn.request(method, path, body=data, headers=headers)
            res = conn.getresponse()
            return res.status, json.loads(res.read() or b"null")
        finally:
            conn.close()

    def ctl(self, *args, check=True):
        env = dict(os.environ, KASSA_SESSION=self.token or "", KASSA_SESSION_FILE=self.data_dir + ".session")
        res = subprocess.run(EMULATOR + [KASSACTL, "--url", self.url, "--json", *args],
                             capture_output=True, text=True, timeout=30, env=env)
        out = json.loads(res.stdout) if res.stdout.strip() else None
        if check and res.returncode != 0:
            raise AssertionError("kassactl %s exited %d: %s %s" % (args, res.returncode, res.stdout, res.stderr))
        return res.returncode, out, res.stderr


class KassadTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kassa-it-")
        self.data = os.path.join(self.tmp, "data")
        self.kassad = Kassad(self.data).start()

    def tearDown(self):
        self.kassad.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def restart(self):
        self.kassad.stop()
        self.kassad.start(with_config=False)  # the configuration saved in the store

    def counts(self):
        status, body = self.kassad.http("GET", "/v1/status")
        self.assertEqual(status, 200)
        return body["customers"], body["outbox"]["length"]

    def search(self, text):
        _, out, _ = self.kassad.ctl("customer", "search", text)
        return out["results"]


class CreateRestartFindTest(KassadTestCase):
    """Acceptance 2: three customers, a restart, found every way."""

    def test_three_customers_survive_restart_and_are_found(self):
        _, person, _ = self.kassad.ctl(
            "customer", "add", "--first-name", "Līga", "--last-name", "Ozoliņa",
            "--email", "Liga.Ozolina@Example.LV", "--phone", "2911 2233",
            "--secondary-email", "liga@home.lv;consent=yes",
            "--address", "street=Brīvības iela 10;city=Rīga;postal=LV-1010",
            "--address", "purpose=office;street=Krišjāņa Barona 5;city=Rīga")
        _, org, _ = self.kassad.ctl(
            "customer", "add", "--type", "organization", "--org-name", "Baltic Amber SIA",
            "--phone", "+371 6700 1122", "--email", "Info@Amber.LV", "--group", "WHOLESALE",
            "--address", "street=Rūpniecības iela 3;city=Rīga")
        _, plain, _ = self.kassad.ctl("customer", "add", "--last-name", "Kalniņš", "--phone", "+37120001234",
                                      "--email", "kalnins@example.lv")
        self.restart()

        cases = [("ozolina liga", person, "last name"), ("+371 29 112 233", person, "phone"),
                 ("liga.ozolina@example.lv", person, "email"), ("LIGA@HOME.LV", person, "secondary email"),
                 ("sia amber", org, "organization name"), ("67001122", org, "phone"),
                 ("INFO@amber.lv", org, "email"), ("kalnins", plain, "last name"),
                 ("2000 1234", plain, "phone"), ("KALNINS@EXAMPLE.LV", plain, "email")]
        for text, expected, matched in cases:
            results = self.search(text)
            self.assertTrue(results, "nothing found for %r" % text)
            self.assertEqual(results[0]["customer"]["id"], expected["id"], text)
            self.assertEqual(results[0]["matched"], matched, text)

        _, shown, _ = self.kassad.ctl("customer", "show", person["id"])
        self.assertEqual(shown["account"], "Pending sync")
        self.assertTrue(shown["pending"])
        self.assertEqual([a["purpose"] for a in shown["addresses"]], ["home", "office"])
        self.assertEqual([a["country"] for a in shown["addresses"]], ["LV", "LV"])
        self.assertTrue(shown["secondary_emails"][0]["consent"]["granted"])
        self.assertEqual(shown["secondary_emails"][0]["consent"]["operator"], IT_WORKER)
        self.assertEqual(shown["secondary_emails"][0]["consent"]["terminal"], "POS-IT")

        _, shown_org, _ = self.kassad.ctl("customer", "show", org["id"])
        self.assertEqual(shown_org["addresses"][0]["purpose"], "business")
        self.assertEqual(shown_org["customer_group"], "WHOLESALE")

        _, shown_plain, _ = self.kassad.ctl("customer", "show", plain["id"])
        self.assertEqual(shown_plain["type"], "person")
        self.assertEqual(shown_plain["customer_group"], "RETAIL")
        self.assertEqual(shown_plain["receipt_preference"], "email")
        self.assertEqual(shown_plain["receipt_email"], "receipts@dzintars.example")
        self.assertEqual(shown_plain["currency"], "EUR")
        self.assertEqual(shown_plain["language"], "lv")
        self.assertEqual(shown_plain["affiliations"], ["Loyalty club"])

        _, outbox, _ = self.kassad.ctl("outbox")
        self.assertEqual(outbox["length"], 3)
        rc, doctor, _ = self.kassad.ctl("doctor")
        self.assertEqual(rc, 0)
        self.assertTrue(doctor["ok"])

    def test_edit_with_version_and_conflict(self):
        _, c, _ = self.kassad.ctl("customer", "add", "--first-name", "Anna", "--last-name", "Liepa")
        _, edited, _ = self.kassad.ctl("customer", "edit", c["id"], "--email", "anna@liepa.lv")
        self.assertEqual(edited["version"], 2)
        rc, err, _ = self.kassad.ctl("customer", "edit", c["id"], "--last-name", "Egle", "--version", "1",
                                     check=False)
        self.assertEqual(rc, 5)
        self.assertEqual(err["error"]["field"], "version")
        _, now, _ = self.kassad.ctl("customer", "show", c["id"])
        self.assertEqual(now["last_name"], "Liepa")
        _, outbox, _ = self.kassad.ctl("outbox")
        self.assertEqual(outbox["length"], 2)  # the creation, then the edit queued behind it


class BadInputTest(KassadTestCase):
    """Acceptance 3: each bad input refused, naming the field; nothing changes."""

    def test_bad_inputs_change_nothing(self):
        self.kassad.ctl("customer", "add", "--last-name", "Baseline")
        before = self.counts()
        cases = [
            (["--last-name", "X", "--email", "not-an-email"], "email"),
            (["--last-name", "X", "--phone", "call me maybe"], "phone"),
            (["--email", "nameless@example.lv"], "name"),
            (["--last-name", "X", "--group", "VIP"], "customer_group"),
            (["--last-name", "N" * 10240], "last_name"),
            (["--last-name", "X", "--address", "city=Rīga;country=Latvia"], "addresses.country"),
        ]
        for args, field in cases:
            rc, out, _ = self.kassad.ctl("customer", "add", *args, check=False)
            self.assertEqual(rc, 3, args)
            self.assertEqual(out["error"]["field"], field, args)
        status, body = self.kassad.http("POST", "/v1/customers", raw='{"last_name": "X",')
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["field"], "body")
        status, body = self.kassad.http("POST", "/v1/customers", body={"last_name": "X", "colour": "red"})
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["field"], "colour")
        status, body = self.kassad.http("POST", "/v1/customers", body={"last_name": 42})
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["field"], "last_name")
        status, body = self.kassad.http("POST", "/v1/customers", raw='{"last_name": "' + "x" * 70000 + '"}')
        self.assertEqual(status, 413)
        self.assertEqual(self.counts(), before)
        rc, doctor, _ = self.kassad.ctl("doctor")
        self.assertEqual(rc, 0)

    def test_usage_and_not_found_exit_codes(self):
        rc, _, _ = self.kassad.ctl("customer", "show", "no-such-account", check=False)
        self.assertEqual(rc, 4)
        res = subprocess.run(EMULATOR + [KASSACTL, "customer", "frobnicate"], capture_output=True)
        self.assertEqual(res.returncode, 2)
        res = subprocess.run(EMULATOR + [KASSACTL, "--url", "http://127.0.0.1:1", "status"], capture_output=True, text=True)
        self.assertEqual(res.returncode, 5)
        self.assertIn("not reachable", res.stderr)

    def test_api_is_loopback_only(self):
        res = subprocess.run(EMULATOR + [KASSAD, "--data", os.path.join(self.tmp, "other"), "--config", SAMPLE_CONFIG,
                              "--listen", "0.0.0.0:0"], capture_output=True, text=True, timeout=30)
        self.assertEqual(res.returncode, 1)
        self.assertIn("loopback", res.stderr)


class PowerCutTest(unittest.TestCase):
    """Acceptance 4: SIGKILL at random moments during a loop of creates."""

    MIN_ACKED = 200

    def test_kill9_loses_no_acknowledged_create(self):
        rng = random.Random(int(os.environ.get("KASSA_SEED", "20261122")))
        tmp = tempfile.mkdtemp(prefix="kassa-cut-")
        kassad = Kassad(os.path.join(tmp, "data")).start()
        acked = []          # ids of creates that returned 201
        unacked = 0         # creates cut off by the kill: may or may not exist
        kills = 0
        try:
            while len(acked) < self.MIN_ACKED or kills < 10:
                killer = threading.Timer(rng.uniform(0.02, 0.4), kassad.kill9)
                killer.start()
                n = 0
                while kassad.proc.poll() is None:
                    n += 1
                    try:
                        status, body = kassad.http("POST", "/v1/customers", timeout=5, body={
                            "first_name": "Cut%d" % kills, "last_name": "Test%d" % len(acked),
                            "phone": "+3712%07d" % (len(acked) * 13 + n % 13),
                            "secondary_emails": [{"value": "c%d.%d@example.lv" % (kills, n), "consent": True}]})
                    except (OSError, http.client.HTTPException):
                        unacked += 1
                        break
                    self.assertEqual(status, 201, body)
                    acked.append(body["id"])
                killer.join()
                kassad.proc.wait()
                kills += 1
                kassad.start(with_config=False)
                # Every acknowledged create is there after the restart.
                for cid in acked[-50:] + rng.sample(acked, min(20, len(acked))):
                    status, body = kassad.http("GET", "/v1/customers/" + cid)
                    self.assertEqual(status, 200, "acknowledged customer %s lost after kill %d" % (cid, kills))
                status, st = kassad.http("GET", "/v1/status")
                self.assertGreaterEqual(st["customers"], len(acked))
                self.assertLessEqual(st["customers"], len(acked) + unacked)
                self.assertEqual(st["outbox"]["length"], st["pending_customers"])
                self.assertEqual(st["customers"], st["pending_customers"])
                status, doctor = kassad.http("GET", "/v1/doctor")
                self.assertTrue(doctor["ok"], doctor["problems"])
            for cid in acked:
                status, _ = kassad.http("GET", "/v1/customers/" + cid)
                self.assertEqual(status, 200, "acknowledged customer %s lost" % cid)
            rc = subprocess.run(EMULATOR + [KASSACTL, "--url", kassad.url, "doctor"], capture_output=True, text=True)
            self.assertEqual(rc.returncode, 0, rc.stdout)
            print("\npower cut: %d kills, %d acknowledged creates, %d cut off; all present, doctor: %s"
                  % (kills, len(acked), unacked, rc.stdout.strip()))
        finally:
            kassad.stop()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
