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
# keyed by the Python version and a hash of the line's requirement files: a changed pin makes a new venv,
# an unchanged one is reused without running pip at all.

TEXTILE_SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEXTILE_VENV_CACHE=${TEXTILE_VENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/textileio-textile}

venv_die() {
    echo "venv.sh: error: $*" >&2
    return 1
}

# The Python minor version of a line.
venv_python_minor() {
    case "$1" in
        compat) echo 3.11 ;;
        2.20 | main | eda | mutation | nox) echo 3.12 ;;
        2.22) echo 3.13 ;;
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

# The requirement files of a line: the files its own file names with -r, then its own.
# A developer tool's line (mutation) keeps its file in hacking/.
venv_requirement_file() {
    local own="$TEXTILE_SCRIPTS_DIR/requirements-$1.txt"
    [ -f "$own" ] || own="$TEXTILE_SCRIPTS_DIR/../hacking/requirements-$1.txt"
    [ -f "$own" ] || { venv_die "no requirements-$1.txt in scripts/ or hacking/"; return 1; }
    echo "$own"
}

venv_requirement_files() {
    local own included
    own=$(venv_requirement_file "$1") || return 1
    sed -nE 's/^-r[[:space:]]+([^[:space:]]+).*/\1/p' "$own" | while IFS= read -r included; do
        echo "$(dirname "$own")/$included"
    done
    echo "$own"
}

ensure_venv() {
    local line=$1 minor python version files key dir log
    minor=$(venv_python_minor "$line") || return 1
    python=$(find_python "$minor") || return 1
    version=$("$python" -c 'import platform; print(platform.python_version())') \
        || venv_die "$python does not run" || return 1
    files=$(venv_requirement_files "$line") || return 1
    # shellcheck disable=SC2086
    key=$( (echo "$version"; cat $files) | sha256sum | cut -c1-12)
    dir="$TEXTILE_VENV_CACHE/$line-py$version-$key"
    VENV_DIR=$dir
    mkdir -p "$TEXTILE_VENV_CACHE" || venv_die "cannot create $TEXTILE_VENV_CACHE" || return 1
    (
        # One builder at a time per venv; a second run waits and then reuses it.
        flock 9
        [ -f "$dir/.complete" ] && exit 0
        echo "venv.sh: creating the $line venv ($version) in $dir" >&2
        rm -rf "$dir"
        log="$TEXTILE_VENV_CACHE/$line-$key.install.log"
        if ! "$python" -m venv "$dir" >"$log" 2>&1; then
            venv_die "could not create a venv with $python (its venv/ensurepip module may be missing); see $log"
            exit 1
        fi
        if ! "$dir/bin/python" -m pip install --disable-pip-version-check -q \
                -r "$(venv_requirement_file "$line")" >>"$log" 2>&1; then
            grep -E '^ERROR' "$log" | grep -vE 'is ignored|^ERROR: Ignored' | cut -c1-200 | tail -n 3 >&2
            rm -rf "$dir"
            venv_die "pip could not install requirements-$line.txt into the $line venv (PyPI unreachable or a pin unavailable?); full log: $log"
            exit 1
        fi
        touch "$dir/.complete"
    ) 9>"$TEXTILE_VENV_CACHE/$line.lock"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -u
    [ $# -eq 1 ] || { echo "usage: $0 compat|2.20|main|2.22|eda|mutation|nox" >&2; exit 2; }
    ensure_venv "$1" || exit 1
    echo "$VENV_DIR"
fi
