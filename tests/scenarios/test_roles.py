# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cafe_tokens role and the provision/decommission playbooks, run against two simulated cafes."""

from __future__ import annotations

import os

import base58
import pytest

from ansible_collections.textileio.textile.tests.scenarios.harness import CAFE_TOKENS_SHOW as SHOW
from ansible_collections.textileio.textile.tests.scenarios.harness import (
    REPO_ROOT,
    api_requests,
    fleet,
    fqcn_playbook,
    ids_of,
    token_id,
    validates,
    writes,
)

PLAYBOOKS = REPO_ROOT / "playbooks"
ROLE = "textileio.textile.cafe_tokens : "
TOKEN_CALLS = (
    ROLE + "Declare the tokens of cafe_tokens_present",
    ROLE + "Remove the tokens of cafe_tokens_absent and cafe_tokens_absent_ids",
)
CHECK = ROLE + "Check the token and token ID lists"
REMOVE_ALL = ROLE + "Remove every token stored on the cafe (cafe_tokens_remove_all)"


@pytest.fixture
def two_cafes(sim_factory):
    return sim_factory(), sim_factory()


@pytest.mark.compat
def test_provision_declares_fleet_wide_then_reruns_with_one_request_per_cafe(two_cafes, run_playbook, new_token):
    tokens = [new_token(), new_token()]
    inventory = fleet(two_cafes, cafe_tokens_present=tokens)
    first = run_playbook(fqcn_playbook("provision"), inventory=inventory)
    assert first.changed == 2 and first.failed == 0
    for host, result in first.host_results(SHOW).items():
        assert result["msg"]["created_ids"] == ids_of(tokens), host
        assert result["msg"]["stored_ids"] == ids_of(tokens), host
    for sim in two_cafes:
        assert sim.control.state_ids() == ids_of(tokens)
        sim.control.clear_requests()

    second = run_playbook(fqcn_playbook("provision"), inventory=inventory)
    assert second.changed == 0 and second.failed == 0
    assert all(stats["changed"] == 0 for stats in second.recap.values())
    for sim in two_cafes:
        assert api_requests(sim) == [("GET", "/api/v0/tokens")]
    for result in second.host_results(SHOW).values():
        assert result["msg"]["created_ids"] == [] and result["msg"]["removed_ids"] == []


def test_token_tasks_are_no_log_and_ids_are_shown(two_cafes, run_playbook, new_token):
    token = new_token()
    result = run_playbook(PLAYBOOKS / "provision.yml", inventory=fleet(two_cafes[:1], cafe_tokens_present=[token]))
    declare = result[TOKEN_CALLS[0]]
    assert declare["censored"].startswith("the output has been hidden")
    assert token_id(token) in result.stdout  # the following task prints the IDs
    assert result[SHOW]["msg"]["created_ids"] == [token_id(token)]


def test_exclusive_removes_undeclared_tokens_but_keeps_keep_ids(two_cafes, run_playbook, new_token):
    cafe = two_cafes[0]
    declared, kept, stray = new_token(), new_token(), new_token()
    cafe.control.seed([kept, stray])
    inventory = fleet(
        [cafe],
        cafe_tokens_present=[declared],
        cafe_tokens_exclusive=True,
        cafe_tokens_keep_ids=[token_id(kept).upper()],
    )
    result = run_playbook(PLAYBOOKS / "provision.yml", inventory=inventory)
    assert cafe.control.state_ids() == ids_of([declared, kept])
    shown = result[SHOW]["msg"]
    assert shown["created_ids"] == [token_id(declared)]
    assert shown["removed_ids"] == [token_id(stray)]
    assert result.changed == 1


def test_exclusive_with_no_tokens_empties_the_cafe(two_cafes, run_playbook, new_token):
    cafe = two_cafes[0]
    cafe.control.seed([new_token(), new_token()])
    run_playbook(PLAYBOOKS / "provision.yml", inventory=fleet([cafe], cafe_tokens_exclusive=True))
    assert cafe.control.state_ids() == []


