# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cafe_token_report role and the report playbook: JSON and HTML on the controller, drift, failures."""

from __future__ import annotations

import html
import json
import re
import stat

import pytest

from ansible_collections.textileio.textile.tests.scenarios.harness import (
    REPO_ROOT,
    STATES,
    cells,
    fleet,
    fqcn_playbook,
    ids_of,
    matrix_states,
    read_report,
    token_id,
)
from ansible_collections.textileio.textile.tests.scenarios.harness import REPORT_DRIFT as DRIFT
from ansible_collections.textileio.textile.tests.scenarios.harness import REPORT_PLAYBOOK as PLAYBOOK
from ansible_collections.textileio.textile.tests.simulator.textile_sim import closed_port

ROLE = "textileio.textile.cafe_token_report : "
STATS = ROLE + "Publish the fleet summary as a statistic for AWX and Automation Platform"
SHOW = ROLE + "Show the verdict, the fleet summary and where the report is"
CHECK = ROLE + "Check the expected token IDs and the keys of the labels"


@pytest.mark.compat
def test_report_of_two_cafes_with_drift_against_expected_ids(sim_factory, run_playbook, new_token):
    fleet_token, lost, stray = new_token(), new_token(), new_token()
    first, second = sim_factory(), sim_factory()
    first.control.seed([fleet_token, lost, stray])
    second.control.seed([fleet_token])
    expected = [token_id(fleet_token), " %s " % token_id(lost).upper()]
    result = run_playbook(
        fqcn_playbook("report"), inventory=fleet([first, second], cafe_token_report_expected_ids=expected)
    )
    base, data, page = read_report(result)
    assert set(data) == {"generated_at", "cafes", "summary"}
    assert data["cafes"]["cafe1"] == {
        "reachable": True,
        "error": None,
        "api_url": first.url,
        "node_version": "0.7.8",
        "count": 3,
        "ids": ids_of([fleet_token, lost, stray]),
    }
    assert data["cafes"]["cafe2"]["ids"] == [token_id(fleet_token)] and data["cafes"]["cafe2"]["count"] == 1
    assert data["summary"] == {
        "cafes": 2,
        "reachable": 2,
        "total_stored": 4,
        "distinct_ids": 3,
        "expected_ids": ids_of([fleet_token, lost]),
        "missing": {token_id(lost): ["cafe2"]},
        "unexpected": {"cafe1": [token_id(stray)]},
        "unreadable": {},
    }
    assert result[STATS]["ansible_stats"]["data"]["textile_cafe_report"] == data["summary"]
    assert result[SHOW]["msg"]["summary"] == data["summary"]
    assert result[SHOW]["msg"]["verdict"] == "Drift: 1 missing, 1 unexpected (cafe/token pairs)."
    # every cafe has its URL: no footnote about the module's default
    assert "note-default" not in page and "<em>default</em>" not in page
    assert stat.S_IMODE(base.stat().st_mode) == 0o750
    for name in ("textile-cafe-report.json", "textile-cafe-report.html"):
        assert stat.S_IMODE((base / name).stat().st_mode) == 0o640
    # the report lands where ansible-playbook started, never inside the collection
    assert not (REPO_ROOT / "playbooks" / "textile-cafe-report").exists()
    assert result.changed >= 1 and result.failed == 0
    # reading never writes
    assert [r for sim in (first, second) for r in sim.control.requests() if r["method"] != "GET"] == []


