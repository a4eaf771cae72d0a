# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults injected by the simulator: 5xx, dropped connections and slow answers on list, import and delete.

Each scenario runs the module once with the fault in place, then once more after the fault is cleared.
The faulty run must fail with a clear message or succeed by retrying (GET and DELETE only; retries are
counted at the simulator), and never claim work it did not do. The run after it must converge: every
declared token stored, each imported exactly once, and no undeclared token removed except by ``exclusive``.
"""

from __future__ import annotations

import pytest

from ansible_collections.textileio.textile.tests.scenarios.harness import (
    FAST,
    attempt,
    count,
    module_task,
    playbook,
    token_id,
)

LIST = "/api/v0/tokens"
FAILS, SUCCEEDS, EITHER = "fails", "succeeds", "either"


def scenario(name, action, fault, outcome, msg=(), requests=None, retries=2, timeout=5.0):
    """``requests``: expected counts at the simulator in the faulty run, keyed by (method, path or None)."""
    return pytest.param(
        dict(
            action=action,
            fault=fault,
            outcome=outcome,
            msg=msg,
            requests=requests or {},
            retries=retries,
            timeout=timeout,
        ),
        id=name,
    )


def status(method, code, path=None, count=None, body=None):
    spec = {"method": method, "action": "status", "status": code, "path": path, "count": count, "body": body}
    return {key: value for key, value in spec.items() if value is not None}


def drop(method, path=None, count=None):
    return {
        key: value
        for key, value in {"method": method, "action": "drop", "path": path, "count": count}.items()
        if value is not None
    }


def delay(method, seconds, path=None, count=None):
    return {
        key: value
        for key, value in {"method": method, "action": "delay", "delay": seconds, "path": path, "count": count}.items()
        if value is not None
    }


SCENARIOS = [
    # The list: every run starts with it, so every action depends on it.
    scenario("list-503-always", "converge", status("GET", 503, LIST), FAILS, msg=["503"], requests={("GET", LIST): 3}),
    scenario(
        "list-500-not-retried",
        "converge",
        status("GET", 500, LIST, body="db locked"),
        FAILS,
        msg=["500", "db locked"],
        requests={("GET", LIST): 1},
    ),
    scenario(
        "list-503-once",
        "converge",
        status("GET", 503, LIST, count=1),
        SUCCEEDS,
        requests={("GET", LIST): 2, ("POST", LIST): 2},
    ),
    scenario(
        "list-dropped-once",
        "converge",
        drop("GET", LIST, count=1),
        SUCCEEDS,
        requests={("GET", LIST): 2, ("POST", LIST): 2},
    ),
    scenario(
        "list-dropped-always",
        "converge",
        drop("GET", LIST),
        FAILS,
        msg=["connection"],
        requests={("GET", LIST): 3, ("POST", LIST): 0},
    ),
    scenario(
        "list-slower-than-timeout",
        "converge",
        delay("GET", 2.0, LIST),
        FAILS,
        msg=["timeout"],
        requests={("GET", LIST): 2, ("POST", LIST): 0},
        retries=1,
        timeout=0.5,
    ),
    scenario(
        "list-slow-once",
        "converge",
        delay("GET", 6.0, LIST, count=1),
        SUCCEEDS,
        requests={("GET", LIST): 2, ("POST", LIST): 2},
        retries=1,
        timeout=2.0,  # the counts are exact: the requests that are not delayed must not time out on a busy machine
    ),
    # Imports: a POST is never re-sent blindly; the module re-lists to learn what happened.
    scenario(
        "import-500-always",
        "converge",
        status("POST", 500, LIST, body="disk full"),
        FAILS,
        msg=["500", "disk full"],
        requests={("POST", LIST): 3, ("GET", LIST): 4},
    ),
    scenario("import-500-once", "converge", status("POST", 500, LIST, count=1), EITHER),
    scenario(
        "import-400-claims-duplicate",
        "converge",
        status("POST", 400, LIST, body="UNIQUE constraint failed: cafe_tokens.id"),
        FAILS,
        msg=["UNIQUE constraint failed"],
        requests={("POST", LIST): 1, ("GET", LIST): 2},
    ),
    scenario("import-dropped-once", "converge", drop("POST", LIST, count=1), EITHER),
    scenario("import-slower-than-timeout", "converge", delay("POST", 1.5, LIST, count=1), EITHER, timeout=0.5),
    # Removals are safe to retry.
    scenario(
        "delete-503-once",
        "remove",
        status("DELETE", 503, count=1),
        SUCCEEDS,
        requests={("DELETE", None): 2, ("GET", LIST): 2},
    ),
    scenario(
        "delete-dropped-once",
        "remove",
        drop("DELETE", count=1),
        SUCCEEDS,
        requests={("DELETE", None): 2, ("GET", LIST): 2},
    ),
    scenario(
        "delete-500-always",
        "remove",
        status("DELETE", 500, body="busy"),
        FAILS,
        msg=["500"],
        requests={("DELETE", None): 1},
    ),
    # exclusive never removes anything it could not see in a list.
    scenario(
        "exclusive-list-503-always",
        "exclusive",
        status("GET", 503, LIST),
        FAILS,
        msg=["503"],
        requests={("DELETE", None): 0},
    ),
    scenario(
        "exclusive-list-dropped-always",
        "exclusive",
        drop("GET", LIST),
        FAILS,
        msg=["connection"],
        requests={("DELETE", None): 0},
    ),
    scenario(
        "exclusive-list-slow",
        "exclusive",
        delay("GET", 2.0, LIST),
        FAILS,
        msg=["timeout"],
        requests={("DELETE", None): 0},
        retries=0,
        timeout=0.5,
    ),
    scenario("exclusive-delete-500-always", "exclusive", status("DELETE", 500), FAILS, msg=["500"]),
]


def module_args(action, tokens, api_url, retries, timeout):
    # One request at a time, so that the request log reads in the order the module decided (each failed import
    # followed by its list); test_parallel_imports_under_faults covers requests in flight together.
    args = {"api_url": api_url, "retries": retries, "timeout": timeout, "concurrency": 1}
    if action == "remove":
        return dict(args, state="absent", tokens=tokens[:1])
    return dict(args, tokens=tokens, exclusive=action == "exclusive")


def check_honest(result, action, state, stored_before, declared, undeclared):
    """The faulty run never claims work that did not happen, and only ``exclusive`` touches undeclared IDs."""
    created, removed = set(result.get("created_ids") or ()), set(result.get("removed_ids") or ())
    assert created <= state, "created_ids names IDs that are not stored"
    assert not removed & state, "removed_ids names IDs that are still stored"
    assert created <= declared and created.isdisjoint(stored_before), "created_ids names IDs it did not import"
    if action != "exclusive":
        assert undeclared <= state, "an undeclared token was removed without exclusive"
    if result.get("failed"):
        assert result.get("msg"), "a failure without a message"
        return
    assert result["ids"] == sorted(state), "a successful run returned ids that differ from what is stored"
    assert result["changed"] == bool(created or removed)
    if action == "remove":
        assert removed == declared & stored_before and not declared & state
    else:
        assert declared <= state, "reported success but a declared token is not stored"
    if action == "exclusive":
        assert state == declared


def check_relisted_after_failed_imports(requests):
    """An import that may have reached the cafe is never re-sent blindly: the list decides first."""
    for position, entry in enumerate(requests):
        if entry["method"] == "POST" and entry["status"] != 201:
            following = requests[position + 1 : position + 2]
            assert [(r["method"], r["path"]) for r in following] == [("GET", LIST)], (
                "a failed import was not followed by a list: %s" % requests
            )


@pytest.mark.parametrize("case", SCENARIOS)
def test_fault(case, sim, new_token, run_playbook):
    action = case["action"]
    stored, fresh, extra = new_token(), [new_token(), new_token()], [new_token(), new_token()]
    tokens = [stored] + fresh
    sim.control.seed([stored] + extra)
    stored_before = set(sim.control.state_ids())
    declared_tokens = tokens[:1] if action == "remove" else tokens
    declared = {token_id(t) for t in declared_tokens}
    undeclared = {token_id(t) for t in extra}

    sim.control.clear_requests()
    sim.control.add_fault(**case["fault"])
    args = module_args(action, tokens, sim.url, case["retries"], case["timeout"])
    faulty = run_playbook(playbook([attempt("faulty run", **args)]), env=FAST)["faulty run"]
    faulty_requests = sim.control.requests()
    state = set(sim.control.state_ids())

    if case["outcome"] == FAILS:
        assert faulty.get("failed"), "the module reported success through a fault it cannot survive"
    elif case["outcome"] == SUCCEEDS:
        assert not faulty.get("failed"), "the module did not survive a transient fault: %s" % faulty.get("msg")
    for fragment in case["msg"]:
        assert fragment.lower() in faulty["msg"].lower()
    for (method, path), expected in case["requests"].items():
        assert count(faulty_requests, method, path) == expected, (method, path, faulty_requests)
    check_honest(faulty, action, state, stored_before, declared, undeclared)
    check_relisted_after_failed_imports(faulty_requests)

    sim.control.clear_faults()
    recovery = run_playbook(playbook([module_task("recovery run", args)]), env=FAST)["recovery run"]
    final = set(sim.control.state_ids())
    assert recovery["ids"] == sorted(final)
    if action == "remove":
        assert final == (stored_before - declared)
    elif action == "exclusive":
        assert final == declared
    else:
        assert final == declared | undeclared
    imported = [r for r in sim.control.requests() if r["method"] == "POST" and r["status"] == 201]
    assert len(imported) == (0 if action == "remove" else len(declared - stored_before)), (
        "a declared token was imported more than once, or not at all"
    )


@pytest.mark.parametrize("concurrency", [1, 8])
def test_parallel_imports_under_faults_store_each_token_once_and_claim_exactly_their_own(
    sim, new_token, run_playbook, concurrency
):
    """Imports in flight together (concurrency) meet 503s, dropped connections and answers slower than timeout.

    Whatever the faulty run reports, the two runs together import every token exactly once, each ID is claimed
    by exactly one run, a run claims only tokens the cafe holds, and nothing undeclared is removed.
    """
    tokens = [new_token() for number in range(24)]
    keep = new_token()
    sim.control.seed([keep])
    for fault in (status("POST", 503, LIST, count=3), drop("POST", LIST, count=2), delay("POST", 3.0, LIST, count=2)):
        sim.control.add_fault(**fault)
    task = module_task(
        "declare",
        {"api_url": sim.url, "tokens": "{{ tokens }}", "concurrency": concurrency, "retries": 3, "timeout": 0.5},
        ignore_errors=True,
    )

    first = run_playbook(playbook([task]), extra_vars={"tokens": tokens}, env=FAST)["declare"]
    after_first = sim.control.state_ids()
    sim.control.clear_faults()
    second = run_playbook(playbook([task]), extra_vars={"tokens": tokens}, env=FAST)["declare"]

    assert not second.get("failed"), second.get("msg")
    everything = sorted(token_id(t) for t in tokens + [keep])
    assert sim.control.state_ids() == everything == second["ids"]
    assert set(first["created_ids"]) <= set(after_first)
    assert not set(first["created_ids"]) & set(second["created_ids"])
    assert sorted(first["created_ids"] + second["created_ids"]) == sorted(token_id(t) for t in tokens)
    requests = sim.control.requests()
    assert len([r for r in requests if r["method"] == "POST" and r["status"] == 201]) == len(tokens)
    assert count(requests, "DELETE") == 0
    if first.get("failed"):
        assert all(created in first["msg"] for created in first["created_ids"])
