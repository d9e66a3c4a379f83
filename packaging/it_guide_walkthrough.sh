#!/usr/bin/env bash
# Follow docs/it-guide.md literally on this machine (issue 18; called by .ci/run as root).
#
# Every fenced block marked `it-guide-step` is extracted and run in order, as written: unlabelled
# blocks as root in one working folder holding the packages and SHA256SUMS (what IT downloaded),
# `clinician` blocks as a throwaway account this script creates, in its home. The script brings
# only what a person would: the TorchXRayVision weights file the guide imports, made here with
# random weights in the release's own format (tests/bundle/txv_reference.py; nothing is
# downloaded), and the department's PostgreSQL server with TLS (a throwaway cluster on
# 127.0.0.1:5432, its CA certificate and an admin password). Afterwards it checks that the
# clinician's audit log holds a decision made with the imported real model and that the
# department store received it, then removes the server, the package, the account, the files
# the guide placed in /etc/bedside and the shared bundle.
# Usage: packaging/it_guide_walkthrough.sh [DEB_DIR]   (default dist/deb; `make deb` makes it)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
deb_dir=$(realpath "${1:-dist/deb}")
guide=$root/docs/it-guide.md
python=$root/.venv/bin/python
account=bedside-guide

if [ "$(id -u)" != 0 ]; then
  echo "it-guide walkthrough: skipped: the guide installs a package (root; CI runs this as root)"
  exit 0
fi
for tool in dpkg runuser useradd userdel; do
  command -v "$tool" >/dev/null || { echo "it-guide walkthrough: skipped: $tool is not installed"; exit 0; }
done
ls "$deb_dir"/bedside_*-1_*.deb >/dev/null 2>&1 || { echo "it-guide walkthrough: no package in $deb_dir; run 'make deb'" >&2; exit 1; }