def test_unreachable_and_auth_failed_cafes_are_reported_without_aborting(sim_factory, run_playbook, new_token, secrets):
    token = new_token()
    good = sim_factory()
    locked = sim_factory(username="P4user", password="the-daemon-pin-1234")
    good.control.seed([token])
    down_url = "http://127.0.0.1:%d" % closed_port()
    inventory = fleet([good, locked], hostvars={}, textile_retries=0)
    inventory["all"]["children"]["textile_cafes"]["hosts"]["cafe3"] = {"textile_api_url": down_url}
    password = secrets.add("s3cret-pass-in-url")
    inventory["all"]["children"]["textile_cafes"]["hosts"]["cafe5"] = {
        "textile_api_url": good.url.replace("//", "//P4user:%s@" % password)
    }
    inventory["all"]["children"]["textile_cafes"]["hosts"]["cafe4"] = {
        "ansible_connection": "ssh",
        "ansible_host": "127.0.0.1",
        "ansible_port": closed_port(),
        "ansible_ssh_common_args": "-o ConnectTimeout=5 -o BatchMode=yes",
    }
    result = run_playbook(PLAYBOOK, inventory=inventory)
    _base, data, page = read_report(result)
    cafes = data["cafes"]
    assert cafes["cafe1"]["reachable"] is True and cafes["cafe1"]["ids"] == [token_id(token)]
    for name in ("cafe2", "cafe3", "cafe4", "cafe5"):
        assert cafes[name]["reachable"] is False and cafes[name]["count"] is None, name
        assert cafes[name]["error"], name
    assert "auth" in cafes["cafe2"]["error"].lower()  # Basic Auth failure, said as such
    assert cafes["cafe3"]["api_url"] == down_url
    assert cafes["cafe5"]["api_url"] == good.url  # user info (a password) is never shown
    assert data["summary"]["reachable"] == 1 and data["summary"]["cafes"] == 5
    assert data["summary"]["missing"] == {} and data["summary"]["unexpected"] == {}
    assert data["summary"]["unreadable"] == {
        name: cafes[name]["error"] for name in ("cafe2", "cafe3", "cafe4", "cafe5")
    }
    assert html.escape(cafes["cafe2"]["error"]) in page
    assert result.failed == 0


def test_without_expected_ids_an_id_held_by_some_cafes_is_missing_on_the_rest(sim_factory, run_playbook, new_token):
    shared, partial = new_token(), new_token()
    first, second, third = sim_factory(), sim_factory(), sim_factory()
    first.control.seed([shared, partial])
    second.control.seed([shared, partial])
    third.control.seed([shared])
    result = run_playbook(PLAYBOOK, inventory=fleet([first, second, third]))
    _base, data, _page = read_report(result)
    assert data["summary"]["missing"] == {token_id(partial): ["cafe3"]}
    assert data["summary"]["unexpected"] == {} and data["summary"]["expected_ids"] == []


def test_fail_on_drift_fails_after_writing_the_report(sim_factory, run_playbook, new_token):
    token = new_token()
    cafe = sim_factory()
    result = run_playbook(
        PLAYBOOK,
        expect_rc=2,
        inventory=fleet([cafe], cafe_token_report_expected_ids=[token_id(token)], cafe_token_report_fail_on_drift=True),
    )
    assert result[DRIFT]["failed"] is True
    assert token_id(token) in result[DRIFT]["msg"]
    _base, data, _page = read_report(result)
    assert data["summary"]["missing"] == {token_id(token): ["cafe1"]}


def test_fail_on_drift_passes_when_the_fleet_matches(sim_factory, run_playbook, new_token):
    token = new_token()
    cafes = [sim_factory(), sim_factory()]
    for cafe in cafes:
        cafe.control.seed([token])
    result = run_playbook(
        PLAYBOOK,
        inventory=fleet(cafes, cafe_token_report_expected_ids=[token_id(token)], cafe_token_report_fail_on_drift=True),
    )
    assert result[DRIFT].get("skip_reason") and result.failed == 0


def test_fail_on_unreachable(sim_factory, run_playbook):
    inventory = fleet([sim_factory()], cafe_token_report_fail_on_unreachable=True, textile_retries=0)
    inventory["all"]["children"]["textile_cafes"]["hosts"]["cafe2"] = {
        "textile_api_url": "http://127.0.0.1:%d" % closed_port()
    }
    result = run_playbook(PLAYBOOK, inventory=inventory, expect_rc=2)
    assert "cafe2" in result[ROLE + "Fail when a cafe could not be read"]["msg"]


def test_every_html_value_is_escaped(sim_factory, run_playbook, new_token):
    token = new_token()
    cafe = sim_factory()
    cafe.control.seed([token])
    evil = '<script>alert("owner")</script>&<b>'
    result = run_playbook(
        PLAYBOOK,
        inventory=fleet(
            [cafe],
            cafe_token_report_labels={token_id(token).upper(): evil},
            cafe_token_report_expected_ids=[token_id(token)],
        ),
    )
    _base, _data, page = read_report(result)
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#34;owner&#34;)&lt;/script&gt;&amp;&lt;b&gt;" in page


