#!/usr/bin/env bash
# Create or reuse the virtualenv of one test line and print its path.
#
#   scripts/venv.sh compat   Python 3.11 + ansible-core 2.19 (the oldest supported)
#   scripts/venv.sh 2.20     Python 3.12 + ansible-core 2.20
#   scripts/venv.sh main     Python 3.12 + ansible-core 2.21
#   scripts/venv.sh 2.22     Python 3.13 + ansible-core 2.22 (its secrets API)
#   scripts/venv.sh nox      Python 3.12 + nox and antsibull-nox (scripts/test.sh runs the sessions with it)
#   scripts/venv.sh mutation Python 3.12 + ansible-core 2.21 + mutmut (hacking/mutation.sh)
#   scripts/venv.sh eda      Python 3.12 + ansible-core 2.21 + ansible-rulebook (the drift source's rulebook tests)
#
# Can also be sourced: it then defines ensure_venv LINE (sets VENV_DIR).
# Venvs live outside the clone, in ${TEXTILE_VENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/textileio-textile},
# keyed by the Python version, the line's row below and the files it names: a changed pin makes a new venv,
# an unchanged one is reused without running pip at all.

TEXTILE_SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEXTILE_VENV_CACHE=${TEXTILE_VENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/textileio-textile}

venv_die() {
    echo "venv.sh: error: $*" >&2
    return 1
}

# The lines: Python X.Y, then what pip installs (files in scripts/). requirements-tests.txt pins what every test
# line's suites need; constraints-nox-sessions.txt pins the tools of nox and of its sessions.
venv_line() {
    case "$1" in
        # the oldest supported core (meta/runtime.yml), with urllib3 1.26, the oldest the client supports (the docs
        # name it; _transport.py builds on its internals): the other lines run urllib3 2.x
        compat) echo "3.11 -r requirements-tests.txt ansible-core==2.19.14 urllib3==1.26.20" ;;
        2.20) echo "3.12 -r requirements-tests.txt ansible-core==2.20.10" ;;
        # the line that runs every suite: ansible-builder for the packaging and execution environment tests,
        # ansible-runner for test_awx.py (the playbooks as AWX runs them), antsibull-docs-parser for
        # test_docs_markup.py (the rendered docs)
        main) echo "3.12 -r requirements-tests.txt ansible-core==2.21.5 ansible-builder==3.2.0 ansible-runner==2.4.3 antsibull-docs-parser==1.2.3" ;;
        # Python 3.13, which 2.22 needs; 2.22.0rc1 is what PyPI serves today: move the pin to 2.22.0 once it is out
        2.22) echo "3.13 -r requirements-tests.txt ansible-core==2.22.0rc1" ;;
        # ansible-rulebook (its rule engine needs Java 17) for test_eda_rulebook.py and hacking/bench_eda.py, on a
        # line of its own so that its dependencies never change what the other suites run with
        eda) echo "3.12 -r requirements-tests.txt ansible-core==2.21.5 ansible-rulebook==1.3.2" ;;
        # hacking/mutation.sh, not part of the test command
        mutation) echo "3.12 -r requirements-tests.txt ansible-core==2.21.5 mutmut==3.8.1 pytest-timeout==2.4.0" ;;
        # what runs the sessions; antsibull-nox finds collections with this venv's ansible-galaxy (test.sh puts it
        # first on PATH), and nox looks for uv whenever it sets up a session (it logs "uv binary not found" without)
        nox) echo "3.12 -c constraints-nox-sessions.txt nox antsibull-nox ansible-core uv" ;;
        *) venv_die "unknown line '$1' (expected compat, 2.20, main, 2.22, eda, mutation or nox)" ;;
    esac
}

# Path of the newest pyenv Python X.Y, else pythonX.Y on PATH.
find_python() {
    local minor=$1 root candidate=""
    root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
    candidate=$(printf '%s\n' "$root"/versions/"$minor".* | grep -E "/$minor\.[0-9]+$" | sort -V | tail -n 1)
    if [ -n "$candidate" ] && [ -x "$candidate/bin/python$minor" ]; then
        echo "$candidate/bin/python$minor"
    elif command -v "python$minor" >/dev/null 2>&1; then
        command -v "python$minor"
    else
        venv_die "Python $minor is missing: no $root/versions/$minor.* and no python$minor on PATH (install it, e.g. 'pyenv install $minor')"
    fi
}

ensure_venv() {
    local line=$1 row minor args python version key dir log
    row=$(venv_line "$line") || return 1
    read -r minor args <<<"$row"
    python=$(find_python "$minor") || return 1
    version=$("$python" -c 'import platform; print(platform.python_version())') \
        || venv_die "$python does not run" || return 1
    # the Python version, the row and the files it names (the word after each -r or -c)
    # shellcheck disable=SC2086
    key=$( (echo "$version $args"; cd "$TEXTILE_SCRIPTS_DIR" && set -- $args && while [ $# -gt 1 ]; do
        case $1 in -r | -c) cat "$2" ;; esac
        shift
    done) | sha256sum | cut -c1-12)
    dir="$TEXTILE_VENV_CACHE/$line-py$version-$key"
    VENV_DIR=$dir
    mkdir -p "$TEXTILE_VENV_CACHE" || venv_die "cannot create $TEXTILE_VENV_CACHE" || return 1
    (
        # One builder at a time per venv (a lock per line and hash: a build never holds up another venv of the
        # line); a second run waits and then reuses it.
        flock 9
        [ -f "$dir/.complete" ] && exit 0
        echo "venv.sh: creating the $line venv ($version) in $dir" >&2
        rm -rf "$dir"
        log="$TEXTILE_VENV_CACHE/$line-$key.install.log"
        if ! "$python" -m venv "$dir" >"$log" 2>&1; then
            venv_die "could not create a venv with $python (its venv/ensurepip module may be missing); see $log"
            exit 1
        fi
        # shellcheck disable=SC2086
        if ! (cd "$TEXTILE_SCRIPTS_DIR" && "$dir/bin/python" -m pip install --disable-pip-version-check -q $args) >>"$log" 2>&1; then
            grep -E '^ERROR' "$log" | grep -vE 'is ignored|^ERROR: Ignored' | cut -c1-200 | tail -n 3 >&2
            rm -rf "$dir"
            venv_die "pip could not install the $line line ($args) (PyPI unreachable or a pin unavailable?); full log: $log"
            exit 1
        fi
        touch "$dir/.complete"
    ) 9>"$TEXTILE_VENV_CACHE/$line-$key.lock"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -u
    [ $# -eq 1 ] || { echo "usage: $0 compat|2.20|main|2.22|eda|mutation|nox" >&2; exit 2; }
    ensure_venv "$1" || exit 1
    echo "$VENV_DIR"
fi
