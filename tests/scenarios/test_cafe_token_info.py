# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""textile_cafe_token_info and the token_id filter through real ansible-playbook runs."""

from __future__ import annotations

import base58
import pytest
from harness import ids_of, info_task, make_token, module_task, playbook, token_id


@pytest.mark.compat
@pytest.mark.parametrize("check", [False, True])
def test_info_reports_the_stored_tokens_and_changes_nothing(sim_factory, run_playbook, new_token, check):
    sim = sim_factory(node_version="0.7.2")
    stored = [new_token(), new_token(), new_token()]
    sim.control.seed(stored)
    sim.control.clear_requests()
    result = run_playbook(playbook([info_task("Report", {})]), extra_vars={"api_url": sim.url}, check=check)
    info = result["Report"]
    assert info["changed"] is False and result.changed == 0
    assert info["stored"] == info["tokens"] == [{"id": i} for i in ids_of(stored)]  # tokens: deprecated name
    assert info["count"] == 3
    assert info["missing_ids"] == [] and info["checked"] == []
    assert info["node"] == {"node_version": "0.7.2", "cafe_version": "v0"}
    requests = sorted((r["method"], r["path"]) for r in sim.control.requests())
    assert requests == [("GET", "/"), ("GET", "/api/v0/tokens")]
    assert sim.control.state_ids() == ids_of(stored)


def test_info_filters_by_ids_and_checks_tokens(sim, run_playbook, new_token):
    stored, other, unknown = new_token(), new_token(), new_token()
    wrong_secret = new_token(id_bytes=base58.b58decode(stored)[:12])
    sim.control.seed([stored, other])
    missing = token_id(unknown)
    result = run_playbook(
        playbook(
            [
                info_task("Filter", {"id": [token_id(stored).upper(), " %s " % missing]}),
                info_task("Check", {"tokens": [unknown, stored, wrong_secret]}),
            ]
        ),
        extra_vars={"api_url": sim.url},
    )
    assert result["Filter"]["stored"] == [{"id": token_id(stored)}]
    assert result["Filter"]["count"] == 1
    assert result["Filter"]["missing_ids"] == [missing]
    assert result["Check"]["checked"] == [
        {"id": missing, "stored": False, "valid": False},
        {"id": token_id(stored), "stored": True, "valid": True},
        {"id": token_id(stored), "stored": True, "valid": False},
    ]
    assert result["Check"]["count"] == 2
    assert [r["method"] for r in sim.control.requests()] == ["GET"] * 4  # bcrypt checks locally


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


def test_bad_info_input_fails_before_any_request(sim, run_playbook, secrets):
    bad = "0OIl" + make_token()[4:]
    secrets.add(bad)
    result = run_playbook(
        playbook(
            [
                info_task("Bad token", {"tokens": [make_token(), bad]}, ignore_errors=True),
                info_task("Bad ID", {"ids": ["abc"]}, ignore_errors=True),
            ]
        ),
        extra_vars={"api_url": sim.url},
    )
    assert "tokens[1]" in result["Bad token"]["msg"]
    assert "ids[0]" in result["Bad ID"]["msg"]
    assert sim.control.requests() == []


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
