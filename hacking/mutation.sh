#!/usr/bin/env bash
# Mutation testing of plugins/ with mutmut: would the unit tests notice a bug?
#
#   hacking/mutation.sh                       every file of plugins/
#   hacking/mutation.sh plugins/module_utils/_client.py ...   only these files
#
# Not part of the test command (it takes tens of minutes). It works on a copy of the working tree (tracked and
# untracked files, not ignored ones) under a temporary ansible_collections/textileio/textile, so that mutmut sees
# the modules under the names the tests import them by, and prints mutmut's summary, the score, and every
# surviving mutant as a diff. docs/mutation.md records the last result and explains the survivors.
#
# The venv is the main line's ansible-core plus mutmut (the mutation line of scripts/venv.sh), cached like the others.
# TEXTILE_PROPERTY_EXAMPLES (default 25 here) sets how many examples each argument-spec property test tries
# per mutant. MUTATION_KEEP=1 keeps the work directory and prints its path. MUTATION_ONLY='glob ...' runs only the
# mutants whose names match (mutmut's names, for example '*x_server_words__mutmut_*'), to re-check survivors.
# MUTATION_TESTS='path ...' (default tests/unit/plugins) narrows the tests mutmut runs, for a file that the rest of
# the suite only passes through: the score then says what those tests notice.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/venv.sh
. "$ROOT/scripts/venv.sh"

ensure_venv mutation || exit 1
VENV=$VENV_DIR
WORK=$(mktemp -d "${TMPDIR:-/tmp}/textile-mutation.XXXXXX") || exit 1
[ "${MUTATION_KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
COPY="$WORK/ansible_collections/textileio/textile"
mkdir -p "$COPY"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$COPY" || exit 1

sources=("$@")
[ ${#sources[@]} -gt 0 ] || sources=(plugins)
{
    echo '[mutmut]'
    echo 'source_paths ='
    for source in "${sources[@]}"; do echo "    ansible_collections/textileio/textile/$source"; done
    echo 'pytest_add_cli_args_test_selection ='
    for tests in ${MUTATION_TESTS:-tests/unit/plugins}; do echo "    ansible_collections/textileio/textile/$tests"; done
    # A mutant that turns a bounded wait into an endless one is caught by the per-test wall-clock limit (mutmut's
    # own limit counts CPU seconds, which a sleeping test never spends).
    echo 'pytest_add_cli_args = -p no:cacheprovider -q --timeout 120'
    echo 'also_copy = ansible_collections/'
} >"$WORK/setup.cfg"

cd "$WORK" || exit 1
export TEXTILE_PROPERTY_EXAMPLES=${TEXTILE_PROPERTY_EXAMPLES:-25}
started=$(date +%s)
read -ra only <<<"${MUTATION_ONLY:-}"  # read -a splits on spaces and never expands the globs
"$VENV/bin/mutmut" run --max-children 2 ${only[@]+"${only[@]}"} 2>&1 | tr '\r' '\n' | grep -v '^\s*$' | awk 'NR % 50 == 0 || /done|Stopping|rror/'
took=$(($(date +%s) - started))

"$VENV/bin/mutmut" results --all true >"$WORK/results.txt" 2>&1
killed=$(grep -c ': killed$' "$WORK/results.txt")
survived=$(grep -c ': survived$' "$WORK/results.txt")
total=$(grep -E '__mutmut_[0-9]+: ' "$WORK/results.txt" | grep -vc ': not checked$')
other=$((total - killed - survived))
echo
echo "mutants: $total, killed: $killed, survived: $survived, other (timeout, suspicious, no tests): $other"
[ "$total" -gt 0 ] && echo "score: $((100 * killed / total))% killed ($took s)"
echo
echo "survivors:"
grep -E ': survived$' "$WORK/results.txt" | sed 's/: survived$//' | while read -r name; do
    "$VENV/bin/mutmut" show "$name" 2>/dev/null | sed 's/^/    /'
    echo
done
[ "${MUTATION_KEEP:-0}" = 1 ] && echo "work directory kept: $WORK"
exit 0
