#!/usr/bin/env bash
# Run every gate of the collection: the nox sessions of noxfile.py, two at a time (TEXTILE_TEST_JOBS).
# On a fresh machine it first sets up nox and antsibull-nox in a cached venv (scripts/venv.sh nox); each
# session then sets up what it needs (the test lines' venvs, its tools' venvs, npm ci, Debian packages as root).
#
#   scripts/test.sh                  every session
#   scripts/test.sh -e NAME...       only these sessions (-e a b, or -e a -e b); any nox option is passed on
#                                    (-t 2.22, -k sanity, ...); what follows -- goes to the sessions (pytest)
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

JOBS=${TEXTILE_TEST_JOBS:-2}
START=$(date +%s)
WORK=""

say() {
    printf '%s\n' "$*"
}

# Time since the start of the run, as m:ss.
clock() {
    local seconds=$(($(date +%s) - START))
    printf '%d:%02d' $((seconds / 60)) $((seconds % 60))
}

# A number of seconds as XmYYs.
duration() {
    printf '%dm%02ds' $(($1 / 60)) $(($1 % 60))
}

# Pass nox's output through, with a timed line at each session's start and end and, when a minute has
# passed with no output, a line naming the sessions still running.
progress() {
    local line name now last status
    local -A started=()
    last=$(date +%s)
    while :; do
        if IFS= read -r -t 5 line; then
            case $line in
                "Starting session "*)
                    name=${line#Starting session }
                    name=${name%...}
                    started[$name]=$(date +%s)
                    say "[$(clock)] start: $name"
                    ;;
                "========== "*": "*" ==========")
                    # nox's header of a finished session: "========== <mark> <name>: <status>[, <time>] =========="
                    name=${line#========== * }
                    status=${name#*: }
                    status=${status%% ==========}
                    name=${name%%: *}
                    now=$(date +%s)
                    say ""
                    say "[$(clock)] end: $name: ${status%%,*} after $(duration $((now - ${started[$name]:-$now})))"
                    unset "started[$name]"
                    ;;
                *) say "$line" ;;
            esac
            last=$(date +%s)
        elif [ $? -gt 128 ]; then # no line for 5 s
            now=$(date +%s)
            if [ $((now - last)) -ge 60 ] && [ ${#started[@]} -gt 0 ]; then
                line=""
                for name in "${!started[@]}"; do
                    line+="${line:+, }$name ($(duration $((now - started[$name]))))"
                done
                say "[$(clock)] running: $line"
                last=$now
            fi
        else
            break # end of output
        fi
    done
}

# The arguments in ARGS, with every session given by -e (-s, --session, --sessions) gathered into one -e, and
# every tag of -t (--tags) into one -t: nox keeps only the last of repeated options. What follows -- is kept as is.
merge_repeated() {
    local -a sessions=() tags=() rest=()
    local into=rest
    while [ $# -gt 0 ]; do
        case $1 in
            --) rest+=("$@"); break ;;
            -e | -s | --session | --sessions) into=sessions ;;
            --session=* | --sessions=*) into=rest; sessions+=("${1#*=}") ;;
            -t | --tags) into=tags ;;
            --tags=*) into=rest; tags+=("${1#*=}") ;;
            -*) into=rest; rest+=("$1") ;;
            *) case $into in sessions) sessions+=("$1") ;; tags) tags+=("$1") ;; *) rest+=("$1") ;; esac ;;
        esac
        shift
    done
    ARGS=()
    [ ${#sessions[@]} -eq 0 ] || ARGS+=(-e "${sessions[@]}")
    [ ${#tags[@]} -eq 0 ] || ARGS+=(-t "${tags[@]}")
    ARGS+=("${rest[@]}")
}

# The table and the closing count, from nox's report $1; exit status 1 when a session did not pass.
summary() {
    "$VENV_DIR/bin/python" - "$1" <<'EOF'
import json
import sys

try:
    with open(sys.argv[1], encoding="utf-8") as handle:
        sessions = json.load(handle)["sessions"]
except (OSError, ValueError, KeyError):
    print("nox ran no session (see its output above)")
    print("checks: 0 passed, 1 failed")
    sys.exit(1)
counts = {"success": 0, "failed": 0, "skipped": 0}
print("%-26s %-10s %s" % ("session", "result", "seconds"))
for entry in sessions:
    result = entry["result"]
    print("%-26s %-10s %d" % (entry["name"], result, round(entry.get("duration") or 0)))
    counts["success" if result == "success" else "skipped" if result == "skipped" else "failed"] += 1
line = "checks: %d passed, %d failed" % (counts["success"], counts["failed"])
print(line + (", %d skipped" % counts["skipped"] if counts["skipped"] else ""))
sys.exit(1 if counts["failed"] else 0)
EOF
}

main() {
    local arg rc
    merge_repeated "$@"
    set -- "${ARGS[@]}"
    for arg in "$@"; do
        case $arg in
            -h | --help)
                sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
                exit 0
                ;;
        esac
    done
    # Only the list on stdout when listing.
    say "[$(clock)] setup: nox and antsibull-nox (scripts/venv.sh nox; venvs cached in $TEXTILE_VENV_CACHE)" \
        >&"$(case " $* " in *" --list "* | *" -l "*) echo 2 ;; *) echo 1 ;; esac)"
    ensure_venv nox || { say "setup failed: cannot set up the nox venv (see the message above)"; exit 1; }
    for arg in "$@"; do
        case $arg in
            --list) # the sessions of a full run, one a line: name, then what it runs
                "$VENV_DIR/bin/nox" -f "$ROOT/noxfile.py" --list --json 2>/dev/null | "$VENV_DIR/bin/python" -c '
import json, sys
for entry in json.load(sys.stdin):
    print("%-28s %s" % (entry["session"], (entry["description"] or "").splitlines()[0] if entry["description"] else ""))'
                exit "${PIPESTATUS[0]}"
                ;;
            -l | --list-sessions | --usage) exec "$VENV_DIR/bin/nox" -f "$ROOT/noxfile.py" "$@" ;;
        esac
    done

    WORK=$(mktemp -d "${TMPDIR:-/tmp}/textile-test.XXXXXX") || { say "setup: mktemp failed"; exit 1; }
    trap 'rm -rf "$WORK"' EXIT
    say "[$(clock)] running the nox sessions, $JOBS at a time; each one's output is shown when it ends"
    # CI=true: antsibull-nox's formatters check (ruff format --check) instead of rewriting the files; run
    # `nox -e formatters` without it to format. PATH: antsibull-nox finds collections with ansible-galaxy.
    (cd "$ROOT" && PATH="$VENV_DIR/bin:$PATH" CI=true "$VENV_DIR/bin/nox" -f "$ROOT/noxfile.py" --parallel "$JOBS" --no-color \
        --report "$WORK/report.json" "$@" </dev/null 2>&1) | progress
    rc=${PIPESTATUS[0]}

    say ""
    say "==== summary after $(duration $(($(date +%s) - START))) (nox exit code $rc) ===="
    summary "$WORK/report.json" && [ "$rc" -eq 0 ]
}

main "$@"
