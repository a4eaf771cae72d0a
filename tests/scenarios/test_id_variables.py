# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generated ID list variables (strings, numbers, mappings, None, tokens, near-IDs, unicode) through the real
playbooks: each run gives every cafe host its own bad variables, and each host must stop before any request with
a clear message naming the variable (and the position), no traceback, and no token anywhere in the output (the
harness scans for every token as given; the lower case an ID list would turn it into is searched here too).
The filter behind the check takes thousands of such values in tests/unit/plugins/filter/test_malformed_ids.py."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.textileio.textile.tests.scenarios.harness import fleet, fqcn_playbook, token_id
from ansible_collections.textileio.textile.tests.unit.plugins.filter.id_strategies import (
    IDS,
    NEAR_IDS,
    TEXT,
    TOKENS,
    VALUES,
    is_canonical_after_strip,
)

# A playbook run per example: a handful of examples, each over several hosts.
RUNS = settings(
    max_examples=2,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
# What a run may print before the check, or instead of it, for a variable of the wrong type: the role's argument
# spec validation, which names the variable (and never shows a value of a list or a mapping).
ARGUMENT_SPEC = "Validating arguments against arg spec"


def is_bad(value, keys=False):
    if keys:
        return not isinstance(value, dict) or not all(is_canonical_after_strip(key) for key in value)
    return not isinstance(value, list) or not all(is_canonical_after_strip(entry) for entry in value)


BAD_LISTS = VALUES.filter(is_bad)
BAD_LABELS = st.one_of(
    st.dictionaries(st.one_of(IDS, TOKENS, NEAR_IDS, TEXT), TEXT, min_size=1, max_size=4),
    st.lists(IDS, min_size=1, max_size=2),
    TOKENS,
).filter(lambda value: is_bad(value, keys=True))


def expected_mark(name, value, keys=False):
    """What the message about ``value`` must hold: the variable and the first bad position, or that it is not a
    list (a mapping, for the labels)."""
    if keys:
        if not isinstance(value, dict):
            return "%s must be a mapping of token IDs to owners" % name
        position = next(p for p, key in enumerate(value) if not is_canonical_after_strip(key))
        return "%s[key %d]: " % (name, position)
    if not isinstance(value, list):
        return "%s must be a list of token IDs" % name
    position = next(p for p, entry in enumerate(value) if not is_canonical_after_strip(entry))
    return "%s[%d]: " % (name, position)


def tokens_in(value):
    """Every token in a generated value (entries, keys, values), as given."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += tokens_in(key) + tokens_in(item)
    elif isinstance(value, list):
        for item in value:
            found += tokens_in(item)
    elif isinstance(value, str) and len(value.strip()) > 50:
        try:
            token_id(value)
            found.append(value.strip())
        except ValueError:
            pass
    return found


def first_failure(result, host):
    """The first task that failed on ``host``: (task name, message)."""
    failed = [e for e in result.task_list if e["host"] == host and e["status"] == "failed"]
    assert failed, "nothing failed on %s" % host
    return failed[0]["task"], failed[0]["result"].get("msg", "")


def check_run(result, cases, sim, secrets, check_task):
    """Every host failed at the argument spec or at ``check_task``, naming its variable (and position), nothing
    reached the simulator, and no token (in any case) is in the output."""
    assert "Traceback" not in result.output
    assert "Error rendering template" not in result.output and "Finalization of task args" not in result.output
    for host, (name, value, keys) in cases.items():
        task, message = first_failure(result, host)
        if ARGUMENT_SPEC in task:
            assert "'%s'" % name in message, (host, message)
        else:
            assert task.endswith(check_task), (host, task, message)
            assert expected_mark(name, value, keys) in message, (host, message)
    assert sim.control.requests() == []
    for token in {t for _name, value, _keys in cases.values() for t in tokens_in(value)}:
        assert token.lower() not in result.output and token.upper() not in result.output


def register_tokens(secrets, cases):
    for _name, value, _keys in cases.values():
        for token in tokens_in(value):
            secrets.add(token)


def host_cases(variables):
    """Per host: one of ``variables`` (name, keys) with a generated bad value."""
    return st.lists(
        st.sampled_from(variables).flatmap(
            lambda spec: st.tuples(st.just(spec[0]), BAD_LABELS if spec[1] else BAD_LISTS, st.just(spec[1]))
        ),
        min_size=3,
        max_size=5,
    ).map(lambda cases: {"cafe%d" % n: case for n, case in enumerate(cases, 1)})


@pytest.mark.parametrize(
    "playbook, variables, check_task",
    [
        pytest.param(
            "provision",
            [("cafe_tokens_absent_ids", False), ("cafe_tokens_keep_ids", False)],
            "Check the token and token ID lists",
            marks=pytest.mark.compat,
        ),
        ("decommission", [("cafe_tokens_absent_ids", False)], "Check the token and token ID lists to decommission"),
        (
            "report",
            [("cafe_token_report_expected_ids", False), ("cafe_token_report_labels", True)],
            "Check the expected token IDs and the keys of the labels",
        ),
    ],
)
@RUNS
@given(data=st.data())
def test_the_playbooks_refuse_generated_id_lists(sim, run_playbook, secrets, playbook, variables, check_task, data):
    cases = data.draw(host_cases(variables), label="each host's variable and value")
    register_tokens(secrets, cases)
    sim.control.clear_requests()
    inventory = fleet([sim] * len(cases), textile_retries=0)
    hosts = inventory["all"]["children"]["textile_cafes"]["hosts"]
    for host, (name, value, _keys) in cases.items():
        hosts[host][name] = value
    result = run_playbook(fqcn_playbook(playbook), inventory=inventory, expect_rc=2)
    check_run(result, cases, sim, secrets, check_task)
    assert not (result.run_dir / "work" / "textile-cafe-report").exists()


@settings(RUNS, max_examples=3)
@given(old_ids=BAD_LISTS)
def test_rotate_refuses_generated_old_ids(sim, run_playbook, secrets, tmp_path, old_ids):
    cases = {"cafe1": ("textile_rotate_old_ids", old_ids, False)}
    register_tokens(secrets, cases)
    sim.control.clear_requests()
    token_file = tmp_path / "rotation.token"
    result = run_playbook(
        fqcn_playbook("rotate"),
        inventory=fleet([sim], textile_retries=0),
        extra_vars={"textile_rotate_old_ids": old_ids, "textile_rotate_token_file": str(token_file)},
        expect_rc=2,
    )
    check_run(result, cases, sim, secrets, "Check the rotation variables")
    assert not token_file.exists()
