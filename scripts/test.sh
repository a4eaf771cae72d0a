#!/usr/bin/env bash
# Run every gate of the collection: the nox sessions of noxfile.py, two at a time (TEXTILE_TEST_JOBS).
# On a fresh machine it first sets up nox and antsibull-nox in a cached venv (scripts/venv.sh nox); each
# session then sets up what it needs (the test lines' venvs, its tools' venvs, npm ci, Debian packages as root).
#
#   scripts/test.sh                  every session
#   scripts/test.sh -e NAME...       only these sessions; any nox option is passed on (-t 2.22, -k sanity, ...);
#                                    what follows -- goes to the sessions (pytest, ansible-test)
#   scripts/test.sh --list           name the sessions of a full run, one a line
#   scripts/test.sh -l               nox's list, with the sessions a full run leaves out
#
# A line marks when each session starts and when it ends (with how long it took), and while sessions run a
# line at least once a minute names them; each session's output is printed when it ends. The run ends with
# a table and the line "checks: N passed, N failed", and exits non-zero when any session failed; a failing
# session does not stop the others.

set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/venv.sh
. "$ROOT/scripts/venv.sh"

took() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
say() { printf '[%s] %s\n' "$(took "$SECONDS")" "$*"; }

# nox's output, with a line when a session starts and when it ends (nox's header of a finished session:
# "========== <mark> <name>: <status>[, <time>] =========="), and one naming the sessions still running after a
# minute without output.
progress() {
    local line name status last=$SECONDS
    local -A started=()
    while :; do
        if IFS= read -r -t 5 line; then
            last=$SECONDS
            case $line in
                "Starting session "*)
                    name=${line#Starting session }
                    started[${name%...}]=$SECONDS
                    say "start: ${name%...}"
                    ;;
                "========== "*": "*" ==========")
                    name=${line#========== * }
                    status=${name#*: }
                    name=${name%%: *}
                    printf '\n'
                    say "end: $name: ${status%%[, ]*} after $(took $((SECONDS - ${started[$name]:-$SECONDS})))"
                    unset "started[$name]"
                    ;;
                *) printf '%s\n' "$line" ;;
            esac
        elif [ $? -le 128 ]; then
            return # end of output
        elif [ $((SECONDS - last)) -ge 60 ] && [ ${#started[@]} -gt 0 ]; then
            line=""
            for name in "${!started[@]}"; do line+="${line:+, }$name ($(took $((SECONDS - started[$name]))))"; done
            say "running: $line"
            last=$SECONDS
        fi
    done
}

# The table and the closing count from nox's report $1 (the sessions run, or none); fails when one did not pass.
summary() {
    "$VENV_DIR/bin/python" -c '
import json, sys
try:
    sessions = json.load(open(sys.argv[1], encoding="utf-8"))["sessions"]
except (OSError, ValueError, KeyError):
    sessions = [{"name": "(nox ran no session: see its output above)", "result": "failed"}]
print("%-26s %-10s %s" % ("session", "result", "seconds"))
for s in sessions:
    print("%-26s %-10s %d" % (s["name"], s["result"], round(s.get("duration") or 0)))
failed = sum(s["result"] not in ("success", "skipped") for s in sessions)
skipped = sum(s["result"] == "skipped" for s in sessions)
print("checks: %d passed, %d failed" % (len(sessions) - failed - skipped, failed) + (", %d skipped" % skipped if skipped else ""))
sys.exit(1 if failed else 0)' "$1"
}

case " $* " in
    *" -h "* | *" --help "*) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *" --list "* | *" -l "* | *" --list-sessions "*) out=2 ;; # only the list on stdout
    *) out=1 ;;
esac
say "setup: nox and antsibull-nox (scripts/venv.sh nox; venvs cached in $TEXTILE_VENV_CACHE)" >&"$out"
ensure_venv nox || { say "setup failed: cannot set up the nox venv (see the message above)"; exit 1; }
NOX=("$VENV_DIR/bin/nox" -f "$ROOT/noxfile.py")
if [ "$*" = --list ]; then # the sessions of a full run, one a line: name, then the first line of what it runs
    "${NOX[@]}" --list --json 2>/dev/null | "$VENV_DIR/bin/python" -c '
import json, sys
for s in json.load(sys.stdin):
    print("%-28s %s" % (s["session"], (s["description"] or "").partition("\n")[0]))'
    exit "${PIPESTATUS[0]}"
elif [ "$out" = 2 ]; then
    exec "${NOX[@]}" "$@"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/textile-test.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
say "running the nox sessions, ${TEXTILE_TEST_JOBS:-2} at a time; each one's output is shown when it ends"
# CI=true: antsibull-nox's formatters check (ruff format --check) instead of rewriting the files; run
# `nox -e formatters` without it to format. PATH: antsibull-nox finds collections with ansible-galaxy.
(cd "$ROOT" && PATH="$VENV_DIR/bin:$PATH" CI=true "${NOX[@]}" --parallel "${TEXTILE_TEST_JOBS:-2}" --no-color \
    --report "$WORK/report.json" "$@" </dev/null 2>&1) | progress
rc=${PIPESTATUS[0]}
printf '\n'
say "==== summary (nox exit code $rc) ===="
summary "$WORK/report.json" && [ "$rc" -eq 0 ]