def test_nothing_declared_makes_no_request(two_cafes, run_playbook):
    cafe = two_cafes[0]
    result = run_playbook(PLAYBOOKS / "provision.yml", inventory=fleet([cafe]))
    assert result.changed == 0
    assert api_requests(cafe) == []
    assert result.recap["cafe1"]["skipped"] >= 2  # both module calls


def test_rotation_declares_the_new_token_and_removes_the_old_in_one_run(two_cafes, run_playbook, new_token):
    old, new = new_token(), new_token()
    for sim in two_cafes:
        sim.control.seed([old])
    result = run_playbook(
        PLAYBOOKS / "provision.yml", inventory=fleet(two_cafes, cafe_tokens_present=[new], cafe_tokens_absent=[old])
    )
    for sim in two_cafes:
        assert sim.control.state_ids() == [token_id(new)]
        # the secret of the removed token never travels in a URL
        assert all(old not in path for _method, path in api_requests(sim))
    for shown in result.host_results(SHOW).values():
        assert shown["msg"]["created_ids"] == [token_id(new)]
        assert shown["msg"]["removed_ids"] == [token_id(old)]


def test_a_token_both_declared_and_removed_fails_before_any_request(two_cafes, run_playbook, new_token):
    cafe = two_cafes[0]
    token = new_token()
    result = run_playbook(
        PLAYBOOKS / "provision.yml",
        expect_rc=2,
        inventory=fleet([cafe], cafe_tokens_present=[token], cafe_tokens_absent_ids=[" %s " % token_id(token).upper()]),
    )
    check = result[ROLE + "Check that no token or ID is both declared and removed"]
    assert check["failed"] is True
    assert token_id(token) in check["msg"]
    assert api_requests(cafe) == []


def test_a_malformed_token_fails_once_naming_its_position_without_echoing_it(
    two_cafes, run_playbook, new_token, secrets
):
    cafe = two_cafes[0]
    bad = secrets.add("NotAToken0OIl" * 4)
    short = secrets.add(base58.b58encode(os.urandom(42) + b"\x01").decode())  # 43 bytes
    result = run_playbook(
        PLAYBOOKS / "provision.yml",
        expect_rc=2,
        inventory=fleet([cafe], cafe_tokens_present=[new_token(), bad], cafe_tokens_absent=[short]),
    )
    failed = [e for e in result.task_list if e["result"].get("failed")]
    assert [e["task"] for e in failed] == [CHECK]
    message = failed[0]["result"]["msg"]
    assert "cafe_tokens_present[1]: a token is not base58" in message
    assert "cafe_tokens_absent[0]: a token must decode to 44 bytes" in message
    assert result.recap["cafe1"]["failures"] == 1 and result.recap["cafe1"].get("rescued", 0) == 0
    assert api_requests(cafe) == []


def test_wrong_variable_type_is_rejected_by_the_argument_spec(two_cafes, run_playbook):
    cafe = two_cafes[0]
    result = run_playbook(
        PLAYBOOKS / "provision.yml", expect_rc=2, inventory=fleet([cafe], cafe_tokens_exclusive="perhaps")
    )
    failed = [e for e in result.task_list if e["result"].get("failed")]
    assert failed and "cafe_tokens_exclusive" in failed[0]["result"]["msg"]
    assert api_requests(cafe) == []


def test_a_token_given_as_a_string_fails_asking_for_a_list(two_cafes, run_playbook, new_token):
    cafe = two_cafes[0]
    result = run_playbook(
        PLAYBOOKS / "provision.yml", expect_rc=2, inventory=fleet([cafe], cafe_tokens_present=new_token())
    )
    assert result[CHECK]["msg"].startswith(
        "Check these variables (their values are not shown): cafe_tokens_present must be a list of tokens, even for "
        "a single one; a string was given"
    )
    assert api_requests(cafe) == []


