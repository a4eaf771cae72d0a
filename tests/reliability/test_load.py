# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load: 10 inventory hosts, forks 10, all declaring the same 50 tokens against one simulator at once."""

from __future__ import annotations

from ansible_collections.textileio.textile.tests.scenarios.harness import FAST, count, ids_of, module_task, playbook

HOSTS = 10
TOKENS = 50


def test_ten_concurrent_runs_store_each_token_once(sim, new_token, run_playbook):
    tokens = [new_token() for number in range(TOKENS)]
    expected = ids_of(tokens)
    inventory = {"all": {"hosts": {"cafe%02d" % n: {"ansible_connection": "local"} for n in range(HOSTS)}}}

    result = run_playbook(
        playbook([module_task("declare", {"api_url": sim.url, "tokens": "{{ tokens }}"})], hosts="all"),
        inventory=inventory,
        extra_vars={"tokens": tokens},
        args=("--forks", str(HOSTS)),
        env=FAST,
    )

    per_host = result.host_results("declare")
    assert len(per_host) == HOSTS
    failed = {host: r.get("msg") for host, r in per_host.items() if r.get("failed")}
    assert not failed, failed
    assert sim.control.state_ids() == expected
    for host, outcome in per_host.items():
        assert outcome["ids"] == expected, host
    # Every token was imported by exactly one host, and each host says so only for its own imports.
    claimed = [tid for outcome in per_host.values() for tid in outcome["created_ids"]]
    assert sorted(claimed) == expected
    requests = sim.control.requests()
    stored = [r for r in requests if r["method"] == "POST" and r["status"] == 201]
    assert len(stored) == TOKENS
    assert count(requests, "DELETE") == 0
    assert count(requests, "GET", "/api/v0/tokens") >= HOSTS
