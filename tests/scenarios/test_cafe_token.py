# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""textile_cafe_token through real ansible-playbook runs, checked against the simulator's own state."""

from __future__ import annotations

import re
import secrets as random_bytes

import base58
import pytest
from harness import ids_of, make_token, module_task, playbook, token_id, validates

RESULT_KEYS = ("changed", "ids", "created_ids", "removed_ids", "replaced_ids")


def writes(sim):
    return [r for r in sim.control.requests() if r["method"] not in ("GET", "HEAD")]


def returned(result, keys=RESULT_KEYS):
    return {key: result[key] for key in keys}


@pytest.mark.compat
def test_create_then_second_run_is_one_request(sim, run_playbook, new_token):
    zero_first_byte = new_token(id_bytes=b"\0" + random_bytes.token_bytes(11))
    short = new_token(id_bytes=b"\1" + random_bytes.token_bytes(11))
    zero_in_secret = new_token(secret=random_bytes.token_bytes(15) + b"\0" + random_bytes.token_bytes(16))
    assert zero_first_byte.startswith("1") and len(short) == 59
    tokens = [new_token(), zero_first_byte, short, zero_in_secret]
    book = playbook([module_task("Declare", {"tokens": tokens})])

    first = run_playbook(book, extra_vars={"api_url": sim.url})["Declare"]
    assert sim.control.state_ids() == ids_of(tokens)
    assert first["changed"] is True
    assert first["created_ids"] == ids_of(tokens) == first["ids"]
    assert first["removed_ids"] == [] and first["replaced_ids"] == []
    assert [r["method"] for r in sim.control.requests()] == ["GET"] + ["POST"] * len(tokens)

    sim.control.clear_requests()
    second = run_playbook(book, extra_vars={"api_url": sim.url})
    assert second.changed == 0
    expected = {"changed": False, "ids": ids_of(tokens), "created_ids": [], "removed_ids": [], "replaced_ids": []}
    assert returned(second["Declare"]) == expected
    assert [(r["method"], r["path"]) for r in sim.control.requests()] == [("GET", "/api/v0/tokens")]
    assert all(validates(sim, t) for t in tokens)  # the imported secrets are the declared ones


def test_no_op_over_many_tokens_with_verify_secret_is_one_request(sim, run_playbook, new_token):
    tokens = [new_token() for index in range(25)]
    sim.control.seed(tokens)
    sim.control.clear_requests()
    result = run_playbook(
        playbook([module_task("Declare", {"tokens": tokens, "verify_secret": True})]), extra_vars={"api_url": sim.url}
    )["Declare"]
    assert result["changed"] is False and result["ids"] == ids_of(tokens)
    assert len(sim.control.requests()) == 1


def test_tokens_alias_and_normalisation(sim, run_playbook, new_token):
    token = new_token()
    result = run_playbook(
        playbook([module_task("Declare", {"token": ["  %s\n" % token, token]})]), extra_vars={"api_url": sim.url}
    )["Declare"]
    assert result["created_ids"] == [token_id(token)]
    assert sim.control.state_ids() == [token_id(token)]
    assert len(writes(sim)) == 1  # the duplicate was merged before any request


def scenario_create(sim, new_token):
    kept, added = new_token(), new_token()
    sim.control.seed([kept])
    return {"tokens": [kept, added]}, [kept, added]


def scenario_absent(sim, new_token):
    gone, by_id, stays = new_token(), new_token(), new_token()
    sim.control.seed([gone, by_id, stays])
    return {"state": "absent", "tokens": [gone], "ids": [token_id(by_id)]}, [stays]


def scenario_exclusive(sim, new_token):
    declared, kept, extra, added = new_token(), new_token(), new_token(), new_token()
    sim.control.seed([declared, kept, extra])
    return {"tokens": [declared, added], "exclusive": True, "keep_ids": [token_id(kept)]}, [declared, kept, added]


def scenario_verify_secret(sim, new_token):
    stored = new_token()
    declared = new_token(id_bytes=base58.b58decode(stored)[:12])
    sim.control.seed([stored])
    return {"tokens": [declared], "verify_secret": True}, [declared]


