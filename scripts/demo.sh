#!/usr/bin/env bash
# The main job on two simulated cafes, from a fresh clone:
#   1. set up the main venv (scripts/venv.sh: Python 3.12 + ansible-core, reused across runs);
#   2. start two go-textile API simulators on loopback (free ports), stopped again on exit;
#   3. write an inventory with two cafe hosts and one token declared fleet-wide (made here, kept in a
#      0600 file in a private temp dir, read by a lookup, never printed);
#   4. run textileio.textile.provision, run it again (changed=0), run textileio.textile.report and
#      print where the HTML page is (./textile-cafe-report/, relative to the clone).
# Usage: scripts/demo.sh
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

say() { printf '\n=== %s\n' "$*"; }

say "setting up the venv (scripts/venv.sh main)"
venv=$(bash scripts/venv.sh main)
python="$venv/bin/python"

work=$(mktemp -d "${TMPDIR:-/tmp}/textile-demo.XXXXXX")
chmod 700 "$work"
sim_pids=()
cleanup() {
    local pid
    for pid in "${sim_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The collection, found by its FQCN through a collections path that points at this clone.
mkdir -p "$work/collections/ansible_collections/textileio"
ln -s "$repo" "$work/collections/ansible_collections/textileio/textile"
export ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_LOCAL_TEMP="$work/ansible-local" ANSIBLE_REMOTE_TMP="$work/ansible-remote"
export ANSIBLE_RETRY_FILES_ENABLED=false
if [ -t 1 ]; then export ANSIBLE_FORCE_COLOR=1; fi

say "starting two simulated cafes on 127.0.0.1"
for n in 1 2; do
    "$python" tests/simulator/textile_sim.py --host 127.0.0.1 --port 0 --port-file "$work/cafe$n.port" \
        --db "$work/cafe$n.sqlite" >"$work/cafe$n.log" 2>&1 &
    sim_pids+=("$!")
done
urls=()
for n in 1 2; do
    for _ in $(seq 1 300); do
        [ -s "$work/cafe$n.port" ] && break
        kill -0 "${sim_pids[$((n - 1))]}" 2>/dev/null || { cat "$work/cafe$n.log" >&2; exit 1; }
        sleep 0.1
    done
    [ -s "$work/cafe$n.port" ] || { echo "demo: simulator cafe$n did not start" >&2; exit 1; }
    urls+=("http://127.0.0.1:$(cat "$work/cafe$n.port")")
    echo "cafe$n: ${urls[$((n - 1))]}"
done

# A fresh token (44 random bytes, base58), made with the collection's own format helpers.
(
    umask 077
    PYTHONPATH="$work/collections" "$python" -c '
import os
from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58encode
print(b58encode(os.urandom(44)))' >"$work/fleet.token"
)

cat >"$work/inventory.yml" <<INVENTORY
all:
  children:
    textile_cafes:
      hosts:
        cafe1:
          textile_api_url: "${urls[0]}"
        cafe2:
          textile_api_url: "${urls[1]}"
      vars:
        ansible_connection: local
        ansible_python_interpreter: "$python"
        # The fleet-wide token is read from a 0600 file; in production keep it in Ansible Vault.
        cafe_tokens_present:
          - "{{ lookup('ansible.builtin.file', '$work/fleet.token') }}"
        cafe_token_report_expected_ids: "{{ cafe_tokens_present | map('textileio.textile.token_id') }}"
        cafe_token_report_labels: "{{ dict(cafe_token_report_expected_ids | zip(['demo fleet token'])) }}"
INVENTORY

playbook() {
    "$venv/bin/ansible-playbook" -i "$work/inventory.yml" "$@" 2>&1 | tee "$work/last-run.log"
}

say "ansible-playbook textileio.textile.provision (imports the fleet token on both cafes)"
playbook textileio.textile.provision

say "ansible-playbook textileio.textile.provision again (nothing left to do)"
playbook textileio.textile.provision
if grep -E '^cafe[12] +:' "$work/last-run.log" | sed 's/\x1b\[[0-9;]*m//g' | grep -qv 'changed=0 '; then
    echo "demo: the second provision run changed something; it should not" >&2
    exit 1
fi
echo "second run: changed=0 on both cafes"

say "ansible-playbook textileio.textile.report"
playbook textileio.textile.report

say "done"
echo "HTML report: $repo/textile-cafe-report/textile-cafe-report.html"
echo "JSON report: $repo/textile-cafe-report/textile-cafe-report.json"
echo "(the simulated cafes are stopped now; the report stays)"