def test_report_dir_option_and_relative_paths(sim_factory, run_playbook):
    cafe = sim_factory()
    result = run_playbook(PLAYBOOK, inventory=fleet([cafe], cafe_token_report_dir="out/fleet"))
    _base, data, _page = read_report(result, "out/fleet")
    assert data["cafes"]["cafe1"]["count"] == 0
    shown = result[SHOW]["msg"]
    assert shown["html"] == str((result.run_dir / "work" / "out/fleet/textile-cafe-report.html").resolve())


def html_fault(sim):
    """Make ``sim`` answer every route like a web server on the wrong port: a long HTML page, HTTP 404."""
    page = (
        "<!DOCTYPE html>\n<html>\n<head><title>404 Not Found</title>\n<script>var x = 1;</script></head>\n"
        "<body>\n<h1>Not Found</h1>\n"
        + "<p>The requested URL was not found on this server.</p>\n" * 40
        + "<hr><address>Apache/2.4.62 (Debian) Server at cafe Port 80</address>\n</body></html>\n"
    )
    sim.control.add_fault(
        path_prefix="/",
        action="status",
        status=404,
        body=page,
        headers={"Content-Type": "text/html; charset=iso-8859-1"},
    )
    return page


def test_json_of_a_default_url_cafe_an_unreachable_cafe_and_an_html_answering_cafe(
    sim_factory, run_playbook, new_token
):
    token = new_token()
    by_default, web_server = sim_factory(), sim_factory()
    by_default.control.seed([token])
    html_fault(web_server)
    down_url = "http://127.0.0.1:%d" % closed_port()
    inventory = fleet([], textile_retries=0)
    inventory["all"]["children"]["textile_cafes"]["hosts"] = {
        "cafe1": {},  # no textile_api_url: TEXTILE_API_URL (as the module's default would) applies
        "cafe2": {"textile_api_url": down_url},
        "cafe3": {"textile_api_url": web_server.url},
        "cafe4": {
            "ansible_connection": "ssh",
            "ansible_host": "127.0.0.1",
            "ansible_port": closed_port(),
            "ansible_ssh_common_args": "-o ConnectTimeout=5 -o ConnectionAttempts=2 -o BatchMode=yes -vvv",
        },
    }
    result = run_playbook(PLAYBOOK, inventory=inventory, env={"TEXTILE_API_URL": by_default.url})
    _base, data, page = read_report(result)
    cafes = data["cafes"]
    assert cafes["cafe1"] == {
        "reachable": True,
        "error": None,
        "api_url": None,
        "node_version": "0.7.8",
        "count": 1,
        "ids": [token_id(token)],
    }
    for name in ("cafe2", "cafe3", "cafe4"):
        cafe = cafes[name]
        assert cafe["reachable"] is False and cafe["count"] is None and cafe["ids"] is None, name
        assert cafe["node_version"] is None, name
        # one line, no markup, bounded: even an SSH failure at -vvv or a web server's whole page
        assert "\n" not in cafe["error"] and "<" not in cafe["error"], (name, cafe["error"])
        assert 0 < len(cafe["error"]) <= 1000, (name, len(cafe["error"]))
    assert cafes["cafe2"]["api_url"] == down_url and cafes["cafe3"]["api_url"] == web_server.url
    assert "404" in cafes["cafe3"]["error"] and "Not Found" in cafes["cafe3"]["error"]
    # the module's whole message (server text cut by the module, plus its hint) fits as it is
    assert cafes["cafe3"]["error"] == result.host_results(ROLE + "Read the tokens stored on the cafe")["cafe3"]["msg"]
    # Ansible's own message for an unreachable host, a long multi-line SSH debug log, is put on one line and cut
    ssh_failure = result.host_results(ROLE + "Read the tokens stored on the cafe")["cafe4"]
    assert ssh_failure["unreachable"] is True and len(ssh_failure["msg"]) > 1000 and "\n" in ssh_failure["msg"]
    assert len(cafes["cafe4"]["error"]) == 1000 and cafes["cafe4"]["error"].endswith("...")
    assert cafes["cafe4"]["error"][:-3] == " ".join(ssh_failure["msg"].split())[:997]
    assert "script" not in cafes["cafe3"]["error"]
    assert [r["path"] for r in web_server.control.requests()][:1] == ["/api/v0/tokens"]
    assert data["summary"]["reachable"] == 1 and data["summary"]["total_stored"] == 1

    tables = cells(page)
    rows = {row[0][0]: row for row in tables["cafes"][1:]}
    assert rows["cafe1"][4][0] == "default"  # not "None"
    assert 'id="note-default"' in page  # explained once, since a cafe has no URL
    assert rows["cafe2"][4][0] == down_url
    for name in ("cafe2", "cafe3", "cafe4"):
        assert rows[name][3] == ("unknown", {"unknown"})
        assert rows[name][5][0] == cafes[name]["error"]
    assert "None" not in page
    for tag in ("<h1>Not Found", "<script>var", "<address>", "<p>The requested"):
        assert tag not in page
    # an unread cafe's section says its tokens are unknown, not that it has none
    sections = [rows for key, rows in tables.items() if key.startswith("cafe-tokens")]
    assert [r[1][0][0] for r in sections[1:]] == [
        "unknown: the cafe could not be read, so its tokens are not known"
    ] * 3
    assert "no tokens" not in page