def scenario_nothing_to_do(sim, new_token):
    token = new_token()
    sim.control.seed([token])
    return {"tokens": [token], "exclusive": True, "verify_secret": True}, [token]


@pytest.mark.parametrize(
    "scenario", [scenario_create, scenario_absent, scenario_exclusive, scenario_verify_secret, scenario_nothing_to_do]
)
def test_check_mode_writes_nothing_and_predicts_the_real_run(sim, run_playbook, new_token, scenario):
    options, expected_tokens = scenario(sim, new_token)
    before = sim.control.state_ids()
    book = playbook([module_task("Converge", options)])
    sim.control.clear_requests()

    predicted = run_playbook(book, extra_vars={"api_url": sim.url}, check=True, diff=True)["Converge"]
    assert sim.control.state_ids() == before
    reads = sim.control.requests()
    assert reads and all(r["method"] == "GET" for r in reads)

    sim.control.clear_requests()
    real = run_playbook(book, extra_vars={"api_url": sim.url}, diff=True)["Converge"]
    assert sim.control.state_ids() == ids_of(expected_tokens) == real["ids"]
    assert returned(predicted) == returned(real)
    assert predicted["diff"] == real["diff"]
    assert [r for r in sim.control.requests() if r["method"] == "GET"][: len(reads)] == reads


def test_diff_shows_ids_before_and_after(sim, run_playbook, new_token):
    stored, removed, added = new_token(), new_token(), new_token()
    replaced = new_token(id_bytes=base58.b58decode(stored)[:12])
    sim.control.seed([stored, removed])
    options = {"tokens": [replaced, added], "exclusive": True, "verify_secret": True}
    result = run_playbook(playbook([module_task("Converge", options)]), extra_vars={"api_url": sim.url}, diff=True)
    diff = result["Converge"]["diff"]
    assert diff["before"].splitlines() == ids_of([stored, removed])
    after = sorted([token_id(added), "%s (secret replaced)" % token_id(stored)])
    assert diff["after"].splitlines() == after
    assert result["Converge"]["replaced_ids"] == [token_id(stored)]
    assert result["Converge"]["removed_ids"] == [token_id(removed)]
    assert "(secret replaced)" in result.stdout  # the diff is shown to the operator


@pytest.mark.compat
def test_absent_by_token_and_by_id(sim, run_playbook, new_token):
    by_token, by_id, stays = new_token(), new_token(), new_token()
    sim.control.seed([by_token, by_id, stays])
    options = {
        "state": "absent",
        "tokens": ["\t%s " % by_token],
        "id": [" %s " % token_id(by_id).upper(), token_id(make_token())],
    }
    book = playbook([module_task("Remove", options)])
    sim.control.clear_requests()
    result = run_playbook(book, extra_vars={"api_url": sim.url})["Remove"]
    assert sim.control.state_ids() == [token_id(stays)]
    assert result["changed"] is True
    assert result["removed_ids"] == ids_of([by_token, by_id])
    assert result["ids"] == [token_id(stays)] and result["created_ids"] == []
    deletes = [r for r in sim.control.requests() if r["method"] == "DELETE"]
    assert len(deletes) == 2 and all(r["status"] == 204 for r in deletes)
    assert [r["method"] for r in sim.control.requests()][-1] == "GET"  # the confirming list

    again = run_playbook(book, extra_vars={"api_url": sim.url})["Remove"]
    assert again["changed"] is False and again["removed_ids"] == []
    assert sim.control.state_ids() == [token_id(stays)]


def test_absent_empty_lists_are_a_no_op(sim, run_playbook, new_token):
    token = new_token()
    sim.control.seed([token])
    result = run_playbook(
        playbook([module_task("Remove nothing", {"state": "absent", "tokens": [], "ids": []})]),
        extra_vars={"api_url": sim.url},
    )["Remove nothing"]
    assert result["changed"] is False and sim.control.state_ids() == [token_id(token)]
    assert writes(sim) == []


