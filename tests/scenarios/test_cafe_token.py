# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""textile_cafe_token through real ansible-playbook runs, checked against the simulator's own state.

The module's contract (present, idempotence, check and diff mode, absent, exclusive, mint, verify_secret, bad
options) is the textile_cafe_token target's (tests/integration/targets); here, what needs several simulators,
faults, TLS, credentials from the environment, or the output at -vvvv."""

from __future__ import annotations

import re
import secrets as random_bytes

import base58
import pytest

from ansible_collections.textileio.textile.tests.scenarios.harness import ids_of, module_task, playbook, token_id


def test_no_op_over_many_tokens_with_verify_secret_is_one_request(sim, run_playbook, new_token):
    tokens = [new_token() for index in range(25)]
    sim.control.seed(tokens)
    sim.control.clear_requests()
    result = run_playbook(
        playbook([module_task("Declare", {"tokens": tokens, "verify_secret": True})]), extra_vars={"api_url": sim.url}
    )["Declare"]
    assert result["changed"] is False and result["ids"] == ids_of(tokens)
    assert len(sim.control.requests()) == 1


@pytest.mark.compat
def test_diff_is_shown_to_the_operator_without_a_secret(sim, run_playbook, new_token):
    """The diff's content is asserted by the textile_cafe_token target; here, what the operator sees at -vvvv (the
    harness scans the whole output for the tokens)."""
    stored, removed, added = new_token(), new_token(), new_token()
    replaced = new_token(id_bytes=base58.b58decode(stored)[:12])
    sim.control.seed([stored, removed])
    options = {"tokens": [replaced, added], "exclusive": True, "verify_secret": True}
    result = run_playbook(playbook([module_task("Converge", options)]), extra_vars={"api_url": sim.url}, diff=True)
    assert result["Converge"]["replaced_ids"] == [token_id(stored)]
    assert "%s (secret replaced)" % token_id(stored) in result.stdout


def test_duplicate_import_by_another_writer_counts_as_present(sim, run_playbook, new_token):
    """Another play stores the token between this run's list and its import: the 400 is re-checked.

    The simulator stores the racing token itself when the first import arrives, before it answers it (no
    timing). One import at a time: with two in flight, the racing token's own import could store it before the
    faulted one arrives, and both would be answered 201. reliability/ covers the race in a pool."""
    racing, own = new_token(), new_token()
    sim.control.add_fault(method="POST", path="/api/v0/tokens", action="delay", delay=0, count=1, store_first=[racing])
    result = run_playbook(
        playbook([module_task("Declare", {"tokens": [racing, own], "concurrency": 1})]),
        extra_vars={"api_url": sim.url},
    )["Declare"]
    posts = [r for r in sim.control.requests() if r["method"] == "POST"]
    assert sorted(r["status"] for r in posts) == [201, 400]  # the server really answered "duplicate" once
    assert sim.control.state_ids() == ids_of([racing, own]) == result["ids"]
    assert result["created_ids"] == [token_id(own)]


def test_a_400_for_an_id_that_is_not_stored_fails_quoting_the_server(sim, run_playbook, new_token):
    token = new_token()
    sim.control.add_fault(
        method="POST",
        path="/api/v0/tokens",
        action="status",
        status=400,
        body="UNIQUE constraint failed: cafe_tokens.id",
        count=1,
    )
    result = run_playbook(
        playbook([module_task("Declare", {"tokens": [token]})]), extra_vars={"api_url": sim.url}, expect_rc=2
    )["Declare"]
    assert result["failed"] is True
    assert "UNIQUE constraint failed" in result["msg"]
    assert sim.control.state_ids() == [] and result["created_ids"] == []


@pytest.mark.compat
def test_basic_auth_with_and_without_credentials(sim_factory, run_playbook, new_token):
    username = "P" + base58.b58encode(random_bytes.token_bytes(32)).decode()
    password = base58.b58encode(random_bytes.token_bytes(16)).decode()
    sim = sim_factory(username=username, password=password)
    token = new_token()
    declare = {"tokens": [token], "api_username": "{{ user }}", "api_password": "{{ pin }}"}
    result = run_playbook(
        playbook(
            [
                module_task("Without credentials", {"tokens": [token]}, ignore_errors=True),
                module_task("Wrong password", dict(declare, api_password="{{ pin }}x"), ignore_errors=True),
                module_task("With credentials", declare),
            ]
        ),
        extra_vars={"api_url": sim.url, "user": username, "pin": password},
    )
    for name in ("Without credentials", "Wrong password"):
        assert result[name]["failed"] is True
        assert re.search(r"basic auth", result[name]["msg"], re.I), result[name]["msg"]
        assert re.search(r"api_username|api_password", result[name]["msg"]), result[name]["msg"]
    assert result["With credentials"]["created_ids"] == [token_id(token)]
    assert sim.control.state_ids() == [token_id(token)]


def test_credentials_and_url_from_the_environment(sim_factory, run_playbook, new_token):
    password = base58.b58encode(random_bytes.token_bytes(16)).decode()
    sim = sim_factory(username="Penvuser", password=password)
    token = new_token()
    task = {"name": "Declare", "textileio.textile.textile_cafe_token": {"tokens": [token]}}
    result = run_playbook(
        playbook([task]), env={"TEXTILE_API_URL": sim.url, "TEXTILE_USERNAME": "Penvuser", "TEXTILE_PASSWORD": password}
    )
    assert result["Declare"]["created_ids"] == [token_id(token)]
    assert sim.control.state_ids() == [token_id(token)]


@pytest.mark.compat
def test_api_url_from_the_environment(sim, run_playbook, new_token):
    token = new_token()
    task = {"name": "Declare", "textileio.textile.textile_cafe_token": {"tokens": [token]}}
    result = run_playbook(playbook([task]), env={"TEXTILE_API_URL": sim.url})
    assert result["Declare"]["created_ids"] == [token_id(token)]
    assert sim.control.state_ids() == [token_id(token)]


@pytest.mark.compat
def test_module_defaults_with_the_action_group(sim_factory, run_playbook, new_token):
    password = base58.b58encode(random_bytes.token_bytes(16)).decode()
    sim = sim_factory(username="Pgroupuser", password=password)
    token = new_token()
    result = run_playbook(
        playbook(
            [
                {"name": "Declare", "textileio.textile.textile_cafe_token": {"tokens": [token]}},
                {"name": "Report", "textileio.textile.textile_cafe_token_info": {}},
            ],
            module_defaults={
                "group/textileio.textile.textile": {
                    "api_url": "{{ api_url }}",
                    "api_username": "Pgroupuser",
                    "api_password": "{{ pin }}",
                }
            },
        ),
        extra_vars={"api_url": sim.url, "pin": password},
        env={"TEXTILE_API_URL": "http://127.0.0.1:9"},
    )
    assert result["Declare"]["created_ids"] == [token_id(token)]
    assert result["Report"]["stored"] == [{"id": token_id(token)}]
    assert sim.control.state_ids() == [token_id(token)]


def test_tls_with_ca_path_and_certificate_failure(sim_factory, run_playbook, new_token, tls_ca):
    sim = sim_factory(tls=True)
    assert sim.url.startswith("https://")
    token = new_token()
    result = run_playbook(
        playbook(
            [
                module_task("Unknown CA", {"tokens": [token]}, ignore_errors=True),
                module_task("Declare", {"tokens": [token], "ca_path": tls_ca.ca_cert}),
            ]
        ),
        extra_vars={"api_url": sim.url},
    )
    assert result["Unknown CA"]["failed"] is True
    assert re.search(r"tls|ssl|certificate", result["Unknown CA"]["msg"], re.I)
    assert result["Declare"]["created_ids"] == [token_id(token)]
    assert sim.control.state_ids() == [token_id(token)]


@pytest.mark.compat
def test_unreachable_daemon_and_wrong_api(sim, run_playbook, new_token):
    token = new_token()
    result = run_playbook(
        playbook(
            [
                module_task(
                    "Closed port",
                    {"tokens": [token], "api_url": "http://127.0.0.1:9", "retries": 0},
                    ignore_errors=True,
                ),
                module_task("Wrong API version", {"tokens": [token], "api_version": "v1"}, ignore_errors=True),
            ]
        ),
        extra_vars={"api_url": sim.url},
    )
    closed = result["Closed port"]
    assert closed["failed"] is True and re.search(r"connect|reach|refused", closed["msg"], re.I), closed["msg"]
    wrong = result["Wrong API version"]
    assert wrong["failed"] is True and "api_version" in wrong["msg"]
    assert sim.control.state_ids() == []


def test_parallel_forks_on_several_cafes(sim_factory, run_playbook, new_token):
    cafes = {"cafe%d" % i: sim_factory() for i in range(3)}
    tokens = [new_token(), new_token()]
    inventory = {
        "all": {"children": {"textile_cafes": {"hosts": {name: {"api_url": sim.url} for name, sim in cafes.items()}}}}
    }
    result = run_playbook(
        playbook([module_task("Declare", {"tokens": tokens})], hosts="textile_cafes"),
        inventory=inventory,
        args=["--forks", "3"],
    )
    assert sorted(result.host_results("Declare")) == sorted(cafes)
    assert all(r["created_ids"] == ids_of(tokens) for r in result.host_results("Declare").values())
    assert all(sim.control.state_ids() == ids_of(tokens) for sim in cafes.values())
    assert result.changed == 3


def test_plain_http_to_a_remote_host_warns_without_echoing_credentials(run_playbook, new_token, secrets):
    password = secrets.add(base58.b58encode(random_bytes.token_bytes(16)).decode())
    # The warning comes when the module starts; the malformed tokens[1] then stops the run before any
    # request, so nothing is sent to the non-loopback address (tests only ever talk to loopback).
    result = run_playbook(
        playbook(
            [
                module_task(
                    "Remote over http",
                    {
                        "tokens": [new_token(), "0OIl"],
                        "api_url": "http://192.0.2.1:40600",
                        "api_username": "Premote",
                        "api_password": password,
                        "timeout": 1,
                        "retries": 0,
                    },
                    ignore_errors=True,
                )
            ]
        )
    )
    outcome = result["Remote over http"]
    assert outcome["failed"] is True and "tokens[1]" in outcome["msg"]
    warning_lines = [line for line in result.output.splitlines() if "[WARNING]" in line]
    assert any("plain http" in line and "192.0.2.1" in line for line in warning_lines), warning_lines