def test_module_failure_is_reported_with_the_ids_task(two_cafes, run_playbook, new_token):
    cafe = two_cafes[0]
    cafe.control.add_fault(method="GET", path="/api/v0/tokens", action="status", status=500, body="db is locked")
    result = run_playbook(
        PLAYBOOKS / "provision.yml",
        expect_rc=2,
        inventory=fleet([cafe], cafe_tokens_present=[new_token()], textile_retries=0),
    )
    assert result[TOKEN_CALLS[0]]["failed"] is True
    error = result[SHOW]["msg"]["error"]
    assert "500" in error or "db is locked" in error
    assert writes(cafe) == []


def test_decommission_by_id_on_every_cafe(two_cafes, run_playbook, new_token):
    gone, stays = new_token(), new_token()
    for sim in two_cafes:
        sim.control.seed([gone, stays])
    # the inventory still declares both: decommission must not re-declare anything
    inventory = fleet(two_cafes, cafe_tokens_present=[gone, stays])
    result = run_playbook(
        fqcn_playbook("decommission"), inventory=inventory, extra_vars={"cafe_tokens_absent_ids": [token_id(gone)]}
    )
    assert result.changed == 2
    for sim in two_cafes:
        assert sim.control.state_ids() == [token_id(stays)]
        assert [m for m, _p in writes(sim)] == ["DELETE"]
    again = run_playbook(
        fqcn_playbook("decommission"), inventory=inventory, extra_vars={"cafe_tokens_absent_ids": [token_id(gone)]}
    )
    assert again.changed == 0


def test_decommission_never_imports_whatever_the_group_variables_hold(two_cafes, run_playbook, new_token):
    """The inventory declares tokens the cafes lack, exclusively: a decommission only removes what it is told."""
    gone, declared, kept = new_token(), new_token(), new_token()
    for sim in two_cafes:
        sim.control.seed([gone, kept])
    inventory = fleet(
        two_cafes, cafe_tokens_present=[declared], cafe_tokens_exclusive=True, cafe_tokens_verify_secret=True
    )
    result = run_playbook(
        fqcn_playbook("decommission"), inventory=inventory, extra_vars={"cafe_tokens_absent_ids": [token_id(gone)]}
    )
    for sim in two_cafes:
        assert sim.control.state_ids() == [token_id(kept)]
        assert [m for m, _p in writes(sim)] == ["DELETE"]
    for shown in result.host_results(SHOW).values():
        assert shown["msg"]["created_ids"] == [] and shown["msg"]["removed_ids"] == [token_id(gone)]


def test_the_remove_entry_point_ignores_the_declare_variables(two_cafes, run_playbook, new_token):
    cafe = two_cafes[0]
    gone, declared, kept = new_token(), new_token(), new_token()
    cafe.control.seed([gone, kept])
    playbook = """
- hosts: textile_cafes
  gather_facts: false
  tasks:
    - name: Remove one client's token
      ansible.builtin.include_role:
        name: textileio.textile.cafe_tokens
        tasks_from: remove
      vars:
        cafe_tokens_absent: "{{ departed }}"
"""
    inventory = fleet([cafe], cafe_tokens_present=[declared], cafe_tokens_exclusive=True)
    run_playbook(playbook, inventory=inventory, extra_vars={"departed": [gone]})
    assert cafe.control.state_ids() == [token_id(kept)]
    assert [m for m, _p in writes(cafe)] == ["DELETE"]


def test_decommission_without_anything_to_remove_fails(two_cafes, run_playbook, new_token):
    cafe = two_cafes[0]
    cafe.control.seed([new_token()])
    result = run_playbook(PLAYBOOKS / "decommission.yml", inventory=fleet([cafe]), expect_rc=2)
    assert "Nothing to decommission" in result["Check that there is something to decommission"]["msg"]
    assert api_requests(cafe) == []