def test_exclusive_keeps_declared_and_keep_ids(sim, run_playbook, new_token):
    declared, kept, extra1, extra2, added = (new_token() for index in range(5))
    sim.control.seed([declared, kept, extra1, extra2])
    result = run_playbook(
        playbook(
            [
                module_task(
                    "Exclusive", {"tokens": [declared, added], "exclusive": True, "keep_ids": [token_id(kept).upper()]}
                )
            ]
        ),
        extra_vars={"api_url": sim.url},
    )["Exclusive"]
    assert sim.control.state_ids() == ids_of([declared, kept, added]) == result["ids"]
    assert result["created_ids"] == [token_id(added)]
    assert result["removed_ids"] == ids_of([extra1, extra2])
    assert result["changed"] is True


def test_exclusive_empty_list_removes_all_and_empty_list_alone_never_mints(sim, run_playbook, new_token):
    sim.control.seed([new_token(), new_token()])
    result = run_playbook(
        playbook(
            [
                module_task("Declare nothing", {"tokens": []}),
                module_task("Remove all", {"tokens": [], "exclusive": True}),
            ]
        ),
        extra_vars={"api_url": sim.url},
    )
    nothing = result["Declare nothing"]
    assert nothing["changed"] is False and "token" not in nothing and len(nothing["ids"]) == 2
    assert [r for r in sim.control.requests() if r["method"] == "POST"] == []
    assert result["Remove all"]["changed"] is True and len(result["Remove all"]["removed_ids"]) == 2
    assert sim.control.state_ids() == [] and result["Remove all"]["ids"] == []


