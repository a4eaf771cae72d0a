# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""textile_cafe_token_info and the token_id filter through real ansible-playbook runs.

The module's own contract (the report, ids, checked tokens, check mode, bad options) is the
textile_cafe_token_info target's (tests/integration/targets); here, what needs faults or the other module."""

from __future__ import annotations

import pytest

from ansible_collections.textileio.textile.tests.scenarios.harness import (
    ids_of,
    info_task,
    module_task,
    playbook,
    token_id,
)
from ansible_collections.textileio.textile.tests.simulator.pytest_plugin import make_token


def test_info_follows_the_token_module(sim, run_playbook, new_token):
    """The info module on the states the token module leaves: after create, exclusive and absent."""
    first, second, third = new_token(), new_token(), new_token()
    result = run_playbook(
        playbook(
            [
                module_task("Declare", {"tokens": [first, second]}),
                info_task("After declare", {}),
                module_task("Exclusive", {"tokens": [third], "exclusive": True}),
                info_task("After exclusive", {"tokens": [first, third]}),
                module_task("Remove", {"state": "absent", "ids": [token_id(third)]}),
                info_task("After remove", {}),
            ]
        ),
        extra_vars={"api_url": sim.url},
    )
    assert result["After declare"]["stored"] == [{"id": i} for i in ids_of([first, second])]
    assert result["After exclusive"]["stored"] == [{"id": token_id(third)}]
    assert result["After exclusive"]["checked"] == [
        {"id": token_id(first), "stored": False, "valid": False},
        {"id": token_id(third), "stored": True, "valid": True},
    ]
    assert result["After remove"]["stored"] == [] and result["After remove"]["count"] == 0
    assert sim.control.state_ids() == []


@pytest.mark.compat
def test_info_fails_on_a_failed_list_and_tolerates_a_failed_root(sim, run_playbook, new_token):
    token = new_token()
    sim.control.seed([token])
    sim.control.add_fault(method="GET", path="/api/v0/tokens", action="status", status=500, body="db broke", count=1)
    sim.control.add_fault(method="GET", path="/", action="status", status=500, body="boom")
    result = run_playbook(
        playbook(
            [
                info_task("List fails", {"retries": 0}, ignore_errors=True),
                info_task("Root fails", {"retries": 0}),
            ]
        ),
        extra_vars={"api_url": sim.url},
    )
    failed = result["List fails"]
    assert failed["failed"] is True
    assert "500" in failed["msg"] and "db broke" in failed["msg"]
    assert result["Root fails"]["node"] == {}
    assert result["Root fails"]["stored"] == [{"id": token_id(token)}]


@pytest.mark.compat
def test_token_id_filter_in_a_play(sim, run_playbook, new_token, secrets):
    token = new_token()
    bad = secrets.add("0OIl" + make_token()[4:])
    sim.control.seed([token])
    result = run_playbook(
        playbook(
            [
                {
                    "name": "ID of a vaulted token",
                    "ansible.builtin.set_fact": {"cafe_id": "{{ t | textileio.textile.token_id }}"},
                },
                module_task("Remove by the filtered ID", {"state": "absent", "ids": ["{{ cafe_id }}"]}),
                {
                    "name": "Malformed",
                    "ansible.builtin.debug": {"msg": "{{ b | textileio.textile.token_id }}"},
                    "ignore_errors": True,
                },
            ]
        ),
        extra_vars={"api_url": sim.url, "t": token, "b": bad},
    )
    assert result["ID of a vaulted token"]["ansible_facts"]["cafe_id"] == token_id(token)
    assert result["Remove by the filtered ID"]["removed_ids"] == [token_id(token)]
    assert result["Malformed"]["failed"] is True
    assert sim.control.state_ids() == []