def test_decommission_all_tokens_of_retired_cafes_under_a_task_that_says_so(two_cafes, run_playbook, new_token):
    """-e textile_remove_all_tokens=true as a user types it (a string): the removal shows under a task named for
    it, not under the declaration of cafe_tokens_present, which the inventory still sets."""
    stored = {sim: [new_token(), new_token()] for sim in two_cafes}
    for sim, tokens in stored.items():
        sim.control.seed(tokens)
    result = run_playbook(
        fqcn_playbook("decommission"),
        inventory=fleet(two_cafes, cafe_tokens_present=[new_token()]),
        args=["-e", "textile_remove_all_tokens=true"],
    )
    for sim in two_cafes:
        assert sim.control.state_ids() == []
    for host, outcome in result.host_results(REMOVE_ALL).items():
        assert outcome["changed"] is True, host
    # the declaration did not run (its result is censored: the recorder's status says it was skipped)
    assert {e["host"]: e["status"] for e in result.task_list if e["task"] == TOKEN_CALLS[0]} == {
        "cafe1": "skipped",
        "cafe2": "skipped",
    }
    shown = result.host_results(SHOW)
    for number, (sim, tokens) in enumerate(stored.items(), 1):
        assert shown["cafe%d" % number]["msg"]["removed_ids"] == ids_of(tokens)
        assert shown["cafe%d" % number]["msg"]["created_ids"] == []
        assert shown["cafe%d" % number]["msg"]["stored_ids"] == []


def test_check_mode_writes_nothing_and_predicts(two_cafes, run_playbook, new_token):
    cafe = two_cafes[0]
    token = new_token()
    result = run_playbook(PLAYBOOKS / "provision.yml", check=True, inventory=fleet([cafe], cafe_tokens_present=[token]))
    assert result[SHOW]["msg"]["created_ids"] == [token_id(token)]
    assert cafe.control.state_ids() == [] and writes(cafe) == []


def test_role_connection_variables_override_play_module_defaults(two_cafes, run_playbook, new_token):
    """cafe_tokens_api_* go to the module only when set; play-level module_defaults fill the rest."""
    first, second = two_cafes
    token = new_token()
    playbook = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/textileio.textile.textile:
      api_url: "%s"
      retries: 0
  tasks:
    - name: Use the play's api_url
      ansible.builtin.include_role:
        name: textileio.textile.cafe_tokens
      vars:
        cafe_tokens_present: "{{ tokens }}"
    - name: Use the role's api_url
      ansible.builtin.include_role:
        name: textileio.textile.cafe_tokens
      vars:
        cafe_tokens_present: "{{ tokens }}"
        cafe_tokens_api_url: "%s"
