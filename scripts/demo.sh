#!/usr/bin/env bash
# The story on two simulated cafes, from a fresh clone, in well under a minute once the venv exists:
#   1. set up the main venv (scripts/venv.sh: Python 3.12 + ansible-core, reused across runs);
#   2. start two go-textile API simulators on loopback (free ports), stopped again on exit;
#   3. write an inventory with two cafe hosts and two tokens declared fleet-wide, a web app's and a mobile
#      app's (made here, kept in 0600 files in a private temp dir, read by lookups, never printed);
#   4. provision them (textileio.textile.provision), provision again (changed=0);
#   5. the mobile app leaves: decommission its token ID (textileio.textile.decommission), which imports
#      nothing although the inventory still declares the token;
#   6. cafe2 goes down (its simulator is stopped);
#   7. report (textileio.textile.report): the drift (the inventory still expects the mobile app's token,
#      which cafe1 rightly lacks now) and the cafe that could not be read; print where the HTML page is
#      (./textile-cafe-report/, relative to the clone) and, when Chromium is installed, take a screenshot of it.
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

# Two fresh tokens (44 random bytes, base58), made with the collection's own format helpers.
(
    umask 077
    for client in web mobile; do
        PYTHONPATH="$work/collections" "$python" -c '
import os
from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58encode
print(b58encode(os.urandom(44)))' >"$work/$client.token"
    done
)
mobile_id=$(PYTHONPATH="$work/collections" "$python" -c '
import sys
from ansible_collections.textileio.textile.plugins.module_utils._token_format import token_id
print(token_id(open(sys.argv[1]).read()))' "$work/mobile.token")

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
        # The fleet-wide tokens are read from 0600 files; in production keep them in Ansible Vault.
        cafe_tokens_present:
          - "{{ lookup('ansible.builtin.file', '$work/web.token') }}"
          - "{{ lookup('ansible.builtin.file', '$work/mobile.token') }}"
        cafe_token_report_expected_ids: "{{ cafe_tokens_present | map('textileio.textile.token_id') }}"
        cafe_token_report_labels: "{{ dict(cafe_token_report_expected_ids | zip(['web app', 'mobile app'])) }}"
        textile_retries: 1
INVENTORY

playbook() {
    "$venv/bin/ansible-playbook" -i "$work/inventory.yml" "$@" 2>&1 | tee "$work/last-run.log"
}

say "ansible-playbook textileio.textile.provision (imports the web app's and the mobile app's tokens on both cafes)"
playbook textileio.textile.provision

say "ansible-playbook textileio.textile.provision again (nothing left to do)"
playbook textileio.textile.provision
if grep -E '^cafe[12] +:' "$work/last-run.log" | sed 's/\x1b\[[0-9;]*m//g' | grep -qv 'changed=0 '; then
    echo "demo: the second provision run changed something; it should not" >&2
    exit 1
fi
echo "second run: changed=0 on both cafes"

say "the mobile app leaves: ansible-playbook textileio.textile.decommission (its token ID $mobile_id)"
# The inventory still declares the mobile app's token (nobody took it out of the vault yet): the decommission
# must remove it and import nothing.
playbook textileio.textile.decommission -e "{\"cafe_tokens_absent_ids\": [\"$mobile_id\"]}"
if [ "$(grep -c '"created_ids": \[\]' "$work/last-run.log")" != 2 ]; then
    echo "demo: the decommission imported a token; it must not" >&2
    exit 1
fi
echo "decommission: $mobile_id removed from both cafes, nothing imported"

say "cafe2 goes down"
kill "${sim_pids[1]}"
wait "${sim_pids[1]}" 2>/dev/null || true
echo "cafe2 (${urls[1]}) stopped"

say "ansible-playbook textileio.textile.report (the drift, and the cafe it cannot read)"
playbook textileio.textile.report

html="$repo/textile-cafe-report/textile-cafe-report.html"
say "done"
echo "HTML report: $html"
echo "JSON report: $repo/textile-cafe-report/textile-cafe-report.json"
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$browser" ]; then
    # TMPDIR=/tmp: Chromium puts a socket in TMPDIR, and a long TMPDIR makes its path too long for a socket.
    if TMPDIR=/tmp "$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$work/chromium" \
        --window-size=1280,1600 --screenshot="${html%.html}.png" "file://$html" >"$work/chromium.log" 2>&1; then
        echo "Screenshot: ${html%.html}.png"
    else
        echo "(the screenshot failed; see the HTML page itself). Chromium said:"
        tail -n 5 "$work/chromium.log"
    fi
else
    echo "(install Chromium for a screenshot of the page: apt-get install chromium)"
fi
echo "The report shows the drift (the inventory still declares the mobile app's token, $mobile_id, which"
echo "cafe1 no longer holds: take it out of the vault) and cafe2, which could not be read (its tokens: unknown)."
echo "(the simulated cafes are stopped now; the report stays)"
