#!/usr/bin/env bash
# Run every check of the collection; on a fresh machine it first sets up what the checks need.
#
#   scripts/test.sh              every stage
#   scripts/test.sh STAGE...     only the named stages; a prefix selects a group
#                                (e.g. "pytest", "sanity", "pytest-unit", "build")
#   scripts/test.sh --list       print the stage names
#
# Stages run TEXTILE_TEST_JOBS (default 2) at a time; each one's output is printed under a header when it
# ends, in a fixed order. The run ends with a table and the line "checks: N passed, N failed", and exits
# non-zero when any stage failed. A failing stage does not stop the others.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/venv.sh
. "$ROOT/scripts/venv.sh"

# name | what it runs. Reported in this order; ordered so that long stages start early.
STAGES=(
    "sanity-ignores|tests/sanity holds no ignore entries"
    "pytest-unit|pytest tests/unit (main line: Python 3.12, ansible-core 2.21)"
    "pytest-integration|pytest tests/integration: ansible-playbook against the simulator"
    "sanity-2.19|ansible-test sanity --python 3.11 (ansible-core 2.19)"
    "pytest-reliability|pytest tests/reliability"
    "sanity-2.21|ansible-test sanity --python 3.12 (ansible-core 2.21)"
    "pytest-compat|pytest tests/unit, tests/integration (compat line: Python 3.11, ansible-core 2.19)"
    "pytest-interop|pytest tests/interop: the npm client against the simulator"
    "units|ansible-test units --python 3.12"
    "ansible-lint|ansible-lint --profile production"
    "docs-lint|antsibull-docs lint-collection-docs --plugin-docs"
    "changelog-lint|antsibull-changelog lint"
    "build|ansible-galaxy collection build + install + ansible-doc of every plugin"
    "galaxy-importer|galaxy-importer on the tarball (docs and lint steps, no ansible-test)"
)

WORK=""
JOBS=${TEXTILE_TEST_JOBS:-2}

STAGE_PIDS=()

# On exit or interrupt: stop the stages still running (each is its own process group), drop the work dir.
cleanup() {
    local pid
    for pid in "${STAGE_PIDS[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null
    done
    [ -n "$WORK" ] && rm -rf "$WORK"
}

say() {
    printf '%s\n' "$*"
}