def test_matrix_cells_are_stored_missing_unexpected_blank_or_unknown(sim_factory, run_playbook, new_token):
    fleet_token, lost, stray = new_token(), new_token(), new_token()
    first, second = sim_factory(), sim_factory()
    first.control.seed([fleet_token, lost, stray])
    second.control.seed([fleet_token])
    inventory = fleet(
        [first, second], textile_retries=0, cafe_token_report_expected_ids=[token_id(fleet_token), token_id(lost)]
    )
    inventory["all"]["children"]["textile_cafes"]["hosts"]["cafe3"] = {
        "textile_api_url": "http://127.0.0.1:%d" % closed_port()
    }
    result = run_playbook(PLAYBOOK, inventory=inventory)
    _base, data, page = read_report(result)
    assert data["summary"]["missing"] == {token_id(lost): ["cafe2"]}
    assert data["summary"]["unexpected"] == {"cafe1": [token_id(stray)]}
    assert matrix_states(cells(page)) == {
        token_id(fleet_token): ["stored", "stored", "unknown"],
        token_id(lost): ["stored", "missing", "unknown"],
        # stored on cafe1 only and not expected: its absence on cafe2 is right, not "missing"
        token_id(stray): ["unexpected", "blank", "unknown"],
    }
    legend = {row[0][1].pop(): row[1][0] for row in cells(page)["legend"][1:]}
    assert set(legend) == STATES
    summary = {row[0][0]: row[1][0] for row in cells(page)["summary"]}
    assert summary["Reachable"] == "2 of 3" and summary["Drift"] == "yes: 1 missing, 1 unexpected (on the cafes read)"


def test_without_expected_ids_the_matrix_expects_what_any_cafe_holds(sim_factory, run_playbook, new_token):
    shared, partial = new_token(), new_token()
    first, second = sim_factory(), sim_factory()
    first.control.seed([shared, partial])
    second.control.seed([shared])
    result = run_playbook(PLAYBOOK, inventory=fleet([first, second]))
    _base, _data, page = read_report(result)
    assert matrix_states(cells(page)) == {
        token_id(shared): ["stored", "stored"],
        token_id(partial): ["stored", "missing"],
    }


