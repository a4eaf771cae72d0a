# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the modules are given besides their options, through real ansible-playbook runs against the simulator.

- A corporate environment (proxy variables of both cases, a ~/.netrc) reaches nothing but the cafe; with
  use_proxy (the roles' connection variables) a cafe that only the proxy reaches is reached through it.
- Answers broken after the cafe acted (a fault proxy in front of the simulator): the import, the removal and the
  mint report what the cafe did.
- A pin with an umlaut authenticates, given as api_password and as TEXTILE_PASSWORD.
"""

from __future__ import annotations

import pytest

from ansible_collections.textileio.textile.tests.scenarios.harness import CAFE_TOKENS_SHOW as SHOW
from ansible_collections.textileio.textile.tests.scenarios.harness import (
    ids_of,
    info_task,
    module_task,
    playbook,
    token_id,
)
from ansible_collections.textileio.textile.tests.simulator import proxies

ROLE = "textileio.textile.cafe_tokens : "
PROVISION = "- name: Provision\n  ansible.builtin.import_playbook: textileio.textile.provision\n"
REMOTE = "cafe.invalid"  # resolves nowhere: only the recording proxy reaches it


@pytest.fixture
def corporate_env(tmp_path):
    """Proxy variables in both cases pointing at a recording proxy, and HOME with a .netrc for every host."""
    home = tmp_path / "home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text("default login intruder password netrc-secret-pin\n", encoding="utf-8")
    netrc.chmod(0o600)
    with proxies.ForwardProxy() as proxy:
        env = {name: proxy.url for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY")}
        env.update(NO_PROXY=None, no_proxy=None, HOME=str(home), NETRC=str(netrc))
        yield proxy, env


def inventory_of(url, **group_vars):
    return {"all": {"children": {"textile_cafes": {"hosts": {"cafe1": {"textile_api_url": url}}, "vars": group_vars}}}}


def credentials_seen(sim):
    return [name for entry in sim.control.requests() for name, dummy in entry["header_lines"] if "uthoriz" in name]


@pytest.mark.compat
def test_a_corporate_environment_reaches_nothing_but_the_cafe(sim, run_playbook, new_token, secrets, corporate_env):
    proxy, env = corporate_env
    secrets.add("netrc-secret-pin")
    tokens = [new_token(), new_token()]
    # use_proxy on: a loopback cafe is never reached through a proxy all the same.
    inventory = inventory_of(sim.url, cafe_tokens_present=tokens, textile_use_proxy=True)
    result = run_playbook(PROVISION, inventory=inventory, env=env)
    assert result[SHOW]["msg"]["created_ids"] == ids_of(tokens) == sim.control.state_ids()
    assert proxy.requests == [] and credentials_seen(sim) == []


def test_use_proxy_reaches_a_cafe_only_the_proxy_knows(sim, run_playbook, new_token, corporate_env):
    proxy, env = corporate_env
    proxy.hosts[REMOTE] = sim.port
    token = new_token()
    url = "http://%s:%d" % (REMOTE, sim.port)
    inventory = inventory_of(url, cafe_tokens_present=[token], cafe_tokens_api_use_proxy=True)
    result = run_playbook(PROVISION, inventory=inventory, env=env)
    assert result[SHOW]["msg"]["created_ids"] == [token_id(token)] == sim.control.state_ids()
    assert {r["target"] for r in proxy.requests} == {url + "/api/v0/tokens"}
    assert not any("authorization" in r["headers"] for r in proxy.requests)  # the .netrc is not read
    assert "through the proxy of the environment" in result.output  # the plain-http warning says so

    # Without use_proxy the same cafe is not reached: its name resolves nowhere, and the proxy sees nothing more.
    seen = len(proxy.requests)
    inventory = inventory_of(url, cafe_tokens_present=[token], textile_use_proxy=False, textile_retries=0)
    failed = run_playbook(PROVISION, inventory=inventory, env=env, expect_rc=2)
    assert "does not resolve" in failed[SHOW]["msg"]["error"] and len(proxy.requests) == seen


@pytest.mark.compat
def test_answers_broken_after_the_cafe_acted_are_reported_as_the_work_done(sim, run_playbook, new_token):
    kept, imported, removed = new_token(), new_token(), new_token()
    sim.control.seed([kept, removed])
    with proxies.FaultProxy(sim.port) as fault:
        fault.break_answers("POST", "/api/v0/tokens", "duplicate-length")  # the import's answer
        fault.break_answers("DELETE", "/api/v0/tokens", "reset")
        fault.break_answers("POST", "/api/v0/tokens", "truncated")  # the mint's answer
        tasks = [
            module_task("Import", {"tokens": [kept, imported], "retries": 0}),
            module_task("Remove", {"state": "absent", "ids": [token_id(removed)], "retries": 0}),
            module_task("Mint", {"retries": 0}, ignore_errors=True, no_log=False),
        ]
        result = run_playbook(playbook(tasks), extra_vars={"api_url": fault.url})
        assert [method for method, dummy in fault.broken] == ["POST", "DELETE", "POST"]
    imported_result, removed_result, minted = result["Import"], result["Remove"], result["Mint"]
    assert imported_result["created_ids"] == [token_id(imported)] and imported_result["changed"]
    assert removed_result["removed_ids"] == [token_id(removed)] and removed_result["changed"]
    orphan = sorted(set(sim.control.state_ids()) - {token_id(kept), token_id(imported)})
    assert len(orphan) == 1 and minted["failed"] and minted["orphaned_ids"] == orphan
    assert orphan[0] in minted["msg"] and "token" not in minted
    assert result.failed == 0  # the mint's failure was ignored; nothing else failed


@pytest.mark.compat
def test_a_pin_with_an_umlaut_authenticates_as_an_option_and_from_the_environment(sim_factory, run_playbook):
    pin = "p\u00e4ss-\u00df-pin"
    guarded = sim_factory(username="P4account", password=pin)
    task = info_task("Read", {"api_username": "P4account", "api_password": "{{ pin }}", "retries": 0})
    given = run_playbook(playbook([task]), extra_vars={"api_url": guarded.url, "pin": pin})
    assert given["Read"]["count"] == 0 and not given["Read"].get("failed")
    task = info_task("Read", {"api_username": "P4account", "retries": 0})
    from_env = run_playbook(playbook([task]), extra_vars={"api_url": guarded.url}, env={"TEXTILE_PASSWORD": pin})
    assert from_env["Read"]["count"] == 0 and not from_env["Read"].get("failed")
    assert [entry["status"] for entry in guarded.control.requests() if entry["path"] == "/api/v0/tokens"] == [200, 200]