""" % (first.url, second.url)
    run_playbook(playbook, extra_vars={"tokens": [token]})
    assert first.control.state_ids() == [token_id(token)]
    assert second.control.state_ids() == [token_id(token)]


def test_delegate_to_localhost_runs_the_module_on_the_controller(two_cafes, run_playbook, new_token):
    """A cafe host Ansible cannot reach over SSH, whose API the controller reaches: delegation is real."""
    cafe = two_cafes[0]
    token = new_token()
    unreachable_ssh = {
        "ansible_connection": "ssh",
        "ansible_host": "127.0.0.1",
        "ansible_port": 9,
        "ansible_ssh_common_args": "-o ConnectTimeout=5 -o BatchMode=yes",
    }
    inventory = fleet(
        [cafe], hostvars={"cafe1": unreachable_ssh}, cafe_tokens_present=[token], cafe_tokens_delegate_to="localhost"
    )
    result = run_playbook(PLAYBOOKS / "provision.yml", inventory=inventory)
    assert cafe.control.state_ids() == [token_id(token)]
    assert result.recap["cafe1"]["unreachable"] == 0


def test_basic_auth_from_role_variables(sim_factory, run_playbook, new_token):
    cafe = sim_factory(username="P4account", password="daemon-pin-4321")
    token = new_token()
    inventory = fleet(
        [cafe],
        cafe_tokens_present=[token],
        cafe_tokens_api_username="P4account",
        cafe_tokens_api_password="daemon-pin-4321",
    )
    run_playbook(PLAYBOOKS / "provision.yml", inventory=inventory)
    assert cafe.control.state_ids() == [token_id(token)]
    del inventory["all"]["children"]["textile_cafes"]["vars"]["cafe_tokens_api_password"]
    result = run_playbook(PLAYBOOKS / "provision.yml", inventory=inventory, expect_rc=2)
    assert "auth" in result[SHOW]["msg"]["error"].lower()


def test_verify_secret_replaces_a_token_whose_secret_differs(two_cafes, run_playbook, new_token):
    cafe = two_cafes[0]
    declared = new_token()
    impostor = new_token(id_bytes=bytes.fromhex(token_id(declared)))  # same ID, other secret
    cafe.control.seed([impostor])
    inventory = fleet([cafe], cafe_tokens_present=[declared])
    plain = run_playbook(PLAYBOOKS / "provision.yml", inventory=inventory)
    assert plain.changed == 0  # presence is decided by ID
    inventory["all"]["children"]["textile_cafes"]["vars"]["cafe_tokens_verify_secret"] = True
    result = run_playbook(PLAYBOOKS / "provision.yml", inventory=inventory)
    assert result[SHOW]["msg"]["replaced_ids"] == [token_id(declared)]
    assert validates(cafe, declared) and not validates(cafe, impostor)


@pytest.mark.parametrize(
    "userinfo",
    ["P4user:{secret}", "P4user:ab@{secret}", "P4user:cd/{secret}", "P4user:x:y?{secret}#z"],
    ids=["plain", "at-sign", "slash", "colon-query"],
)
def test_an_api_url_with_credentials_is_refused_without_showing_them(
    two_cafes, run_playbook, new_token, secrets, userinfo
):
    cafe = two_cafes[0]
    password = secrets.add("pin-in-the-url-9876")
    secrets.add(userinfo.format(secret=password))
    inventory = fleet(
        [cafe],
        cafe_tokens_present=[new_token()],
        cafe_tokens_api_url=cafe.url.replace("//", "//%s@" % userinfo.format(secret=password)),
    )
    result = run_playbook(PLAYBOOKS / "provision.yml", inventory=inventory, expect_rc=2)
    assert "must not contain user info" in result[ROLE + "Check that the API URL carries no credentials"]["msg"]
    assert "P4user" not in result.stdout
    assert api_requests(cafe) == []


def test_an_upper_case_keep_id_conflicts_with_the_same_absent_id(two_cafes, run_playbook, new_token):
    """IDs are compared in canonical form: an ID kept in upper case and removed in lower case is caught."""
    cafe = two_cafes[0]
    kept = new_token()
    cafe.control.seed([kept])
    inventory = fleet(
        [cafe],
        cafe_tokens_exclusive=True,
        cafe_tokens_keep_ids=[" %s " % token_id(kept).upper()],
        cafe_tokens_absent_ids=[token_id(kept)],
    )
    result = run_playbook(PLAYBOOKS / "provision.yml", inventory=inventory, expect_rc=2)
    message = result[ROLE + "Check that no token or ID is both declared and removed"]["msg"]
    assert message.endswith(": %s" % token_id(kept))
    assert api_requests(cafe) == [] and cafe.control.state_ids() == [token_id(kept)]


def test_a_token_among_the_ids_is_named_by_its_role_variable_with_where_tokens_belong(
    two_cafes, run_playbook, new_token
):
    stray, kept = new_token(), new_token()
    inventory = fleet(
        two_cafes,
        cafe_tokens_absent_ids=[token_id(new_token()), stray],
        cafe_tokens_keep_ids=[kept],
        cafe_tokens_exclusive=True,
    )
    result = run_playbook(PLAYBOOKS / "provision.yml", inventory=inventory, expect_rc=2)
    for host, outcome in result.host_results(CHECK).items():
        assert outcome["msg"] == (
            "Check these variables (their values are not shown): "
            "cafe_tokens_absent_ids[1]: a token, not a token ID: tokens belong in cafe_tokens_absent; "
            "cafe_tokens_keep_ids[0]: a token, not a token ID: tokens belong in cafe_tokens_present. "
            "Nothing was sent to the cafe."
        ), host
    for sim in two_cafes:
        assert api_requests(sim) == []
    for token in (stray, kept):  # nor in the lower case an ID list would have put it in
        assert token.lower() not in result.output


def test_a_cafe_that_could_not_be_read_shows_its_stored_ids_as_unknown(sim_factory, run_playbook, new_token, secrets):
    """Two cafes behind Basic Auth; the inventory has the wrong pin for cafe2: its stored IDs are unknown (null),
    not an empty list."""
    cafes = [sim_factory(username="P4account", password="daemon-pin-%d" % n) for n in (1, 2)]
    token = new_token()
    inventory = fleet(
        cafes,
        hostvars={"cafe1": {"textile_api_password": "daemon-pin-1"}, "cafe2": {"textile_api_password": "wrong-pin-22"}},
        textile_api_username="P4account",
        textile_retries=0,
        cafe_tokens_present=[token],
    )
    secrets.add("wrong-pin-22")
    result = run_playbook(fqcn_playbook("provision"), inventory=inventory, expect_rc=2)
    shown = result.host_results(SHOW)
    assert shown["cafe1"]["msg"]["stored_ids"] == [token_id(token)] and shown["cafe1"]["msg"]["error"] == ""
    assert shown["cafe2"]["msg"]["stored_ids"] is None
    assert "Basic Auth" in shown["cafe2"]["msg"]["error"]
    assert cafes[1].control.state_ids() == []


def test_decommission_with_a_string_from_the_command_line_fails_first_naming_the_variable(
    two_cafes, run_playbook, new_token
):
    """-e cafe_tokens_absent_ids=<id>, the natural key=value form, gives a string: the playbook says so before
    anything else, with how to pass a list, instead of a Jinja error."""
    gone = new_token()
    for sim in two_cafes:
        sim.control.seed([gone])
    result = run_playbook(
        fqcn_playbook("decommission"),
        inventory=fleet(two_cafes),
        args=["-e", "cafe_tokens_absent_ids=%s" % token_id(gone)],
        expect_rc=2,
    )
    check = "Check the token and token ID lists to decommission"
    for host, outcome in result.host_results(check).items():
        assert outcome["msg"] == (
            "Check these variables (their values are not shown): cafe_tokens_absent_ids must be a list of token IDs, "
            "even for a single one; a string was given (-e cafe_tokens_absent_ids=... gives a string: pass a list as "
            'JSON, -e \'{"cafe_tokens_absent_ids": [...]}\'). Nothing was sent to the cafes.'
        ), host
    assert "concatenate" not in result.output
    assert [e["task"] for e in result.task_list if e["result"].get("failed")] == [check, check]
    for sim in two_cafes:
        assert api_requests(sim) == [] and sim.control.state_ids() == [token_id(gone)]


def test_decommission_names_a_token_given_as_an_id(two_cafes, run_playbook, new_token):
    token = new_token()
    for sim in two_cafes:
        sim.control.seed([token])
    result = run_playbook(
        fqcn_playbook("decommission"),
        inventory=fleet(two_cafes),
        extra_vars={"cafe_tokens_absent_ids": [token]},
        expect_rc=2,
    )
    for outcome in result.host_results("Check the token and token ID lists to decommission").values():
        assert (
            "cafe_tokens_absent_ids[0]: a token, not a token ID: tokens belong in cafe_tokens_absent" in outcome["msg"]
        )
    for sim in two_cafes:
        assert api_requests(sim) == [] and sim.control.state_ids() == [token_id(token)]
    assert token.lower() not in result.output
