#!/usr/bin/env python3
"""The kassa packages as a store's IT installs them (issue 19): in a throwaway Debian 12 root.

1. The previous release's `kassa` package (packaging/previous-release names its version and
   commit; built here from git, host only) is installed with dpkg in a debootstrap root: its
   postinst makes the `kassa` system user. The unit's own ExecStart, EnvironmentFile, User and
   UMask start kassad there, with site options written into the /etc/default/kassad conffile;
   customers are created through its API.
2. This build's `kassa` package is installed over it (dpkg -i --force-confold, as an unattended
   upgrade does); the site options survive; the unit's command starts the new kassad on the old
   data directory and every customer is found, by id and by search.
3. This build's `kassa-hq` package is installed beside it and its unit's command starts there
   (after `kassa-hq pki init` as the kassa user) and answers its admin API.

The root: `debootstrap --variant=minbase bookworm` from Debian's archive with the packages'
Depends, kept as a tarball (named by those packages) in $KASSA_TEST_CACHE (/var/cache/kassa-tests)
for a week. systemd itself does not run in the root (no init in a container); what the unit asks of the process
(user, umask, state directory, options) is done by hand from the unit file, and `systemd-analyze
verify` checks the units elsewhere (packaging.units).

Needs root (chroot, mount). Exit 77 (skipped) when not root or when this clone lacks the
previous release's commit. The previous release's kassad it builds (BUILD/previous-release) is
also the older terminal of the link suite's VersionSkewTest; CTest builds it first, in the fixture
packaging.previous_release (this script with --previous-only).

usage: upgrade_test.py SOURCE_DIR BUILD_DIR [--previous-only]
  --previous-only  only build the previous release (CTest's fixture packaging.previous_release,
                   which the link suite needs too); exits 0 saying why when it cannot
"""

import glob
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from kassa_harness import http_json, sign_in, stop_process, wait_for, write_clienteling_file  # noqa: E402

SKIP = 77
CUSTOMERS = 40
ROOT_MAX_AGE_S = 7 * 24 * 3600
ROOT_PACKAGES = "adduser,liblmdb0,libutf8proc2,libssl3,libpq5"  # the packages' Depends beyond the base system


def say(*what):
    print("[upgrade]", *what, flush=True)


def run(cmd, **kw):
    """Runs `cmd`; its output is shown only when it fails."""
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        raise AssertionError("%s exited %d:\n%s%s" % (" ".join(cmd), res.returncode, res.stdout[-4000:],
                                                      res.stderr[-4000:]))
    return res.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def previous_package(source, build):
    """The previous release's `kassa` .deb, built from its commit (kept in BUILD/previous-release)."""
    with open(os.path.join(source, "packaging", "previous-release")) as f:
        version, commit = [line for line in f if line.strip() and not line.startswith("#")][0].split()
    if subprocess.run(["git", "-C", source, "cat-file", "-e", commit + "^{commit}"],
                      capture_output=True).returncode != 0:
        say("SKIP: the previous release's commit %s is not in this clone (a shallow clone?)" % commit)
        sys.exit(0 if "--previous-only" in sys.argv else SKIP)
    home = os.path.join(build, "previous-release")
    src, out, debs = os.path.join(home, "src"), os.path.join(home, "build"), os.path.join(home, "debs")
    marker = os.path.join(home, "commit")
    if not os.path.exists(marker) or open(marker).read() != commit:
        shutil.rmtree(home, ignore_errors=True)
        os.makedirs(src)
        archive = subprocess.Popen(["git", "-C", source, "archive", commit], stdout=subprocess.PIPE)
        run(["tar", "-x", "-C", src], stdin=archive.stdout)
        if archive.wait() != 0:
            raise AssertionError("git archive %s failed" % commit)
        with open(marker, "w") as f:
            f.write(commit)
    # Relative paths for ccache (CCACHE_BASEDIR), no debug info, no cwd in the hash: a second run,
    # from any clone, compiles nothing.
    # The tree has no .git: git must not find the enclosing checkout's (its --version says "git unknown").
    env = dict(os.environ, CCACHE_BASEDIR=home, CCACHE_NOHASHDIR="1", GIT_CEILING_DIRECTORIES=home)
    flags = "-O2 -DNDEBUG"
    began = time.monotonic()
    run(["cmake", "-S", src, "-B", out, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
         "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=" + flags, "-DCMAKE_C_FLAGS_RELWITHDEBINFO=" + flags,
         "-DKASSA_BUILD_TESTS=OFF", "-DKASSA_BUILD_BENCH=OFF"], env=env)
    run(["ninja", "-C", out, "-j", os.environ.get("JOBS", "2"), "kassad", "kassactl"], env=env)
    shutil.rmtree(debs, ignore_errors=True)
    run(["cpack", "-G", "DEB", "-B", debs, "-D", "CPACK_COMPONENTS_ALL=terminal"], cwd=out, env=env)
    found = glob.glob(os.path.join(debs, "kassa_%s_*.deb" % version))
    if len(found) != 1:
        raise AssertionError("the previous release's build made %s" % os.listdir(debs))
    say("previous release %s (%s) built and packaged in %.0f s" % (version, commit[:7], time.monotonic() - began))
    return found[0]