started=$SECONDS
work=$(mktemp -d /tmp/bedside-guide.XXXXXX)
chmod 0755 "$work"
pg_started=0
cleanup() {
  if [ "$pg_started" = 1 ]; then
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$work/pg/data" -m fast -w -t 60 stop >/dev/null || true
  fi
  if dpkg -s bedside >/dev/null 2>&1; then dpkg -P bedside >/dev/null || true; fi
  rm -f /etc/bedside/trusted-keys/site-models.pub.pem /etc/bedside/department-ca.pem /etc/bedside/central-password
  rmdir /etc/bedside/trusted-keys /etc/bedside 2>/dev/null || true
  rm -rf /usr/local/share/bedside
  if id "$account" >/dev/null 2>&1; then userdel "$account" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
if dpkg -s bedside >/dev/null 2>&1; then
  echo "it-guide walkthrough: purging an installed bedside package first (a clean machine)"
  dpkg -P bedside
fi
if id "$account" >/dev/null 2>&1; then userdel "$account"; fi

# What IT downloaded: the packages and their checksums (links, not copies), and the weights file.
mkdir "$work/it" "$work/steps"
for f in "$deb_dir"/bedside_*.deb "$deb_dir/SHA256SUMS"; do ln "$f" "$work/it/" 2>/dev/null || cp "$f" "$work/it/"; done
PYTHONPATH=$root "$python" - "$work/it/densenet121-res224-all.pt" <<'EOF'
import sys
from pathlib import Path

from tests.bundle.txv_reference import save_densenet_release

save_densenet_release(Path(sys.argv[1]), "densenet121-res224-all")
EOF
useradd --create-home --home-dir "$work/home" --shell /bin/bash "$account"

# What the department's database administrator hands over (guide section 5): a PostgreSQL 15
# server on 127.0.0.1:5432 with TLS (a throwaway CA and a server certificate for 127.0.0.1), the
# CA certificate and an admin role's password. PostgreSQL refuses root: it runs as `postgres`.
pg_bin=/usr/lib/postgresql/15/bin
[ -x "$pg_bin/initdb" ] || { echo "it-guide walkthrough: PostgreSQL 15 is missing (make system-deps)" >&2; exit 1; }
pg_port=5432
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  # another server (e.g. Debian's own cluster started by the postgresql package) holds the port
  # the guide names: the department store runs on a free port and the steps are read with it
  pg_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "it-guide walkthrough: port 5432 is taken on this machine; the department store runs on $pg_port and the guide's steps are run with 5432 replaced by $pg_port"
fi
pg=$work/pg
mkdir -p "$pg"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=Bedside CI department CA" \
  -keyout "$pg/ca.key" -out "$work/it/department-ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$pg/server.key" -out "$pg/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$pg/san.ext"
openssl x509 -req -in "$pg/server.csr" -CA "$work/it/department-ca.pem" -CAkey "$pg/ca.key" \
  -CAcreateserial -days 2 -extfile "$pg/san.ext" -out "$pg/server.crt" 2>/dev/null
openssl rand -hex 16 >"$work/it/postgres-admin-password"
cp "$work/it/postgres-admin-password" "$pg/pw"
chown -R postgres:postgres "$pg"
chmod 0700 "$pg"
chmod 0600 "$pg/server.key"
as_pg() { runuser -u postgres -- "$@"; }
as_pg "$pg_bin/initdb" -D "$pg/data" -U postgres --pwfile="$pg/pw" --auth-local=trust \
  --auth-host=scram-sha-256 --no-sync -E UTF8 --locale=C >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 60 start -o \
  "-p $pg_port -k $pg -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=$pg/server.crt -c ssl_key_file=$pg/server.key" >/dev/null
pg_started=1

# The guide's steps, in order: NN-root.sh / NN-clinician.sh
"$python" - "$guide" "$work/steps" "$pg_port" <<'EOF'
import re
import sys
from pathlib import Path

text = Path(sys.argv[1]).read_text(encoding="utf-8").replace("5432", sys.argv[3])
blocks = re.findall(r"^```sh it-guide-step( clinician)?\n(.*?)^```$", text, re.M | re.S)
if not blocks:
    sys.exit("no it-guide-step block in the guide")
for n, (who, body) in enumerate(blocks, 1):
    name = Path(sys.argv[2]) / f"{n:02d}-{'clinician' if who else 'root'}.sh"
    name.write_text(body, encoding="utf-8")
    name.chmod(0o644)
print(f"{len(blocks)} steps from {sys.argv[1]}")
EOF

base_env=(PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen)
for step in "$work"/steps/*.sh; do
  name=$(basename "$step" .sh)
  echo "=== it-guide step $name ==="
  sed 's/^/    /' "$step"
  case "$name" in
    *-clinician)
      (cd "$work/home" && runuser -u "$account" -- env -i "${base_env[@]}" HOME="$work/home" \
        USER="$account" LOGNAME="$account" bash -euo pipefail "$step") ;;
    *)
      mkdir -p "$work/root-home"
      (cd "$work/it" && env -i "${base_env[@]}" HOME="$work/root-home" bash -euo pipefail "$step") ;;
  esac
  echo "--- step $name passed ($((SECONDS - started)) s so far)"
done

# Where the guide leads: the clinician's log holds a decision made with the imported real model.
runuser -u "$account" -- env -i "${base_env[@]}" HOME="$work/home" bedside audit show --json >"$work/log.json"
"$python" - "$work/log.json" <<'EOF'
import json
import sys

rows = json.load(open(sys.argv[1], encoding="utf-8"))["records"]
decisions = [r for r in rows if r["type"] == "decision"]
real = [r for r in decisions if r.get("model_id") == "txv-densenet121-res224-all"]
if not real:
    sys.exit(f"no decision made with the imported model in the clinician's log: {decisions}")
print(f"the clinician's log: {len(rows)} rows, {len(real)} decision(s) with "
      f"{real[0]['model_id']} {real[0].get('model_version')}")
EOF
# ... and that decision reached the department store (IT's view of it, as root)
(cd "$work/it" && env -i "${base_env[@]}" HOME="$work/root-home" bedside audit report --central --json) >"$work/central.json"
"$python" - "$work/central.json" <<'EOF'
import json
import sys

report = json.load(open(sys.argv[1], encoding="utf-8"))
stations = [w for w in report["workstations"] if w["decisions"] > 0 and w["chain_ok"]]
if not stations:
    sys.exit(f"no decision reached the department store: {report['workstations']}")
w = stations[0]
print(f"the department store: workstation {w['workstation']}, {w['rows']} rows, "
      f"{w['decisions']} decision(s), chain verified")
EOF
echo "it-guide walkthrough: passed in $((SECONDS - started)) s"