@pytest.mark.compat
def test_mint_stores_a_token_that_validates(sim, run_playbook):
    result = run_playbook(
        playbook(
            [
                module_task("Mint a token", {}, register="minted"),
                {"name": "Show the minted ID", "ansible.builtin.debug": {"var": "minted.token_id"}},
            ]
        ),
        extra_vars={"api_url": sim.url},
        mint_task="Mint a token",
    )
    minted = result["Mint a token"]
    assert minted["changed"] is True
    assert minted["token_id"] == token_id(minted["token"])
    assert minted["created_ids"] == [minted["token_id"]] == sim.control.state_ids() == minted["ids"]
    assert validates(sim, minted["token"])
    posts = [r for r in sim.control.requests() if r["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["headers"]["X-Textile-Opts"] == "store=true"


def test_mint_in_check_mode_makes_no_request(sim, run_playbook):
    result = run_playbook(playbook([module_task("Mint", {})]), extra_vars={"api_url": sim.url}, check=True)["Mint"]
    assert result["changed"] is True
    assert "token" not in result
    assert writes(sim) == [] and sim.control.state_ids() == []


@pytest.mark.parametrize("check", [False, True])
def test_mint_without_store_writes_nothing(sim, run_playbook, check):
    result = run_playbook(
        playbook([module_task("Mint a token", {"store": False})]),
        extra_vars={"api_url": sim.url},
        check=check,
        mint_task="Mint a token",
    )
    minted = result["Mint a token"]
    assert minted["changed"] is False
    assert minted["token_id"] == token_id(minted["token"])
    assert sim.control.state_ids() == [] and minted["created_ids"] == []
    assert not validates(sim, minted["token"])
    posts = [r for r in sim.control.requests() if r["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["headers"]["X-Textile-Opts"] == "store=false"


def test_verify_secret_replaces_a_mismatched_token(sim, run_playbook, new_token):
    old = new_token()
    new = new_token(id_bytes=base58.b58decode(old)[:12])
    other = new_token()
    sim.control.seed([old, other])
    plain = run_playbook(playbook([module_task("Declare", {"tokens": [new, other]})]), extra_vars={"api_url": sim.url})[
        "Declare"
    ]
    assert plain["changed"] is False and validates(sim, old)  # by ID only, without verify_secret

    book = playbook([module_task("Verify", {"tokens": [new, other], "verify_secret": True})])
    result = run_playbook(book, extra_vars={"api_url": sim.url})["Verify"]
    assert result["changed"] is True
    assert result["replaced_ids"] == [token_id(old)]
    assert result["created_ids"] == [] and result["removed_ids"] == []
    assert sim.control.state_ids() == ids_of([old, other])
    assert validates(sim, new) and not validates(sim, old) and validates(sim, other)

    again = run_playbook(book, extra_vars={"api_url": sim.url})["Verify"]
    assert again["changed"] is False and again["replaced_ids"] == []


def test_duplicate_import_by_another_writer_counts_as_present(sim, run_playbook, new_token):
    """Another play stores the token between this run's list and its import: the 400 is re-checked.

    The simulator stores the racing token itself when the import arrives, before it answers it (no timing);
    reliability/ covers the race in a pool."""
    racing, own = new_token(), new_token()
    sim.control.add_fault(method="POST", path="/api/v0/tokens", action="delay", delay=0, count=1, store_first=[racing])
    result = run_playbook(
        playbook([module_task("Declare", {"tokens": [racing, own]})]),
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


def bad_inputs(good, good2, same_id_other_secret):
    not_base58 = "0OIl" + good[4:]
    short = base58.b58encode(base58.b58decode(good)[:43]).decode()
    long_ = base58.b58encode(base58.b58decode(good) + b"\1").decode()
    return [
        ("not base58", {"tokens": [good, not_base58]}, ["tokens[1]"], [not_base58]),
        ("43 bytes", {"tokens": [short]}, ["tokens[0]"], [short]),
        ("45 bytes", {"tokens": [good, good2, long_]}, ["tokens[2]"], [long_]),
        ("empty string", {"tokens": [good, ""]}, ["tokens[1]"], []),
        ("same ID, two secrets", {"tokens": [good, good2, same_id_other_secret]}, ["tokens[0]", "tokens[2]"], []),
        ("bad ID", {"state": "absent", "ids": [token_id(good), "xyz"]}, ["ids[1]"], []),
        ("23 hex ID", {"state": "absent", "ids": [token_id(good)[:23]]}, ["ids[0]"], []),
        ("bad keep_ids", {"tokens": [good], "exclusive": True, "keep_ids": ["nothex" * 4]}, ["keep_ids[0]"], []),
        ("ids with present", {"tokens": [good], "ids": [token_id(good)]}, ["ids"], []),
        ("ids to mint", {"ids": [token_id(good)]}, ["ids"], []),
        ("exclusive with absent", {"state": "absent", "tokens": [good], "exclusive": True}, ["exclusive"], []),
        ("store with tokens", {"tokens": [good], "store": False}, ["store", "tokens"], []),
        ("verify_secret when minting", {"verify_secret": True}, ["verify_secret"], []),
        ("store with absent", {"state": "absent", "ids": [token_id(good)], "store": True}, ["store"], []),
        ("bad token to remove", {"state": "absent", "tokens": [not_base58]}, ["tokens[0]"], [not_base58]),
    ]


@pytest.mark.compat
def test_bad_inputs_fail_before_any_request_naming_option_and_position(sim, run_playbook, new_token, secrets):
    good, good2 = new_token(), new_token()
    same_id = new_token(id_bytes=base58.b58decode(good)[:12])
    sim.control.seed([good2])
    sim.control.clear_requests()
    cases = bad_inputs(good, good2, same_id)
    for case in cases:
        for value in case[3]:
            secrets.add(value)
    result = run_playbook(
        playbook([module_task(case[0], case[1], ignore_errors=True) for case in cases]), extra_vars={"api_url": sim.url}
    )
    problems = []
    for name, needles in ((case[0], case[2]) for case in cases):
        outcome = result[name]
        if not outcome.get("failed"):
            problems.append("%s: did not fail" % name)
        else:
            problems += [
                "%s: %r not named in %r" % (name, n, outcome["msg"]) for n in needles if n not in outcome["msg"]
            ]
    assert problems == []
    assert sim.control.requests() == [], "bad input must fail before any request"
    assert sim.control.state_ids() == [token_id(good2)]


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