def current_packages(build, work):
    out = os.path.join(work, "debs")
    run(["cpack", "-G", "DEB", "-B", out], cwd=build)
    terminal = glob.glob(os.path.join(out, "kassa_*.deb"))
    hq = glob.glob(os.path.join(out, "kassa-hq_*.deb"))
    if len(terminal) != 1 or len(hq) != 1:
        raise AssertionError("cpack made %s" % os.listdir(out))
    return terminal[0], hq[0]


def debian_root(work):
    """A fresh Debian 12 minbase root in WORK/root, from the cached tarball (made when missing or old)."""
    cache = os.environ.get("KASSA_TEST_CACHE", "/var/cache/kassa-tests")
    # Named by what it holds: a change of ROOT_PACKAGES makes a new one.
    tarball = os.path.join(cache, "bookworm-minbase-%s.tar" % ROOT_PACKAGES.replace(",", "-"))
    if not os.path.exists(tarball) or time.time() - os.path.getmtime(tarball) > ROOT_MAX_AGE_S:
        os.makedirs(cache, exist_ok=True)
        staging = tempfile.mkdtemp(prefix="kassa-debootstrap-", dir=cache)
        try:
            began = time.monotonic()
            run(["debootstrap", "--variant=minbase", "--include=" + ROOT_PACKAGES, "bookworm", staging,
                 os.environ.get("KASSA_DEBIAN_MIRROR", "http://deb.debian.org/debian")])
            run(["tar", "-C", staging, "-cf", tarball + ".part", "."])
            os.replace(tarball + ".part", tarball)
            say("debootstrap: a bookworm minbase root in %.0f s, cached in %s" % (time.monotonic() - began, tarball))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    root = os.path.join(work, "root")
    os.makedirs(root)
    run(["tar", "-C", root, "-xf", tarball])
    os.chmod(root, 0o755)  # its / as on any system (the staging directory was private)
    return root


class Unit:
    """What a systemd unit asks of its process, read from the unit file installed in the root."""

    def __init__(self, root, name):
        self.root = root
        self.fields = {}
        with open(os.path.join(root, "lib/systemd/system", name)) as f:
            for line in f:
                if "=" in line and not line.startswith(("#", "[")):
                    key, value = line.rstrip("\n").split("=", 1)
                    self.fields[key] = value

    def start(self, log):
        """Starts ExecStart in the root as User=, with UMask= and the EnvironmentFile= sourced, in
        the StateDirectory= it would create (owned by the user, StateDirectoryMode=)."""
        user = self.fields["User"]
        state = os.path.join(self.root, "var/lib", self.fields["StateDirectory"])
        os.makedirs(state, exist_ok=True)
        os.chown(state, int(run(["chroot", self.root, "id", "-u", user])), int(run(["chroot", self.root, "id", "-g", user])))
        os.chmod(state, int(self.fields["StateDirectoryMode"], 8))
        env_file = self.fields["EnvironmentFile"].lstrip("-")
        script = "umask %s; [ ! -r %s ] || . %s; exec %s" % (self.fields["UMask"], env_file, env_file,
                                                             self.fields["ExecStart"])
        return subprocess.Popen(["chroot", "--userspec=%s:%s" % (user, self.fields["Group"]), self.root,
                                 "/bin/sh", "-c", script], stdout=log, stderr=log, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})


