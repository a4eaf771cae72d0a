# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-core 2.22's secrets API through real ansible-playbook runs: a minted token and a vaulted token.

Runs on the 2.22 line (nox -e pytest-secrets-2.22); skipped on ansible-core without
``ansible.module_utils.secrets``, where only ``no_log`` on the task keeps a minted token out of the output.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.textileio.textile.tests.scenarios.harness import module_task, playbook, token_id, validates

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("ansible.module_utils.secrets") is None,
    reason="ansible-core has no secrets API before 2.22",
)

# What ansible-core 2.22 shows in place of a registered secret.
PLACEHOLDER = "$REDACTED$"


def occurrences(value, result):
    """Where ``value`` occurs in a run's stdout, stderr and the files it wrote (its log included)."""
    places = [name for name, text in (("stdout", result.stdout), ("stderr", result.stderr)) if value in text]
    places += [
        str(path)
        for path in sorted(Path(result.run_dir).rglob("*"))
        if path.is_file()
        and "input" not in path.relative_to(result.run_dir).parts
        and value.encode() in path.read_bytes()
    ]
    return places


@pytest.mark.parametrize("verbosity", [0, 4])
def test_a_token_minted_without_no_log_is_masked_everywhere(sim_factory, run_playbook, tmp_path, verbosity):
    minting, importing = sim_factory(), sim_factory()
    token_file = tmp_path / "minted.token"  # outside the run's directory: the test reads the token from it
    book = playbook(
        [
            module_task("Mint a token", {"store": False}, register="minted"),
            {"name": "Show the minted token", "ansible.builtin.debug": {"msg": "minted {{ minted.token }}"}},
            {
                "name": "Keep the token",
                "ansible.builtin.copy": {"content": "{{ minted.token }}", "dest": str(token_file), "mode": "0600"},
            },
            module_task("Import the minted token", {"api_url": "{{ other_url }}", "tokens": ["{{ minted.token }}"]}),
        ]
    )
    result = run_playbook(book, extra_vars={"api_url": minting.url, "other_url": importing.url}, verbosity=verbosity)
    # No assert names the token itself: pytest would print it when one fails.
    token = token_file.read_text(encoding="utf-8")
    minted_id, accepted, places = token_id(token), validates(importing, token), occurrences(token, result)

    # The registered value is the token itself: it decodes, and the other cafe stores and validates it.
    assert minted_id == result["Mint a token"]["token_id"]
    assert importing.control.state_ids() == [minted_id] and accepted
    assert minting.control.state_ids() == []

    # Shown nowhere: not by the mint task's result, not by a debug of it, not in the log, at any verbosity.
    assert places == []
    recorded_masked = result["Mint a token"]["token"] == PLACEHOLDER  # what callbacks receive
    debug_masked = "minted %s" % PLACEHOLDER in result.stdout
    result_masked = '"token": "%s"' % PLACEHOLDER in result.stdout  # the mint task's result, from -v on
    assert recorded_masked and debug_masked and result_masked == bool(verbosity)


def vault_encrypt(value, password_file, name):
    """``value`` as a ``!vault`` YAML scalar, from ``ansible-vault encrypt_string`` of the running line."""
    vault = Path(sys.executable).parent / "ansible-vault"
    command = [str(vault), "encrypt_string", "--vault-password-file", str(password_file), "--stdin-name", name]
    done = subprocess.run(command, input=value, capture_output=True, text=True, check=True, timeout=120)
    return done.stdout


def test_a_vaulted_token_reaches_the_module_in_plain_and_is_masked(sim, run_playbook, new_token, secrets, tmp_path):
    token = new_token()
    password_file = tmp_path / "vault-password"
    password_file.write_text(secrets.add("vault password of the test"), encoding="utf-8")
    vars_file = tmp_path / "vaulted.yml"
    vars_file.write_text(vault_encrypt(token, password_file, "vaulted_token"), encoding="utf-8")
    encrypted = token not in vars_file.read_text(encoding="utf-8")
    assert encrypted  # no assert names the token itself: pytest would print it when one fails
    book = json.loads(
        playbook(
            [
                module_task("Declare the vaulted token", {"tokens": ["{{ vaulted_token }}"]}),
                {"name": "Show the vaulted token", "ansible.builtin.debug": {"msg": "vaulted {{ vaulted_token }}"}},
                {
                    "name": "Show its ID",
                    "ansible.builtin.debug": {"msg": "{{ vaulted_token | textileio.textile.token_id }}"},
                },
            ]
        )
    )
    book[0]["vars_files"] = [str(vars_file)]
    # ``secrets`` holds the token: the harness fails the run if it shows up in any output or file.
    result = run_playbook(
        json.dumps(book, indent=1), extra_vars={"api_url": sim.url}, args=("--vault-password-file", str(password_file))
    )

    vaulted_id, accepted, places = token_id(token), validates(sim, token), occurrences(token, result)
    declared = result["Declare the vaulted token"]
    assert declared["changed"] is True and declared["created_ids"] == [vaulted_id]
    assert accepted  # the module got the plain token, not the ciphertext or a placeholder
    assert result["Show its ID"]["msg"] == vaulted_id
    shown_masked = result["Show the vaulted token"]["msg"] == "vaulted %s" % PLACEHOLDER
    assert shown_masked
    assert places == []


@pytest.mark.parametrize("option", ["ids", "keep_ids"])
def test_a_token_given_where_none_belongs_is_masked_at_vvvv(sim, run_playbook, new_token, secrets, option):
    """The module hides token-shaped values of any option itself; on 2.22 that must reach the controller."""
    token = secrets.add(new_token())  # the harness fails the run if it shows up in any output or file
    task = (
        {"state": "absent", option: [token]} if option == "ids" else {"tokens": [], "exclusive": True, option: [token]}
    )
    # With the invocation injected (off by default from 2.21), the result echoes every option as given.
    result = run_playbook(
        playbook([module_task("Misplaced token", task)]),
        verbosity=4,
        expect_rc=2,
        extra_vars={"api_url": sim.url, "ansible_inject_invocation": True},
    )
    failed = result["Misplaced token"]
    assert failed["failed"] is True and ("%s[0]" % option) in failed["msg"]
    assert failed["invocation"]["module_args"][option] == [PLACEHOLDER]
    assert occurrences(token, result) == [] and sim.control.requests() == []
