# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cafe_token_report role and the report playbook: JSON and HTML on the controller, drift, failures."""

from __future__ import annotations

import html
import json
import socket
import stat

import pytest

from harness import REPO_ROOT, ids_of, token_id
from test_roles import fleet, fqcn_playbook

PLAYBOOK = REPO_ROOT / "playbooks" / "report.yml"
ROLE = "textileio.textile.cafe_token_report : "
STATS = ROLE + "Publish the fleet summary as a statistic for AWX and Automation Platform"
DRIFT = ROLE + "Fail when the fleet drifts from the expected token IDs"


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_report(result, directory="textile-cafe-report"):
    base = result.run_dir / "work" / directory
    data = json.loads((base / "textile-cafe-report.json").read_text(encoding="utf-8"))
    page = (base / "textile-cafe-report.html").read_text(encoding="utf-8")
    return base, data, page


@pytest.mark.compat
def test_report_of_two_cafes_with_drift_against_expected_ids(sim_factory, run_playbook, new_token):
    fleet_token, lost, stray = new_token(), new_token(), new_token()
    first, second = sim_factory(), sim_factory()
    first.control.seed([fleet_token, lost, stray])
    second.control.seed([fleet_token])
    expected = [token_id(fleet_token), " %s " % token_id(lost).upper()]
    result = run_playbook(fqcn_playbook("report"), inventory=fleet(
        [first, second], cafe_token_report_expected_ids=expected))
    base, data, _page = read_report(result)
    assert set(data) == {"generated_at", "cafes", "summary"}
    assert data["cafes"]["cafe1"] == {"reachable": True, "error": None, "api_url": first.url,
                                      "node_version": "0.7.8", "count": 3,
                                      "ids": ids_of([fleet_token, lost, stray])}
    assert data["cafes"]["cafe2"]["ids"] == [token_id(fleet_token)] and data["cafes"]["cafe2"]["count"] == 1
    assert data["summary"] == {
        "cafes": 2, "reachable": 2, "total_stored": 4, "distinct_ids": 3,
        "expected_ids": ids_of([fleet_token, lost]),
        "missing": {token_id(lost): ["cafe2"]},
        "unexpected": {"cafe1": [token_id(stray)]},
    }
    assert result[STATS]["ansible_stats"]["data"]["textile_cafe_report"] == data["summary"]
    assert stat.S_IMODE(base.stat().st_mode) == 0o750
    for name in ("textile-cafe-report.json", "textile-cafe-report.html"):
        assert stat.S_IMODE((base / name).stat().st_mode) == 0o640
    # the report lands where ansible-playbook started, never inside the collection
    assert not (REPO_ROOT / "playbooks" / "textile-cafe-report").exists()
    assert result.changed >= 1 and result.failed == 0
    # reading never writes
    assert [r for sim in (first, second) for r in sim.control.requests() if r["method"] != "GET"] == []


def test_unreachable_and_auth_failed_cafes_are_reported_without_aborting(
        sim_factory, run_playbook, new_token, secrets):
    token = new_token()
    good = sim_factory()
    locked = sim_factory(username="P4user", password="the-daemon-pin-1234")
    good.control.seed([token])
    down_url = "http://127.0.0.1:%d" % closed_port()
    inventory = fleet([good, locked], hostvars={}, textile_retries=0)
    inventory["all"]["children"]["textile_cafes"]["hosts"]["cafe3"] = {"textile_api_url": down_url}
    password = secrets.add("s3cret-pass-in-url")
    inventory["all"]["children"]["textile_cafes"]["hosts"]["cafe5"] = {
        "textile_api_url": good.url.replace("//", "//P4user:%s@" % password)}
    inventory["all"]["children"]["textile_cafes"]["hosts"]["cafe4"] = {
        "ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": closed_port(),
        "ansible_ssh_common_args": "-o ConnectTimeout=5 -o BatchMode=yes"}
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
    result = run_playbook(PLAYBOOK, expect_rc=2, inventory=fleet(
        [cafe], cafe_token_report_expected_ids=[token_id(token)], cafe_token_report_fail_on_drift=True))
    assert result[DRIFT]["failed"] is True
    assert token_id(token) in result[DRIFT]["msg"]
    _base, data, _page = read_report(result)
    assert data["summary"]["missing"] == {token_id(token): ["cafe1"]}


def test_fail_on_drift_passes_when_the_fleet_matches(sim_factory, run_playbook, new_token):
    token = new_token()
    cafes = [sim_factory(), sim_factory()]
    for cafe in cafes:
        cafe.control.seed([token])
    result = run_playbook(PLAYBOOK, inventory=fleet(
        cafes, cafe_token_report_expected_ids=[token_id(token)], cafe_token_report_fail_on_drift=True))
    assert result[DRIFT].get("skip_reason") and result.failed == 0


def test_fail_on_unreachable(sim_factory, run_playbook):
    inventory = fleet([sim_factory()], cafe_token_report_fail_on_unreachable=True, textile_retries=0)
    inventory["all"]["children"]["textile_cafes"]["hosts"]["cafe2"] = {
        "textile_api_url": "http://127.0.0.1:%d" % closed_port()}
    result = run_playbook(PLAYBOOK, inventory=inventory, expect_rc=2)
    assert "cafe2" in result[ROLE + "Fail when a cafe could not be read"]["msg"]


def test_every_html_value_is_escaped(sim_factory, run_playbook, new_token):
    token = new_token()
    cafe = sim_factory()
    cafe.control.seed([token])
    evil = '<script>alert("owner")</script>&<b>'
    result = run_playbook(PLAYBOOK, inventory=fleet(
        [cafe], cafe_token_report_labels={token_id(token).upper(): evil},
        cafe_token_report_expected_ids=[token_id(token)]))
    _base, _data, page = read_report(result)
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#34;owner&#34;)&lt;/script&gt;&amp;&lt;b&gt;" in page


def test_report_dir_option_and_relative_paths(sim_factory, run_playbook):
    cafe = sim_factory()
    result = run_playbook(PLAYBOOK, inventory=fleet([cafe], cafe_token_report_dir="out/fleet"))
    _base, data, _page = read_report(result, "out/fleet")
    assert data["cafes"]["cafe1"]["count"] == 0
    shown = result[ROLE + "Show where the report is and the fleet summary"]["msg"]
    assert shown["html"] == str((result.run_dir / "work" / "out/fleet/textile-cafe-report.html").resolve())