@pytest.mark.parametrize(
    "userinfo, shown",
    [
        ("P4user:ab@{secret}", True),  # "@" in the password: the last "@" ends the user info
        ("P4user:cd/{secret}", False),  # "/" in the password: where it ends cannot be told, nothing is shown
        ("P4user:x:y?{secret}#z", False),  # ":", "?" and "#"
        ("{secret}", True),  # a user without a password
    ],
    ids=["at-sign", "slash", "colon-query-fragment", "user-only"],
)
def test_the_report_never_writes_or_prints_url_user_info(
    sim_factory, run_playbook, new_token, secrets, userinfo, shown
):
    cafe = sim_factory()
    cafe.control.seed([new_token()])
    secret = secrets.add("S3cret-%s" % token_id(new_token())[:10])
    url = cafe.url.replace("//", "//%s@" % userinfo.format(secret=secret))
    secrets.add(userinfo.format(secret=secret))
    inventory = fleet([cafe], hostvars={"cafe1": {"textile_api_url": url}})
    # -vvvv: the harness fails the test on the secret anywhere in the output, the log or the report files
    result = run_playbook(PLAYBOOK, inventory=inventory)
    _base, data, page = read_report(result)
    entry = data["cafes"]["cafe1"]
    assert entry["reachable"] is False and "user info" in entry["error"]
    assert entry["api_url"] == (cafe.url if shown else None)
    assert "P4user" not in json.dumps(data) and "P4user" not in page
    api_url_cell = {row[0][0]: row for row in cells(page)["cafes"][1:]}["cafe1"][4][0]
    assert api_url_cell == (cafe.url if shown else "not shown")
    assert cafe.control.requests() == []  # refused before any request


def basic_auth_fleet(sim_factory, secrets, pins, **group_vars):
    """Two cafes behind Basic Auth (account P4account, pin ``daemon-pin-N``); ``pins`` are the pins the inventory
    gives each cafe (a wrong one makes it unreadable)."""
    cafes = [sim_factory(username="P4account", password="daemon-pin-%d" % n) for n in (1, 2)]
    for pin in pins:
        secrets.add(pin)
    hostvars = {"cafe%d" % n: {"textile_api_password": pin} for n, pin in enumerate(pins, 1)}
    return cafes, fleet(cafes, hostvars=hostvars, textile_api_username="P4account", textile_retries=0, **group_vars)


def verdict_of(page):
    """``(class, data-state, text)`` of the page's verdict banner."""
    (found,) = re.findall(r'<p class="banner ([a-z ]+)" id="verdict" data-state="([a-z_]+)">([^<]*)</p>', page)
    return found[0], found[1], html.unescape(found[2])


def test_no_verdict_when_no_cafe_could_be_read(sim_factory, run_playbook, new_token, secrets):
    token = new_token()
    cafes, inventory = basic_auth_fleet(
        sim_factory, secrets, ["wrong-pin-1111", "wrong-pin-2222"], cafe_token_report_expected_ids=[token_id(token)]
    )
    for cafe in cafes:
        cafe.control.seed([token])
    result = run_playbook(PLAYBOOK, inventory=inventory)
    _base, data, page = read_report(result)
    unreadable = data["summary"]["unreadable"]
    assert sorted(unreadable) == ["cafe1", "cafe2"]
    assert all("Basic Auth" in error for error in unreadable.values()), unreadable
    assert verdict_of(page) == (
        "unread",
        "unknown",
        "No verdict: no cafe could be read, so the tokens of the fleet are unknown.",
    )
    assert "No drift" not in page and "banner ok" not in page
    assert {row[0][0]: row[1] for row in cells(page)["summary"]}["Drift"] == (
        "unknown: no cafe could be read",
        {"unknown"},
    )
    assert "2 of 2 cafes could not be read: cafe1, cafe2" in page
    # what AWX keeps of the job: the console and the statistic name the cafes and why
    assert result[SHOW]["msg"]["summary"]["unreadable"] == unreadable
    assert result[SHOW]["msg"]["verdict"].startswith("No verdict")
    assert result[STATS]["ansible_stats"]["data"]["textile_cafe_report"]["unreadable"] == unreadable


@pytest.mark.compat
def test_with_some_cafes_unread_the_verdict_covers_only_the_cafes_read_and_fail_on_drift_fails(
    sim_factory, run_playbook, new_token, secrets
):
    token = new_token()
    cafes, inventory = basic_auth_fleet(
        sim_factory,
        secrets,
        ["daemon-pin-1", "wrong-pin-2222"],
        cafe_token_report_expected_ids=[token_id(token)],
        cafe_token_report_fail_on_drift=True,
    )
    for cafe in cafes:
        cafe.control.seed([token])
    # the cafe that was read holds exactly the expected token: no drift there, yet cafe2 is unknown
    result = run_playbook(PLAYBOOK, inventory=inventory, expect_rc=2)
    _base, data, page = read_report(result)
    assert data["summary"]["missing"] == {} and data["summary"]["unexpected"] == {}
    assert list(data["summary"]["unreadable"]) == ["cafe2"]
    error = data["summary"]["unreadable"]["cafe2"]
    assert "Basic Auth" in error
    text = "No drift on the 1 of 2 cafes that could be read; 1 could not be read, so the fleet as a whole is not known to be in sync."
    assert verdict_of(page) == ("partial", "in_sync", text)
    assert result[SHOW]["msg"]["verdict"] == text
    assert result[STATS]["ansible_stats"]["data"]["textile_cafe_report"]["unreadable"] == {"cafe2": error}
    failure = result[DRIFT]
    assert failure["failed"] is True
    assert "Could not be read, so not known to be in sync: cafe2: %s" % error in failure["msg"]
    assert failure["msg"].startswith(text) and "cafe1:" not in failure["msg"]