def answers(port):
    try:
        return http_json(port, "GET", "/v1/status")[0] in (200, 401)
    except OSError:
        return False


def installed_version(root, package):
    return run(["chroot", root, "dpkg-query", "-W", "-f", "${Version}", package])


def main():
    source, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    previous = previous_package(source, build)  # also the link suite's older terminal (VersionSkewTest)
    if "--previous-only" in sys.argv:
        return 0
    if os.geteuid() != 0:
        say("SKIP: needs root (chroot and mount)")
        return SKIP
    work = tempfile.mkdtemp(prefix="kassa-upgrade-")
    procs, mounted = [], []
    try:
        terminal_deb, hq_deb = current_packages(build, work)
        root = debian_root(work)
        run(["mount", "-t", "proc", "proc", os.path.join(root, "proc")])
        mounted.append(os.path.join(root, "proc"))
        for deb in (previous, terminal_deb, hq_deb):
            shutil.copy(deb, os.path.join(root, "tmp"))

        # 1. The previous release, installed and run as its unit says.
        run(["chroot", root, "dpkg", "-i", "/tmp/" + os.path.basename(previous)])
        old_version = installed_version(root, "kassa")
        run(["chroot", root, "getent", "passwd", "kassa"])
        os.makedirs(os.path.join(root, "etc/kassa"))
        shutil.copy(os.path.join(root, "usr/share/doc/kassa/store.sample.json"), os.path.join(root, "etc/kassa/store.json"))
        with open(os.path.join(root, "etc/kassa/store.json")) as f:
            store_id = json.load(f)["store_id"]
        write_clienteling_file(os.path.join(root, "etc/kassa/clienteling.json"), [store_id])
        port = free_port()
        options = ("--terminal POS-UPGRADE --listen 127.0.0.1:%d --config /etc/kassa/store.json "
                   "--clienteling /etc/kassa/clienteling.json --log-level warning" % port)
        with open(os.path.join(root, "etc/default/kassad"), "a") as f:  # a site's change to the conffile
            f.write('KASSAD_OPTIONS="%s"\n' % options)
        log = open(os.path.join(work, "kassad.log"), "ab")
        unit = Unit(root, "kassad.service")
        proc = unit.start(log)
        procs.append(proc)
        wait_for(lambda: answers(port) or proc.poll() is not None, 60, "kassad %s serving" % old_version)
        assert proc.poll() is None, open(os.path.join(work, "kassad.log")).read()
        code, session = sign_in(port)
        assert code == 201, (code, session)
        created = {}
        for i in range(CUSTOMERS):
            last = "Jauninajums" + "".join(chr(ord("a") + (i // 26 ** k) % 26) for k in range(3))
            code, c = http_json(port, "POST", "/v1/customers?confirm_duplicates=true",
                                {"first_name": "Pakete", "last_name": last,
                                 "email": "pakete%d@example.lv" % i}, token=session["token"])
            assert code == 201, (code, c)
            created[c["id"]] = last
        stop_process(proc)
        data = os.path.join(root, "var/lib/kassa/terminal")
        owner = os.stat(data).st_uid
        say("kassa %s installed in a bookworm root, its unit's command served as user %s, %d customers created"
            % (old_version, run(["chroot", root, "id", "-nu", str(owner)]).strip(), len(created)))

        # 2. This build's package over it.
        run(["chroot", root, "dpkg", "-i", "--force-confold", "/tmp/" + os.path.basename(terminal_deb)])
        new_version = installed_version(root, "kassa")
        assert new_version != old_version, new_version
        assert run(["dpkg", "--compare-versions", new_version, "gt", old_version]) == ""
        with open(os.path.join(root, "etc/default/kassad")) as f:
            assert options in f.read(), "the site's options in /etc/default/kassad were lost"
        assert os.stat(data).st_uid == owner, "the data directory changed hands"
        version_line = run(["chroot", root, "/usr/bin/kassad", "--version"]).strip()
        assert version_line.startswith("kassad " + new_version), version_line
        proc = Unit(root, "kassad.service").start(log)
        procs.append(proc)
        wait_for(lambda: answers(port) or proc.poll() is not None, 60, "kassad %s serving" % new_version)
        assert proc.poll() is None, open(os.path.join(work, "kassad.log")).read()
        code, session = sign_in(port)
        assert code == 201, (code, session)
        code, status = http_json(port, "GET", "/v1/status", token=session["token"])
        assert code == 200 and status["customers"] == CUSTOMERS, (code, status)
        for cid, last in created.items():
            code, c = http_json(port, "GET", "/v1/customers/" + cid, token=session["token"])
            assert code == 200 and c["last_name"] == last, (cid, code, c)
        some = sorted(created.values())[CUSTOMERS // 2]
        code, found = http_json(port, "GET", "/v1/customers?q=" + some, token=session["token"])
        assert code == 200 and [r["customer"]["last_name"] for r in found["results"]][:1] == [some], (code, found)
        stop_process(proc)
        say("upgraded to %s (%s) with dpkg; the site's options kept; all %d customers found by id, one by search"
            % (new_version, version_line, len(created)))

        # 3. Headquarters' package beside it.
        run(["chroot", root, "dpkg", "-i", "--force-confold", "/tmp/" + os.path.basename(hq_deb)])
        hq_unit = Unit(root, "kassa-hq.service")
        os.makedirs(os.path.join(root, "var/lib/kassa"), exist_ok=True)
        run(["chroot", "--userspec=kassa:kassa", root, "/usr/bin/kassa-hq", "pki", "init",
             "--data", "/var/lib/kassa/hq", "--hq-name", "127.0.0.1"])
        link_port, admin_port = free_port(), free_port()
        with open(os.path.join(root, "etc/default/kassa-hq"), "a") as f:
            f.write('KASSA_HQ_OPTIONS="--config /usr/share/doc/kassa-hq/chain.sample.json --listen 127.0.0.1:%d '
                    '--admin 127.0.0.1:%d --admin-token-file /var/lib/kassa/hq-admin-token --map-size 64 '
                    '--log-level warning"\n' % (link_port, admin_port))
        hq_log = open(os.path.join(work, "kassa-hq.log"), "ab")
        hq = hq_unit.start(hq_log)
        procs.append(hq)
        wait_for(lambda: answers(admin_port) or hq.poll() is not None, 60, "kassa-hq serving")
        assert hq.poll() is None, open(os.path.join(work, "kassa-hq.log")).read()
        with open(os.path.join(root, "var/lib/kassa/hq-admin-token")) as f:
            token = f.read().strip()
        code, status = http_json(admin_port, "GET", "/v1/status", token=token)
        assert code == 200, (code, status)
        token_mode = os.stat(os.path.join(root, "var/lib/kassa/hq-admin-token")).st_mode & 0o777
        assert token_mode == 0o600, oct(token_mode)
        stop_process(hq)
        say("kassa-hq %s installed beside it; its unit's command served the admin API (status 200)"
            % installed_version(root, "kassa-hq"))
        print("upgrade_test: ok")
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        for m in mounted:
            subprocess.run(["umount", "-l", m])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
