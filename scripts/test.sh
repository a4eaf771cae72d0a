#!/usr/bin/env bash
# Run every check of the collection; on a fresh machine it first sets up what the checks need.
#
#   scripts/test.sh              every stage
#   scripts/test.sh STAGE...     only the named stages; a prefix selects a group
#                                (e.g. "pytest", "sanity", "pytest-unit", "build")
#   scripts/test.sh --list       print the stage names
#
# Each stage prints a header; the run ends with a table and the line "checks: N passed, N failed",
# and exits non-zero when any stage failed. A failing stage does not stop the others.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/venv.sh
. "$ROOT/scripts/venv.sh"

# name | what it runs. Order is run order.
STAGES=(
    "pytest-unit|pytest tests/unit (main line: Python 3.12, ansible-core 2.21)"
    "pytest-interop|pytest tests/interop: the npm client against the simulator"
    "pytest-integration|pytest tests/integration: ansible-playbook against the simulator"
    "pytest-reliability|pytest tests/reliability"
    "pytest-compat|pytest tests/unit tests/integration (compat line: Python 3.11, ansible-core 2.19)"
    "sanity-ignores|tests/sanity holds no ignore entries"
    "sanity-2.21|ansible-test sanity --python 3.12 (ansible-core 2.21)"
    "sanity-2.19|ansible-test sanity --python 3.11 (ansible-core 2.19)"
    "units|ansible-test units --python 3.12"
    "ansible-lint|ansible-lint --profile production"
    "docs-lint|antsibull-docs lint-collection-docs --plugin-docs"
    "changelog-lint|antsibull-changelog lint"
    "build|ansible-galaxy collection build + install + ansible-doc of every plugin"
    "galaxy-importer|galaxy-importer on the tarball (docs and lint steps, no ansible-test)"
)

WORK=""
COPY=""
PYTHONPATH_DIR=""
TARBALL=""