# True when stage $1 was asked for on the command line (or nothing was asked for).
selected() {
    local stage=$1 want
    [ ${#WANTED[@]} -eq 0 ] && return 0
    for want in "${WANTED[@]}"; do
        case "$stage" in "$want" | "$want"-*) return 0 ;; esac
    done
    return 1
}

# Install Debian package $1 when running as root with apt; never fails the run.
apt_install() {
    local package=$1
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        say "setup: $package is missing and cannot be installed here (not root or no apt-get); what needs it skips"
        return 0
    fi
    say "setup: installing $package with apt-get"
    if [ -z "${APT_UPDATED:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null 2>&1 && APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" </dev/null >/dev/null 2>&1 \
        || say "setup: apt-get install $package failed; what needs it skips"
    return 0
}

# The pip version an ansible-test release bootstraps into its venvs (the name of its get-pip cache file).
ansible_test_pip_version() {
    grep -hoE "pip='[0-9.]+'" "$1"/lib/python*/site-packages/ansible_test/_internal/python_requirements.py \
        | head -n 1 | tr -dc '0-9.'
}

# Put the pip bootstrap stand-in where ansible-test of venv $1 looks before downloading get-pip.
install_get_pip_standin() {
    local version dest
    version=$(ansible_test_pip_version "$1")
    [ -n "$version" ] || { say "setup: cannot tell which pip ansible-test in $1 bootstraps"; return 1; }
    dest="$HOME/.ansible/test/cache/get_pip_${version//./_}.py"
    mkdir -p "$(dirname "$dest")"
    if [ ! -f "$dest" ] || grep -q get_pip_standin "$dest"; then
        cp "$ROOT/scripts/get_pip_standin.py" "$dest"
    fi
}

setup() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/textile-test.XXXXXX") || { say "setup: mktemp failed"; exit 1; }
    trap cleanup EXIT
    trap 'exit 130' INT TERM

    say "==== setup: virtualenvs (cache: $TEXTILE_VENV_CACHE) ===="
    ensure_venv main || { say "setup failed: cannot set up the main venv (see the message above)"; exit 1; }
    MAIN_VENV=$VENV_DIR
    ensure_venv compat || { say "setup failed: cannot set up the compat venv (see the message above)"; exit 1; }
    COMPAT_VENV=$VENV_DIR
    say "main:   $MAIN_VENV"
    say "compat: $COMPAT_VENV"
    install_get_pip_standin "$MAIN_VENV" && install_get_pip_standin "$COMPAT_VENV" || exit 1
    # ansible-test sanity checks shell scripts only when shellcheck is there.
    if selected sanity && ! command -v shellcheck >/dev/null 2>&1; then
        apt_install shellcheck
    fi

    if [ -f "$ROOT/tests/interop/package.json" ] && selected pytest-interop; then
        command -v npm >/dev/null 2>&1 || apt_install npm
        if [ ! -d "$ROOT/tests/interop/node_modules" ] || [ "$ROOT/tests/interop/package-lock.json" -nt "$ROOT/tests/interop/node_modules" ]; then
            say "setup: npm ci in tests/interop"
            (cd "$ROOT/tests/interop" && npm ci --no-audit --no-fund </dev/null) || say "setup: npm ci failed"
        fi
        command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || apt_install chromium
    fi

    # pytest imports the collection as ansible_collections.textileio.textile from the work tree.
    PYTHONPATH_DIR="$WORK/pythonpath"
    mkdir -p "$PYTHONPATH_DIR/ansible_collections/textileio"
    ln -s "$ROOT" "$PYTHONPATH_DIR/ansible_collections/textileio/textile"
}

# Make a real copy of the tracked files (as they are in the work tree) for the stage $1; print its path.
# Each stage gets its own, so stages running side by side never share tests/output or tool caches.
collection_copy() {
    local copy="$WORK/$1/ansible_collections/textileio/textile"
    mkdir -p "$copy"
    (cd "$ROOT" && git ls-files -z | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$copy" \
        || { say "cannot copy the tracked files (is $ROOT a git clone?)" >&2; return 1; }
    echo "$copy"
}

# Run a command with venv $1 first on PATH.
in_venv() {
    local venv=$1
    shift
    PATH="$venv/bin:$PATH" VIRTUAL_ENV="$venv" "$@"
}

# pytest in venv $1 over directory $2 (skipped when absent or empty), further arguments passed on.
run_pytest() {
    local venv=$1 dir=$2 rc
    shift 2
    [ -d "$ROOT/$dir" ] || return 100
    (cd "$ROOT" && PYTHONPATH="$PYTHONPATH_DIR" in_venv "$venv" python -m pytest -p no:cacheprovider -q "$@" "$dir")
    rc=$?
    [ $rc -eq 5 ] && return 100 # nothing collected
    return $rc
}

# Unit tests run in one process: they are quick, and some parametrize with random values, which
# pytest-xdist rejects ("Different tests were collected between gw0 and gw1").
stage_pytest_unit() { run_pytest "$MAIN_VENV" tests/unit; }
stage_pytest_interop() { run_pytest "$MAIN_VENV" tests/interop; }
stage_pytest_integration() { run_pytest "$MAIN_VENV" tests/integration -n 2; }
stage_pytest_reliability() { run_pytest "$MAIN_VENV" tests/reliability -n 2; }
stage_pytest_compat() {
    local unit integration rc
    run_pytest "$COMPAT_VENV" tests/unit
    unit=$?
    # The whole integration suite: a cold run of every stage stays near 10 minutes on 2 cores.
    run_pytest "$COMPAT_VENV" tests/integration -n 2
    integration=$?
    [ $unit -eq 100 ] && [ $integration -eq 100 ] && return 100
    for rc in $unit $integration; do
        [ "$rc" -eq 0 ] || [ "$rc" -eq 100 ] || return 1
    done
}

stage_sanity_ignores() {
    local found
    found=$(cd "$ROOT" && grep -HnvE '^[[:space:]]*(#|$)' tests/sanity/ignore-*.txt 2>/dev/null)
    if [ -n "$found" ]; then
        say "sanity ignore entries are not allowed; fix the code instead:"
        say "$found"
        return 1
    fi
    say "no ignore entries under tests/sanity"
}

# Run a tool from venv $2 in a fresh copy of the collection named after stage $1.
in_copy() {
    local stage=$1 venv=$2 copy
    shift 2
    copy=$(collection_copy "$stage") || return 1
    (cd "$copy" && in_venv "$venv" "$@")
}

stage_sanity_2_21() { in_copy sanity-2.21 "$MAIN_VENV" ansible-test sanity --python 3.12 --color no --requirements; }
stage_sanity_2_19() { in_copy sanity-2.19 "$COMPAT_VENV" ansible-test sanity --python 3.11 --color no --requirements; }
stage_units() {
    [ -d "$ROOT/tests/unit" ] || return 100
    in_copy units "$MAIN_VENV" ansible-test units --python 3.12 --color no --requirements
}
# The copy's own ansible_collections tree is where playbooks and roles find textileio.textile.
stage_ansible_lint() {
    ANSIBLE_COLLECTIONS_PATH="$WORK/ansible-lint" in_copy ansible-lint "$MAIN_VENV" ansible-lint --profile production --nocolor
}
stage_docs_lint() { in_copy docs-lint "$MAIN_VENV" antsibull-docs lint-collection-docs --plugin-docs .; }
stage_changelog_lint() { in_copy changelog-lint "$MAIN_VENV" antsibull-changelog lint; }

# Build the collection tarball of stage $1 into $WORK/$1/dist; print its path.
build_tarball() {
    local stage=$1
    in_copy "$stage" "$MAIN_VENV" ansible-galaxy collection build --force --output-path "$WORK/$stage/dist" >&2 || return 1
    ls "$WORK/$stage"/dist/textileio-textile-*.tar.gz
}

# ansible-doc of one plugin from the collection installed under $1; fails on an error or a warning.
doc_one() {
    local installed=$1 type=$2 name=$3 out rc
    # From a directory outside any collection, so only the installed copy can answer.
    out=$(cd "$installed" && ANSIBLE_COLLECTIONS_PATH="$installed" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
        in_venv "$MAIN_VENV" ansible-doc -t "$type" "textileio.textile.$name" 2>&1 >/dev/null)
    rc=$?
    # ansible-core 2.21 warns about its own internal collection when documenting roles.
    out=$(grep -v '_protomatter. does not have a MANIFEST.json' <<<"$out")
    if [ $rc -ne 0 ] || [ -n "$out" ]; then
        say "ansible-doc -t $type textileio.textile.$name: FAILED (rc $rc)"
        say "$out"
        return 1
    fi
    say "ansible-doc -t $type textileio.textile.$name: ok"
}

stage_build() {
    local tarball installed="$WORK/build/installed" copy failed=0 file name
    tarball=$(build_tarball build) || return 1
    in_venv "$MAIN_VENV" ansible-galaxy collection install --force -p "$installed" "$tarball" 2>&1 \
        | grep -v 'is not part of the configured Ansible collections paths'
    [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    copy="$installed/ansible_collections/textileio/textile"
    for file in "$copy"/plugins/modules/*.py; do
        [ -e "$file" ] || continue
        name=$(basename "$file" .py)
        [[ $name == _* ]] && continue
        doc_one "$installed" module "$name" || failed=1
    done
    for file in "$copy"/plugins/filter/*.yml "$copy"/plugins/filter/*.yaml; do
        [ -e "$file" ] || continue
        doc_one "$installed" filter "$(basename "${file%.*}")" || failed=1
    done
    for file in "$copy"/roles/*/meta/argument_specs.yml; do
        [ -e "$file" ] || continue
        doc_one "$installed" role "$(basename "$(dirname "$(dirname "$file")")")" || failed=1
    done
    return $failed
}

stage_galaxy_importer() {
    local dir="$WORK/galaxy-importer" tarball rc errors
    tarball=$(build_tarball galaxy-importer) || { say "the collection does not build"; return 1; }
    mkdir -p "$dir/run/tmp"
    # Run from its own directory: it writes importer_result.json into the working directory.
    (cd "$dir/run" && GALAXY_IMPORTER_CONFIG="$ROOT/scripts/galaxy-importer.cfg" GALAXY_IMPORTER_TMP_ROOT_DIR="$dir/run/tmp" \
        in_venv "$MAIN_VENV" python -m galaxy_importer.main "$tarball") >"$dir/importer.log" 2>&1
    rc=$?
    cat "$dir/importer.log"
    # Its exit code says little: read its log for errors.
    errors=$(grep -E '^ERROR|Traceback' "$dir/importer.log")
    if [ $rc -ne 0 ] || [ -n "$errors" ] || ! grep -q 'Importer processing completed successfully' "$dir/importer.log"; then
        say "galaxy-importer reported errors (exit code $rc):"
        say "$errors"
        return 1
    fi
}

# Start stage number $1 in the background; its output goes to a log, its exit code and end time to a file.
launch() {
    local name=${NAMES[$1]}
    date +%s >"$WORK/stages/$1.start"
    (
        cd "$ROOT" || exit 1
        "stage_${name//[-.]/_}" </dev/null >"$WORK/stages/$1.log" 2>&1
        echo "$? $(date +%s)" >"$WORK/stages/$1.rc.tmp"
        mv "$WORK/stages/$1.rc.tmp" "$WORK/stages/$1.rc"
    ) &
    STAGE_PIDS+=("$!")
}

main() {
    local arg entry i rc end took launched=0 shown=0 running passed=0 failed=0 results=()
    WANTED=()
    NAMES=()
    DESCS=()
    for arg in "$@"; do
        case "$arg" in
            --list)
                for entry in "${STAGES[@]}"; do printf '%-20s %s\n' "${entry%%|*}" "${entry#*|}"; done
                exit 0
                ;;
            -h | --help)
                sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
                exit 0
                ;;
            *) WANTED+=("$arg") ;;
        esac
    done
    for arg in "${WANTED[@]}"; do
        printf '%s\n' "${STAGES[@]}" | grep -qE "^$arg(-[^|]*)?\|" || { say "unknown stage '$arg' (see --list)"; exit 2; }
    done
    for entry in "${STAGES[@]}"; do
        selected "${entry%%|*}" && NAMES+=("${entry%%|*}") && DESCS+=("${entry#*|}")
    done

    setup
    mkdir -p "$WORK/stages"
    set -m # each stage in its own process group, so cleanup can stop all it started
    say "running ${#NAMES[@]} stages, $JOBS at a time (TEXTILE_TEST_JOBS); each one's output is shown when it ends"
    # Stages run side by side (most of their time is spent waiting) and are reported in order.
    while [ $shown -lt ${#NAMES[@]} ]; do
        running=0
        for ((i = shown; i < launched; i++)); do
            [ -f "$WORK/stages/$i.rc" ] || running=$((running + 1))
        done
        if [ $running -lt "$JOBS" ] && [ $launched -lt ${#NAMES[@]} ]; then
            launch $launched
            launched=$((launched + 1))
            continue
        fi
        if [ ! -f "$WORK/stages/$shown.rc" ]; then
            sleep 1
            continue
        fi
        i=$shown
        read -r rc end <"$WORK/stages/$i.rc"
        took=$((end - $(cat "$WORK/stages/$i.start")))
        say ""
        say "==== [$((i + 1))/${#NAMES[@]}] ${NAMES[$i]}: ${DESCS[$i]} ===="
        cat "$WORK/stages/$i.log"
        case $rc in
            0) results+=("${NAMES[$i]}|passed|$took"); passed=$((passed + 1)) ;;
            100) results+=("${NAMES[$i]}|skipped (nothing to run)|$took") ;;
            *) results+=("${NAMES[$i]}|FAILED (exit $rc)|$took"); failed=$((failed + 1)) ;;
        esac
        IFS='|' read -r _ entry _ <<<"${results[-1]}"
        say "==== ${NAMES[$i]}: $entry after ${took}s ===="
        shown=$((shown + 1))
    done
    wait

    say ""
    say "==== summary ===="
    printf '%-20s %-26s %s\n' stage result seconds
    for entry in "${results[@]}"; do
        IFS='|' read -r arg rc took <<<"$entry"
        printf '%-20s %-26s %s\n' "$arg" "$rc" "$took"
    done
    say "checks: $passed passed, $failed failed"
    [ $failed -eq 0 ]
}

main "$@"