def test_bad_id_variables_fail_before_any_request_naming_variable_and_position(
    sim_factory, run_playbook, new_token, secrets
):
    token, labelled = new_token(), new_token()
    cafes = [sim_factory(), sim_factory()]
    inventory = fleet(
        cafes,
        cafe_token_report_expected_ids=[token_id(new_token()), token, "xyz", "a" * 25],
        cafe_token_report_labels={" %s " % token_id(new_token()).upper(): "ok", labelled: "pasted"},
    )
    result = run_playbook(PLAYBOOK, inventory=inventory, expect_rc=2)
    for host, outcome in result.host_results(CHECK).items():
        assert outcome["failed"] is True, host
        assert outcome["msg"] == (
            "Check these variables (their values are not shown): "
            "cafe_token_report_expected_ids[1]: a token, not a token ID: give its ID (<token> | "
            "textileio.textile.token_id); "
            "cafe_token_report_expected_ids[2]: 3 characters long, not a token ID (24 hexadecimal characters); "
            "cafe_token_report_expected_ids[3]: 25 characters long, not a token ID (24 hexadecimal characters); "
            "cafe_token_report_labels[key 1]: a token, not a token ID: give its ID (<token> | "
            "textileio.textile.token_id). Nothing was read."
        )
    for cafe in cafes:
        assert cafe.control.requests() == []
    assert not (result.run_dir / "work" / "textile-cafe-report").exists()
    # the harness scans for the tokens as given; a copy put in lower case (as IDs are) is searched here
    assert_nowhere(result, [token.lower(), labelled.lower()])


def assert_nowhere(result, values):
    """None of ``values`` is in the run's output or in any file the run wrote (its inputs aside)."""
    files = [p for p in result.run_dir.rglob("*") if p.is_file() and "input" not in p.relative_to(result.run_dir).parts]
    for value in values:
        assert value not in result.stdout and value not in result.stderr
        assert [str(p) for p in files if value.encode() in p.read_bytes()] == []


def test_a_host_whose_report_tasks_did_not_run_is_not_reachable(sim_factory, run_playbook, new_token):
    """cafe2's own variables are wrong: its report tasks stop at the check, so it has no entry, and the report
    written by the other cafe counts it as a cafe that could not be read, never as reachable."""
    token = new_token()
    cafes = [sim_factory(), sim_factory()]
    for cafe in cafes:
        cafe.control.seed([token])
    inventory = fleet(cafes, hostvars={"cafe2": {"cafe_token_report_expected_ids": "%s" % token_id(token)}})
    result = run_playbook(PLAYBOOK, inventory=inventory, expect_rc=2)
    assert "cafe_token_report_expected_ids must be a list of token IDs" in result.host_results(CHECK)["cafe2"]["msg"]
    assert cafes[1].control.requests() == []
    _base, data, page = read_report(result)
    assert data["cafes"]["cafe2"] == {
        "reachable": False,
        "error": "Ansible could not run the report tasks on this host",
        "api_url": None,
        "node_version": None,
        "count": None,
        "ids": None,
    }
    assert data["summary"]["reachable"] == 1 and data["summary"]["total_stored"] == 1
    assert data["summary"]["unreadable"] == {"cafe2": "Ansible could not run the report tasks on this host"}
    assert matrix_states(cells(page)) == {token_id(token): ["stored", "unknown"]}
    assert 'id="note-not-known"' in page and 'id="note-default"' not in page
