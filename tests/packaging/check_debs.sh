#!/usr/bin/env bash
# Builds the Debian packages of a build directory (cpack -G DEB) and checks
# them: metadata and paths (dpkg-deb -I/-c), Depends against the binaries'
# NEEDED entries, lintian's findings (errors fail), and on the host, the
# packages extracted into a throwaway root with their commands started there
# (kassad serving the screens it was installed with).
#
# usage: check_debs.sh BUILD_DIR DEB_ARCH
set -euo pipefail
build=$1
arch=$2
out=$(mktemp -d /tmp/kassa-debs.XXXXXX)
trap 'rm -rf "$out"' EXIT

fail() { echo "check_debs: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$out" >"$out/cpack.log" 2>&1) || { cat "$out/cpack.log" >&2; fail "cpack failed"; }
terminal=$(ls "$out"/kassa_*_"$arch".deb 2>/dev/null) || fail "no kassa package for $arch"
debs=("$terminal")
hq=""
if [ "$arch" != armhf ]; then
  hq=$(ls "$out"/kassa-hq_*_"$arch".deb 2>/dev/null) || fail "no kassa-hq package for $arch"
  debs+=("$hq")
fi

field() { dpkg-deb -f "$1" "$2"; }
has() { dpkg-deb -c "$1" | awk '{print $6}' | grep -qx "$2" || fail "$(basename "$1") lacks $2"; }

# Metadata and paths.
for deb in "${debs[@]}"; do
  echo "== $(basename "$deb")"
  dpkg-deb -f "$deb"
  [ "$(field "$deb" Architecture)" = "$arch" ] || fail "$(basename "$deb"): Architecture is not $arch"
  [ "$(field "$deb" Section)" = misc ] || fail "$(basename "$deb"): no Section"
  field "$deb" Depends | grep -q 'libc6' || fail "$(basename "$deb"): Depends lacks libc6"
  field "$deb" Depends | grep -q 'adduser' || fail "$(basename "$deb"): Depends lacks adduser"
done
has "$terminal" ./usr/bin/kassad
has "$terminal" ./usr/bin/kassactl
has "$terminal" ./usr/share/kassa/ui/index.html
has "$terminal" ./usr/share/kassa/ui/locales/lv.json
has "$terminal" ./lib/systemd/system/kassad.service
has "$terminal" ./etc/default/kassad
has "$terminal" ./usr/share/doc/kassa/copyright
has "$terminal" ./usr/share/doc/kassa/store.sample.json
has "$terminal" ./usr/share/man/man1/kassad.1.gz
has "$terminal" ./usr/share/man/man1/kassactl.1.gz
dpkg-deb --ctrl-tarfile "$terminal" | tar -t | grep -qx './conffiles' || fail "kassa: no conffiles"
dpkg-deb --ctrl-tarfile "$terminal" | tar -xO ./conffiles | grep -qx /etc/default/kassad ||
  fail "kassa: /etc/default/kassad is not a conffile"
if [ -n "$hq" ]; then
  has "$hq" ./usr/bin/kassa-hq
  has "$hq" ./lib/systemd/system/kassa-hq.service
  has "$hq" ./etc/default/kassa-hq
  has "$hq" ./usr/share/doc/kassa-hq/copyright
  has "$hq" ./usr/share/man/man1/kassa-hq.1.gz
fi

# Every shared library a binary needs is named by its package's Depends.
declare -A package_of=([libc.so.6]=libc6 [libm.so.6]=libc6 [libstdc++.so.6]=libstdc++6 [libgcc_s.so.1]=libgcc-s1
                       [liblmdb.so.0]=liblmdb0 [libutf8proc.so.2]=libutf8proc2 [libssl.so.3]=libssl3 [libcrypto.so.3]=libssl3 [libpq.so.5]=libpq5
                       [ld-linux-armhf.so.3]=libc6 [ld-linux-aarch64.so.1]=libc6)
root=$out/root
mkdir -p "$root"
for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$root"; done
for deb in "${debs[@]}"; do
  depends=$(field "$deb" Depends)
  depended=$(sed 's/, /\n/g' <<<"$depends" | awk '{print $1}')
  for bin in $(dpkg-deb -c "$deb" | awk '{print $6}' | grep '^./usr/bin/.' ); do
    for lib in $(readelf -d "$root/${bin#./}" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
      pkg=${package_of[$lib]:-}
      [ -n "$pkg" ] || fail "$bin needs $lib, which check_debs.sh cannot map to a package"
      grep -qxF "$pkg" <<<"$depended" || fail "$(basename "$deb"): $bin needs $lib but Depends lacks $pkg"
    done
  done
done
echo "Depends cover every NEEDED entry"

# lintian: findings listed; errors fail.
if command -v lintian >/dev/null; then
  for deb in "${debs[@]}"; do
    findings=$(lintian --tag-display-limit 0 "$deb" 2>/dev/null | grep -E '^[EWIPXNO]: ' || true)
    echo "lintian $(basename "$deb"): $(grep -c . <<<"$findings" || true) finding(s)"
    [ -z "$findings" ] || sed 's/^/  /' <<<"$findings"
    if grep -q '^E: ' <<<"$findings"; then fail "lintian reports errors for $(basename "$deb")"; fi
  done
else
  echo "lintian not installed: not run"
fi

# On the host: the commands start from the throwaway root, kassad serving the
# screens installed beside it (a marker added to the installed copy proves it).
if [ "$arch" = "$(dpkg --print-architecture)" ]; then
  "$root/usr/bin/kassad" --version
  "$root/usr/bin/kassactl" --version
  [ -z "$hq" ] || "$root/usr/bin/kassa-hq" --version
  echo "<!-- installed copy -->" >>"$root/usr/share/kassa/ui/index.html"
  data=$out/data
  mkdir -p "$data"
  "$root/usr/bin/kassad" --data "$data/terminal" --config "$root/usr/share/doc/kassa/store.sample.json" \
    --listen 127.0.0.1:0 --port-file "$data/port" --log-level warning &
  pid=$!
  for _ in $(seq 200); do [ -s "$data/port" ] && break; sleep 0.05; done
  [ -s "$data/port" ] || { kill $pid; fail "kassad from the package did not start"; }
  page=$(python3 -c "import urllib.request,sys; print(urllib.request.urlopen('http://127.0.0.1:%s/' % sys.argv[1]).read().decode())" "$(cat "$data/port")")
  kill $pid
  wait $pid || true
  grep -q "installed copy" <<<"$page" || fail "kassad did not serve the screens installed beside it"
  echo "kassad from the package served /usr/share/kassa/ui"
fi
echo "check_debs: $arch packages ok"