cleanup() {
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
        say "setup: $package is missing and cannot be installed here (not root or no apt-get); tests that need it skip"
        return 0
    fi
    say "setup: installing $package with apt-get"
    if [ -z "${APT_UPDATED:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null 2>&1 && APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" </dev/null >/dev/null 2>&1 \
        || say "setup: apt-get install $package failed; tests that need it skip"
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

    say "==== setup: virtualenvs (cache: $TEXTILE_VENV_CACHE) ===="
    ensure_venv main || { say "setup failed: the main venv is missing (see the message above)"; exit 1; }
    MAIN_VENV=$VENV_DIR
    ensure_venv compat || { say "setup failed: the compat venv is missing (see the message above)"; exit 1; }
    COMPAT_VENV=$VENV_DIR
    say "main:   $MAIN_VENV"
    say "compat: $COMPAT_VENV"
    install_get_pip_standin "$MAIN_VENV" && install_get_pip_standin "$COMPAT_VENV" || exit 1

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
    make_collection_copy
}

# A real copy of the tracked files (as they are in the work tree), for the tools that need one.
make_collection_copy() {
    COPY="$WORK/copy/ansible_collections/textileio/textile"
    mkdir -p "$COPY"
    (cd "$ROOT" && git ls-files -z | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$COPY" \
        || { say "setup: cannot copy the tracked files (is $ROOT a git clone?)"; exit 1; }
}

# Run a command with venv $1 first on PATH.
in_venv() {
    local venv=$1
    shift
    PATH="$venv/bin:$PATH" VIRTUAL_ENV="$venv" "$@"
}

# pytest in venv $1 over the given directories, those that exist; exit 5 (nothing collected) means skipped.
run_pytest() {
    local venv=$1 dirs=() dir rc
    shift
    for dir in "$@"; do
        [ -d "$ROOT/$dir" ] && dirs+=("$dir")
    done
    [ ${#dirs[@]} -gt 0 ] || return 100
    (cd "$ROOT" && PYTHONPATH="$PYTHONPATH_DIR" in_venv "$venv" python -m pytest -p no:cacheprovider -n 2 -q "${dirs[@]}")
    rc=$?
    [ $rc -eq 5 ] && return 100
    return $rc
}

stage_pytest_unit() { run_pytest "$MAIN_VENV" tests/unit; }
stage_pytest_interop() { run_pytest "$MAIN_VENV" tests/interop; }
stage_pytest_integration() { run_pytest "$MAIN_VENV" tests/integration; }
stage_pytest_reliability() { run_pytest "$MAIN_VENV" tests/reliability; }
stage_pytest_compat() { run_pytest "$COMPAT_VENV" tests/unit tests/integration; }

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

run_ansible_test() {
    local venv=$1
    shift
    (cd "$COPY" && in_venv "$venv" ansible-test "$@" --color no --requirements)
}

stage_sanity_2_21() { run_ansible_test "$MAIN_VENV" sanity --python 3.12; }
stage_sanity_2_19() { run_ansible_test "$COMPAT_VENV" sanity --python 3.11; }
stage_units() {
    [ -d "$ROOT/tests/unit" ] || return 100
    run_ansible_test "$MAIN_VENV" units --python 3.12
}

stage_ansible_lint() {
    (cd "$COPY" && in_venv "$MAIN_VENV" ansible-lint --profile production --nocolor)
}

stage_docs_lint() {
    (cd "$COPY" && in_venv "$MAIN_VENV" antsibull-docs lint-collection-docs --plugin-docs .)
}

stage_changelog_lint() {
    (cd "$COPY" && in_venv "$MAIN_VENV" antsibull-changelog lint)
}

# ansible-doc of one plugin from the installed collection; fails on an error or a warning.
doc_one() {
    local type=$1 name=$2 out
    # From a directory outside any collection, so only the installed copy can answer.
    out=$(cd "$WORK" && ANSIBLE_COLLECTIONS_PATH="$WORK/installed" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
        in_venv "$MAIN_VENV" ansible-doc -t "$type" "textileio.textile.$name" 2>&1 >/dev/null)
    local rc=$?
    if [ $rc -ne 0 ] || [ -n "$out" ]; then
        say "ansible-doc -t $type textileio.textile.$name: FAILED (rc $rc)"
        say "$out"
        return 1
    fi
    say "ansible-doc -t $type textileio.textile.$name: ok"
}

stage_build() {
    local copy=$COPY failed=0 file name
    mkdir -p "$WORK/dist" "$WORK/installed"
    (cd "$copy" && in_venv "$MAIN_VENV" ansible-galaxy collection build --force --output-path "$WORK/dist") || return 1
    TARBALL=$(ls "$WORK"/dist/textileio-textile-*.tar.gz)
    in_venv "$MAIN_VENV" ansible-galaxy collection install --force -p "$WORK/installed" "$TARBALL" || return 1
    for file in "$copy"/plugins/modules/*.py; do
        [ -e "$file" ] || continue
        name=$(basename "$file" .py)
        case "$name" in _* | __init__) continue ;; esac
        doc_one module "$name" || failed=1
    done
    for file in "$copy"/plugins/filter/*.yml "$copy"/plugins/filter/*.yaml; do
        [ -e "$file" ] || continue
        doc_one filter "$(basename "${file%.*}")" || failed=1
    done
    for file in "$copy"/roles/*/meta/argument_specs.yml; do
        [ -e "$file" ] || continue
        doc_one role "$(basename "$(dirname "$(dirname "$file")")")" || failed=1
    done
    return $failed
}

stage_galaxy_importer() {
    local log="$WORK/importer/importer.log" rc errors
    [ -n "$TARBALL" ] || stage_build >/dev/null 2>&1 || { say "the collection does not build; see the build stage"; return 1; }
    mkdir -p "$WORK/importer/tmp"
    # Run from its own directory: it writes importer_result.json into the working directory.
    (cd "$WORK/importer" && GALAXY_IMPORTER_CONFIG="$ROOT/scripts/galaxy-importer.cfg" \
        GALAXY_IMPORTER_TMP_ROOT_DIR="$WORK/importer/tmp" \
        in_venv "$MAIN_VENV" python -m galaxy_importer.main "$TARBALL") 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    # Its exit code says little: read its report for errors.
    errors=$(grep -E '^ERROR|Traceback' "$log")
    if [ $rc -ne 0 ] || [ -n "$errors" ] || ! grep -q 'Importer processing completed successfully' "$log"; then
        say "galaxy-importer reported errors (exit code $rc):"
        say "$errors"
        return 1
    fi
}

main() {
    local arg entry name desc fn rc start took index=0 total passed=0 failed=0 skipped=0 results=()
    WANTED=()
    for arg in "$@"; do
        case "$arg" in
            --list)
                for entry in "${STAGES[@]}"; do printf '%-20s %s\n' "${entry%%|*}" "${entry#*|}"; done
                exit 0
                ;;
            -h | --help)
                sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
                exit 0
                ;;
            *) WANTED+=("$arg") ;;
        esac
    done
    for arg in "${WANTED[@]}"; do
        printf '%s\n' "${STAGES[@]}" | grep -qE "^$arg(-[^|]*)?\|" || { say "unknown stage '$arg' (see --list)"; exit 2; }
    done

    setup
    total=0
    for entry in "${STAGES[@]}"; do selected "${entry%%|*}" && total=$((total + 1)); done

    for entry in "${STAGES[@]}"; do
        name=${entry%%|*}
        desc=${entry#*|}
        selected "$name" || continue
        index=$((index + 1))
        fn="stage_${name//[-.]/_}"
        say ""
        say "==== [$index/$total] $name: $desc ===="
        start=$(date +%s)
        "$fn"
        rc=$?
        took=$(($(date +%s) - start))
        case $rc in
            0) results+=("$name|passed|$took"); passed=$((passed + 1)) ;;
            100) results+=("$name|skipped (nothing to run)|$took"); skipped=$((skipped + 1)) ;;
            *) results+=("$name|FAILED (exit $rc)|$took"); failed=$((failed + 1)) ;;
        esac
        say "==== $name: ${results[-1]#*|} after ${took}s ===="
    done

    say ""
    say "==== summary ===="
    printf '%-20s %-26s %s\n' stage result seconds
    for entry in "${results[@]}"; do
        IFS='|' read -r name desc took <<<"$entry"
        printf '%-20s %-26s %s\n' "$name" "$desc" "$took"
    done
    say "checks: $passed passed, $failed failed"
    [ $failed -eq 0 ]
}

main "$@"
