#!/usr/bin/env bash
# CI acceptance of the Debian package (issue 18 item 1; `make deb-check`, called by .ci/run as root).
#
# On THIS machine it builds the package (freezing only if dist/bedside is stale), installs it with
# dpkg, runs the command, the self-check, the frozen smoke test and a GUI smoke test from the
# installed path (/opt/bedside), makes a user's data folder with decisions, an exported report
# and its checkpoint, then upgrades to the same frozen app repackaged as revision 2, removes and
# purges, and shows after each step that the user's files are byte-identical (SHA-256) and the
# audit log verifies. A package left installed by an earlier, interrupted run is purged first.
# Without root or dpkg it says why and exits 0 (nothing to check there).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ "$(id -u)" != 0 ]; then
  echo "deb check: skipped: installing a package needs root (CI runs this as root)"
  exit 0
fi
for tool in dpkg dpkg-deb dpkg-query sha256sum; do
  command -v "$tool" >/dev/null || { echo "deb check: skipped: $tool is not installed (not Debian?)"; exit 0; }
done

started=$SECONDS
lap() { echo "deb check: $1 ($((SECONDS - started)) s so far)"; }
python=$root/.venv/bin/python
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' viewer/__init__.py)
arch=$(dpkg --print-architecture)
deb1=$root/dist/deb/bedside_${version}-1_${arch}.deb
deb2=$root/dist/deb/bedside_${version}-2_${arch}.deb

# libraries the package depends on (what `make system-deps` does for its own list)
missing=$(grep -v '^#' packaging/deb/depends.txt | sed 's/ .*//' | while read -r p; do
  [ -n "$p" ] && ! dpkg -s "$p" >/dev/null 2>&1 && echo "$p"; done || true)
if [ -n "$missing" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi

work=$(mktemp -d /tmp/bedside-deb-check.XXXXXX)
placed_key=/etc/bedside/trusted-keys/deb-check.pub.pem
cleanup() {
  if dpkg -s bedside >/dev/null 2>&1; then dpkg -P bedside >/dev/null || true; fi
  rm -f "$placed_key"
  rmdir /etc/bedside/trusted-keys /etc/bedside 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
if dpkg -s bedside >/dev/null 2>&1; then
  echo "deb check: an earlier bedside package is installed; purging it first"
  dpkg -P bedside
fi

make --no-print-directory deb DEB_REVISION=1
lap "built $(basename "$deb1")"
# the upgrade: the same frozen app, a higher Debian revision (no refreeze)
"$python" packaging/build_deb.py --app-dir dist/bedside --out dist/deb --revision 2
(cd dist/deb && sha256sum --check --ignore-missing SHA256SUMS)
lap "built $(basename "$deb2")"

export HOME=$work/home QT_QPA_PLATFORM=offscreen
mkdir -p "$HOME"
unset BEDSIDE_SITE_CONFIG BEDSIDE_DATA_DIR

dpkg -i "$deb1"
[ "$(readlink -f "$(command -v bedside)")" = /opt/bedside/bedside ] || { echo "deb check: bedside on PATH is not /opt/bedside/bedside" >&2; exit 1; }
[ -f /usr/share/applications/bedside.desktop ] && [ -f /usr/share/icons/hicolor/scalable/apps/bedside.svg ]
bedside --version
bedside site check
(cd / && bedside self-check --compact >"$work/selfcheck.json") || { cat "$work/selfcheck.json"; exit 1; }
bash packaging/smoke_test.sh /opt/bedside
lap "installed; command, site check, self-check and frozen smoke test passed"

# A user's data folder with decisions from the installed window (demo model: no real one here)
export BEDSIDE_DATA_DIR=$work/user-data
reports=$work/reports
mkdir -p "$reports"
bedside demo-data "$work/study" --count 2 --size 256 >/dev/null
for image in SYN0000 SYN0001; do
  BEDSIDE_UI_SMOKE=confirm timeout 300 bedside --demo open "$work/study/$image.dcm"
done
decisions() {
  bedside audit show --json | "$python" -c \
    'import json, sys; print(sum(r["type"] == "decision" for r in json.load(sys.stdin)["records"]))'
}
[ "$(decisions)" -ge 2 ] || { echo "deb check: the GUI smoke test left no decisions in the audit log" >&2; exit 1; }
bedside audit export --format pdf --out "$reports/report.pdf"
lap "GUI smoke test from /opt/bedside: $(decisions) decisions in the audit log, report exported"

# IT's site files: an edited conffile and a placed key must survive the upgrade
echo '# edited by IT (deb check)' >>/etc/bedside/site.toml
cp "$root/resources/demo/demo-signing-key.pub.pem" "$placed_key"
site_sum=$(sha256sum /etc/bedside/site.toml)

snapshot() {
  (cd "$work" && find user-data reports -type f -print0 | sort -z | xargs -0 sha256sum)
}
snapshot >"$work/before"
[ "$(wc -l <"$work/before")" -ge 5 ] || { echo "deb check: the user's data folder is nearly empty" >&2; exit 1; }
same() {
  snapshot >"$work/after"
  if ! diff -u "$work/before" "$work/after"; then echo "deb check: user data changed: $1" >&2; exit 1; fi
  echo "deb check: $(wc -l <"$work/before") user files byte-identical after $1"
}

dpkg -i "$deb2"
[ "$(dpkg-query -W -f '${Version}' bedside)" = "${version}-2" ]
same "the upgrade to ${version}-2"
[ "$(sha256sum /etc/bedside/site.toml)" = "$site_sum" ] || { echo "deb check: the upgrade replaced the edited site.toml" >&2; exit 1; }
[ -f "$placed_key" ]
bedside audit verify --checkpoint "$reports/report.pdf.checkpoint.json"
bash packaging/smoke_test.sh /opt/bedside >/dev/null
lap "upgraded; audit log verifies against the report's checkpoint"
snapshot >"$work/before"   # verify recorded its own row: the new baseline

dpkg -r bedside
[ ! -e /opt/bedside/bedside ] && ! command -v bedside >/dev/null
[ -f /etc/bedside/site.toml ] || { echo "deb check: remove deleted the site file" >&2; exit 1; }
same "dpkg -r"
dpkg -P bedside
[ ! -e /etc/bedside/site.toml ] || { echo "deb check: purge left the conffile" >&2; exit 1; }
[ -f "$placed_key" ] || { echo "deb check: purge deleted a key IT placed" >&2; exit 1; }
same "dpkg -P"
# the log still verifies after the program is gone (the development install reads it)
BEDSIDE_SITE_CONFIG=$work/none.toml; touch "$BEDSIDE_SITE_CONFIG"; export BEDSIDE_SITE_CONFIG
"$root/.venv/bin/bedside" audit verify --checkpoint "$reports/report.pdf.checkpoint.json"
lap "removed and purged: user data and audit log untouched, log verifies"
echo "deb check: passed in $((SECONDS - started)) s"
