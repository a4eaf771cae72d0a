# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rotate playbook against two simulated cafes: mint once, import everywhere, retire only when all hold it."""

from __future__ import annotations

import re
import shlex
import stat

import pytest

from ansible_collections.textileio.textile.tests.scenarios.harness import (
    REPO_ROOT,
    fleet,
    fqcn_playbook,
    ids_of,
    read_report,
    token_id,
    validates,
)
from ansible_collections.textileio.textile.tests.scenarios.harness import REPORT_DRIFT as DRIFT_FAIL
from ansible_collections.textileio.textile.tests.simulator.textile_sim import closed_port

SHOW = "Show the rotation (token ID, removed IDs per cafe, token file)"
STATS = "Publish the rotation as a statistic for AWX and Automation Platform"
NOT_CONFIRMED = "Fail when a cafe does not hold the new token"
ROTATE = fqcn_playbook("rotate")


def rotation(old_ids, token_file, **more):
    extra = {"textile_rotate_old_ids": list(old_ids), "textile_rotate_token_file": str(token_file)}
    extra.update(more)
    return extra


def mints(sim):
    """The mint requests a cafe saw (POST without a token, store=false)."""
    return [
        r for r in sim.control.requests() if r["method"] == "POST" and r["headers"]["X-Textile-Opts"] == "store=false"
    ]


def imports(sim):
    return [r for r in sim.control.requests() if r["method"] == "POST" and "token=" in r["headers"]["X-Textile-Opts"]]


def deletes(sim):
    return [r["path"].rsplit("/", 1)[1] for r in sim.control.requests() if r["method"] == "DELETE"]


def only_lists(sim):
    return {(r["method"], r["path"]) for r in sim.control.requests()} <= {("GET", "/api/v0/tokens")}


def minted_token(token_file, secrets):
    """The token the rotation wrote, registered so that every later run is scanned for it."""
    return secrets.add(token_file.read_text(encoding="ascii").strip())


def assert_not_in_run(result, token):
    """The harness scans a run for the secrets known before it; a token minted during the run is checked here."""
    places = [name for name, text in (("stdout", result.stdout), ("stderr", result.stderr)) if token in text]
    files = sorted(path for path in result.run_dir.rglob("*") if path.is_file())
    places += [str(path) for path in files if token.encode() in path.read_bytes()]
    assert not places, "the minted token <%s> is in %s" % (token_id(token), places)


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def write_token_file(path, text, file_mode=0o600):
    """A token file as the rotation needs it: private to its owner (mode 0600) unless the test says otherwise."""
    path.write_text(text, encoding="ascii")
    path.chmod(file_mode)


@pytest.fixture
def cafes(sim_factory):
    return sim_factory(), sim_factory()


@pytest.mark.compat
def test_rotation_mints_once_imports_everywhere_retires_then_a_rerun_only_lists(
    cafes, run_playbook, new_token, secrets, tmp_path
):
    old, other = new_token(), new_token()
    for sim in cafes:
        sim.control.seed([old, other])
    token_file = tmp_path / "keys" / "rotation" / "fleet.token"
    inventory = fleet(cafes)
    first = run_playbook(
        ROTATE, inventory=inventory, extra_vars=rotation([token_id(old).upper()], token_file), diff=True
    )

    new = minted_token(token_file, secrets)
    assert_not_in_run(first, new)
    assert token_file.read_text(encoding="ascii") == new + "\n"
    assert mode(token_file) == 0o600
    assert mode(token_file.parent) == 0o700 and mode(token_file.parent.parent) == 0o700
    # one mint, without storing, on the first cafe; then an import and the removal of the old ID on each cafe
    assert len(mints(cafes[0])) == 1 and mints(cafes[1]) == []
    for sim in cafes:
        assert sim.control.state_ids() == ids_of([new, other])
        assert len(imports(sim)) == 1
        assert deletes(sim) == [token_id(old)]
        assert validates(sim, new)  # the secret imported is the one in the file
    summary = first[SHOW]["msg"]
    assert summary["token_id"] == token_id(new)
    assert summary["token_file"] == str(token_file)
    assert summary["minted_on"] == "cafe1"
    assert summary["imported_on"] == ["cafe1", "cafe2"]
    assert summary["removed_ids"] == {"cafe1": [token_id(old)], "cafe2": [token_id(old)]}
    assert summary["retired"] is True and summary["not_confirmed_on"] == []
    assert first[STATS]["ansible_stats"]["data"]["textile_rotation"] == summary
    assert token_id(new) in first.stdout

    for sim in cafes:
        sim.control.clear_requests()
    again = run_playbook(ROTATE, inventory=inventory, extra_vars=rotation([token_id(old)], token_file))
    assert again.changed == 0 and again.failed == 0
    for sim in cafes:
        assert only_lists(sim) and sim.control.requests()
        assert sim.control.state_ids() == ids_of([new, other])
    assert token_file.read_text(encoding="ascii") == new + "\n"
    assert again[SHOW]["msg"]["removed_ids"] == {"cafe1": [], "cafe2": []}
    assert again[SHOW]["msg"]["minted_on"] is None and again[SHOW]["msg"]["imported_on"] == []


def test_an_interrupted_import_resumes_with_the_same_file(sim_factory, run_playbook, new_token, secrets, tmp_path):
    # behind Basic Auth: the inventory's connection variables reach the mint and every import, never shown
    cafes = [sim_factory(username="P4account", password="daemon-pin-%d" % n) for n in (1, 2)]
    first_cafe, second_cafe = cafes
    old = new_token()
    for sim in cafes:
        sim.control.seed([old])
    second_cafe.control.add_fault(
        method="POST", path="/api/v0/tokens", action="status", status=500, body="database is locked", count=100
    )
    token_file = tmp_path / "rotation.token"
    inventory = fleet(
        cafes,
        hostvars={"cafe%d" % n: {"textile_api_password": "daemon-pin-%d" % n} for n in (1, 2)},
        textile_retries=0,
        textile_api_username="P4account",
    )
    broken = run_playbook(ROTATE, inventory=inventory, extra_vars=rotation([token_id(old)], token_file), expect_rc=2)

    new = minted_token(token_file, secrets)
    assert_not_in_run(broken, new)
    assert first_cafe.control.state_ids() == ids_of([old, new])
    assert second_cafe.control.state_ids() == [token_id(old)]
    assert deletes(first_cafe) == deletes(second_cafe) == []  # nothing retired anywhere
    message = broken[NOT_CONFIRMED]["msg"]
    assert "not confirmed on cafe2, so no old token was removed on any cafe. cafe2: " in message
    assert "cafe1" not in message and "database is locked" in message
    assert "Re-run with the same textile_rotate_token_file" in message and str(token_file) in message

    second_cafe.control.clear_faults()
    for sim in cafes:
        sim.control.clear_requests()
    resumed = run_playbook(ROTATE, inventory=inventory, extra_vars=rotation([token_id(old)], token_file))
    assert mints(first_cafe) == mints(second_cafe) == []
    assert imports(first_cafe) == [] and len(imports(second_cafe)) == 1
    for sim in cafes:
        assert sim.control.state_ids() == [token_id(new)]
        assert deletes(sim) == [token_id(old)]
    assert resumed[SHOW]["msg"]["imported_on"] == ["cafe2"]
    assert resumed[SHOW]["msg"]["token_id"] == token_id(new)


def test_a_cafe_that_is_down_stops_the_retirement_everywhere(sim_factory, run_playbook, new_token, secrets, tmp_path):
    up = sim_factory()
    old = new_token()
    up.control.seed([old])
    token_file = tmp_path / "rotation.token"
    inventory = fleet([up], textile_retries=0)
    hosts = inventory["all"]["children"]["textile_cafes"]["hosts"]
    # the first cafe in the inventory is down: the mint goes to the first one that answers
    inventory["all"]["children"]["textile_cafes"]["hosts"] = {
        "cafe0": {"textile_api_url": "http://127.0.0.1:%d" % closed_port()},
        **hosts,
    }
    result = run_playbook(ROTATE, inventory=inventory, extra_vars=rotation([token_id(old)], token_file), expect_rc=2)

    new = minted_token(token_file, secrets)
    assert_not_in_run(result, new)
    assert len(mints(up)) == 1
    assert up.control.state_ids() == ids_of([old, new])
    assert deletes(up) == []
    message = result[NOT_CONFIRMED]["msg"]
    assert "not confirmed on cafe0, so no old token was removed on any cafe. cafe0: " in message
    assert "cafe1" not in message and "Connection refused by" in message
    assert result[SHOW]["msg"]["not_confirmed_on"] == ["cafe0"] and result[SHOW]["msg"]["retired"] is False


def test_no_cafe_that_answers_means_no_mint_and_no_file(run_playbook, tmp_path):
    token_file = tmp_path / "rotation.token"
    inventory = {
        "all": {
            "children": {
                "textile_cafes": {
                    "hosts": {"cafe1": {"textile_api_url": "http://127.0.0.1:%d" % closed_port()}},
                    "vars": {"textile_retries": 0},
                }
            }
        }
    }
    result = run_playbook(ROTATE, inventory=inventory, extra_vars=rotation([], token_file), expect_rc=2)
    message = result["Stop when no cafe answers"]["msg"]
    assert message.startswith("No cafe answered, so no token was minted and nothing changed. cafe1: Listing")
    assert "Connection refused by" in message
    assert not token_file.exists()


def test_a_failed_retirement_is_finished_by_a_rerun(cafes, run_playbook, new_token, tmp_path):
    old, new = new_token(), new_token()
    token_file = tmp_path / "rotation.token"
    write_token_file(token_file, new + "\n")
    for sim in cafes:
        sim.control.seed([old, new])
    cafes[1].control.add_fault(
        method="DELETE", path_prefix="/api/v0/tokens/", action="status", status=500, body="disk full", count=100
    )
    inventory = fleet(cafes, textile_retries=0)
    result = run_playbook(ROTATE, inventory=inventory, extra_vars=rotation([token_id(old)], token_file), expect_rc=2)
    message = result["Fail when a cafe could not retire the old tokens"]["msg"]
    assert message.startswith(
        "Every cafe holds the new token (ID %s), but retiring the old tokens failed on cafe2." % token_id(new)
    )
    assert "disk full" in message and "Re-run with the same textile_rotate_token_file" in message
    assert result[SHOW]["msg"]["removed_ids"] == {"cafe1": [token_id(old)], "cafe2": []}
    assert cafes[0].control.state_ids() == [token_id(new)]
    assert cafes[1].control.state_ids() == ids_of([old, new])

    cafes[1].control.clear_faults()
    run_playbook(ROTATE, inventory=inventory, extra_vars=rotation([token_id(old)], token_file))
    for sim in cafes:
        assert sim.control.state_ids() == [token_id(new)]


def test_retire_false_keeps_the_old_token_and_a_later_run_retires_it_without_minting(
    cafes, run_playbook, new_token, secrets, tmp_path
):
    old = new_token()
    for sim in cafes:
        sim.control.seed([old])
    token_file = tmp_path / "rotation.token"
    inventory = fleet(cafes)
    grace = run_playbook(
        ROTATE, inventory=inventory, extra_vars=rotation([token_id(old)], token_file, textile_rotate_retire=False)
    )
    new = minted_token(token_file, secrets)
    assert_not_in_run(grace, new)
    for sim in cafes:
        assert sim.control.state_ids() == ids_of([old, new])
        assert deletes(sim) == []
        sim.control.clear_requests()
    assert grace[SHOW]["msg"]["retired"] is False
    assert grace[SHOW]["msg"]["removed_ids"] == {"cafe1": [], "cafe2": []}

    finish = run_playbook(
        ROTATE, inventory=inventory, extra_vars=rotation([token_id(old)], token_file, textile_rotate_retire=True)
    )
    for sim in cafes:
        assert mints(sim) == [] and imports(sim) == []
        assert deletes(sim) == [token_id(old)]
        assert sim.control.state_ids() == [token_id(new)]
    assert finish[SHOW]["msg"]["retired"] is True
    assert token_file.read_text(encoding="ascii") == new + "\n"


def test_check_mode_mints_nothing_writes_nothing_and_predicts(cafes, run_playbook, new_token, tmp_path):
    old = new_token()
    for sim in cafes:
        sim.control.seed([old])
    token_file = tmp_path / "keys" / "rotation.token"
    inventory = fleet(cafes)
    predicted = run_playbook(ROTATE, inventory=inventory, check=True, extra_vars=rotation([token_id(old)], token_file))
    assert not token_file.parent.exists()
    for sim in cafes:
        assert [r for r in sim.control.requests() if r["method"] != "GET"] == []
        assert sim.control.state_ids() == [token_id(old)]
    summary = predicted[SHOW]["msg"]
    assert summary["token_id"] is None and summary["minted_on"] == "cafe1"
    assert summary["imported_on"] == ["cafe1", "cafe2"]
    assert summary["removed_ids"] == {"cafe1": [token_id(old)], "cafe2": [token_id(old)]}
    # the change it predicts shows as one: the import of the token check mode does not mint, on each cafe
    predicted_import = predicted.host_results("Predict the import of the new token, which check mode does not mint")
    assert {host: outcome["changed"] for host, outcome in predicted_import.items()} == {"cafe1": True, "cafe2": True}
    assert all(stats["changed"] >= 2 for stats in predicted.recap.values()), predicted.recap  # import, removal

    # with the token already in the file, check mode predicts its import exactly
    token_file.parent.mkdir(mode=0o700)
    new = new_token()
    write_token_file(token_file, new + "\n")
    for sim in cafes:
        sim.control.clear_requests()
    predicted = run_playbook(ROTATE, inventory=inventory, check=True, extra_vars=rotation([token_id(old)], token_file))
    summary = predicted[SHOW]["msg"]
    assert summary["token_id"] == token_id(new) and summary["minted_on"] is None
    assert summary["imported_on"] == ["cafe1", "cafe2"]
    assert summary["removed_ids"] == {"cafe1": [token_id(old)], "cafe2": [token_id(old)]}
    assert all(stats["changed"] >= 2 for stats in predicted.recap.values()), predicted.recap
    assert "Predict the import of the new token, which check mode does not mint" not in [
        e["task"] for e in predicted.task_list if e["status"] != "skipped"
    ]
    for sim in cafes:
        assert only_lists(sim)
        assert sim.control.state_ids() == [token_id(old)]


def test_a_token_file_without_a_token_fails_without_showing_it(cafes, run_playbook, secrets, tmp_path):
    token_file = tmp_path / "rotation.token"
    write_token_file(token_file, secrets.add("not-a-token-but-private-0OIl") + "\n")
    result = run_playbook(
        ROTATE, inventory=fleet(cafes), expect_rc=2, extra_vars=rotation(["0f1e2d3c4b5a69788796a5b4"], token_file)
    )
    assert "does not hold a Textile Cafe token" in result["Report a token file that does not hold a token"]["msg"]
    for sim in cafes:
        assert sim.control.requests() == []


@pytest.mark.parametrize(
    "extra, problems",
    [
        (
            {"textile_rotate_old_ids": "0f1e2d3c4b5a69788796a5b4"},  # -e textile_rotate_old_ids=<id>: a string
            [
                "textile_rotate_old_ids must be a list of token IDs, even for a single one; a string was given (-e "
                "textile_rotate_old_ids=... gives a string: pass a list as JSON, -e '{\"textile_rotate_old_ids\": "
                "[...]}')"
            ],
        ),
        (
            {"textile_rotate_old_ids": ["0f1e2d3c4b5a69788796a5b4", "not an id"]},
            ["textile_rotate_old_ids[1]: 9 characters long, not a token ID (24 hexadecimal characters)"],
        ),
        (
            {"textile_rotate_old_ids": ["0f1e2d3c4b5a69788796a5b4", "<token>"]},  # a token where its ID belongs
            ["textile_rotate_old_ids[1]: a token, not a token ID: give its ID (<token> | textileio.textile.token_id)"],
        ),
        (
            {"textile_rotate_token_file": None},
            [
                "textile_rotate_token_file is not set: give the controller path of the rotation token file",
                "textile_rotate_old_ids is not set: give the list of token IDs to retire ([] only adds the new token)",
            ],
        ),
        (
            {"textile_rotate_old_ids": [], "textile_rotate_token_file": "<token>"},  # the token instead of its file
            [
                "textile_rotate_token_file holds a token, not a path: write the token into a file (mode 0600) and "
                "give its path"
            ],
        ),
        (
            {"textile_rotate_old_ids": [], "textile_rotate_retire": "perhaps"},
            ["textile_rotate_retire must be true or false"],
        ),
    ],
    ids=["string", "not-an-id", "token", "nothing", "token-as-file", "retire"],
)
def test_bad_variables_fail_before_any_request_naming_the_one_that_failed(
    cafes, run_playbook, new_token, tmp_path, extra, problems
):
    token = new_token()
    given = {"textile_rotate_token_file": str(tmp_path / "rotation.token")}
    given.update(
        {k: [token if e == "<token>" else e for e in v] if isinstance(v, list) else v for k, v in extra.items()}
    )
    if given["textile_rotate_token_file"] == "<token>":
        given["textile_rotate_token_file"] = token
    given = {k: v for k, v in given.items() if v is not None}
    result = run_playbook(ROTATE, inventory=fleet(cafes), extra_vars=given, expect_rc=2)
    check = result["Check the rotation variables"]
    assert check["failed"] is True
    assert check["msg"] == "Check these variables (their values are not shown): %s. Nothing changed." % "; ".join(
        problems
    )
    assert not (tmp_path / "rotation.token").exists()
    assert token.lower() not in result.output
    for sim in cafes:
        assert sim.control.requests() == []


@pytest.mark.parametrize(
    "file_mode, holds_token",
    [(0o644, True), (0o640, False), (0o604, True), (0o620, True)],
    ids=["0644-token", "0640-empty", "0604-token", "0620-token"],
)
def test_a_token_file_others_may_use_is_refused_before_any_request(
    cafes, run_playbook, new_token, tmp_path, file_mode, holds_token
):
    """ssh's rule for keys: a token file that group or others may read or write is never used, nor made private
    silently; the failure names its mode and chmod 600."""
    old = new_token()
    for sim in cafes:
        sim.control.seed([old])
    token_file = tmp_path / "rotation.token"
    content = (new_token() + "\n") if holds_token else ""
    write_token_file(token_file, content, file_mode)
    result = run_playbook(ROTATE, inventory=fleet(cafes), extra_vars=rotation([token_id(old)], token_file), expect_rc=2)
    message = result["Check that only its owner may use the token file"]["msg"]
    assert message == (
        "%s has mode %04o: group or others may use it, and it holds (or would hold) the new token. It was not used "
        "and nothing changed; make it private with chmod 600 %s and run again." % (token_file, file_mode, token_file)
    )
    assert mode(token_file) == file_mode and token_file.read_text(encoding="ascii") == content
    for sim in cafes:
        assert sim.control.requests() == [] and sim.control.state_ids() == [token_id(old)]


def test_the_new_token_among_the_old_ids_fails_before_any_change(cafes, run_playbook, new_token, tmp_path):
    new = new_token()
    token_file = tmp_path / "rotation.token"
    write_token_file(token_file, new)
    for sim in cafes:
        sim.control.seed([new])
    result = run_playbook(ROTATE, inventory=fleet(cafes), extra_vars=rotation([token_id(new)], token_file), expect_rc=2)
    assert (
        "retiring it would remove the new token"
        in result["Check that the new token is not one of the tokens to retire"]["msg"]
    )
    for sim in cafes:
        assert sim.control.requests() == [] and sim.control.state_ids() == [token_id(new)]


def test_the_cafe_tokens_role_variables_apply_as_in_provision(cafes, run_playbook, new_token, secrets, tmp_path):
    """Cafe hosts Ansible cannot reach over SSH, whose APIs the controller reaches (cafe_tokens_delegate_to), and a
    cafe_tokens_api_url that wins over textile_api_url: the rotation reaches the cafes that provision reaches."""
    old = new_token()
    for sim in cafes:
        sim.control.seed([old])
    unreachable_ssh = {
        "ansible_connection": "ssh",
        "ansible_host": "127.0.0.1",
        "ansible_port": 9,
        "ansible_ssh_common_args": "-o ConnectTimeout=5 -o BatchMode=yes",
    }
    overridden = dict(
        unreachable_ssh, textile_api_url="http://127.0.0.1:%d" % closed_port(), cafe_tokens_api_url=cafes[1].url
    )
    inventory = fleet(
        cafes,
        hostvars={"cafe1": unreachable_ssh, "cafe2": overridden},
        cafe_tokens_delegate_to="localhost",
        textile_retries=0,
    )
    token_file = tmp_path / "rotation.token"
    result = run_playbook(ROTATE, inventory=inventory, extra_vars=rotation([token_id(old)], token_file))
    new = minted_token(token_file, secrets)
    assert_not_in_run(result, new)
    assert all(stats["unreachable"] == 0 for stats in result.recap.values())
    assert len(mints(cafes[0])) == 1 and mints(cafes[1]) == []
    for sim in cafes:
        assert sim.control.state_ids() == [token_id(new)]


# The README's rotation examples, run as written. Only what belongs to the operator's site changes: the
# inventory (``-i inventory.yml --ask-vault-pass``: the simulators' inventory holds no vaulted value) and HOME,
# so that ``~/textile-rotation/...`` is a directory of the test.


def readme_section(title):
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## %s\n" % title)
    end = text.find("\n## ", start + 1)
    return text[start:end]


def code_blocks(section, language):
    return re.findall(r"```%s\n(.*?)```" % language, section, re.S)


def readme_command(block):
    """The ansible-playbook command of a README bash block, as the arguments for run_playbook."""
    words = shlex.split(block.replace("\\\n", " "), comments=True)
    assert words[:4] == ["ansible-playbook", "-i", "inventory.yml", "--ask-vault-pass"], words
    playbooks = [word for word in words[4:] if word.startswith("textileio.textile.")]
    assert len(playbooks) == 1, words
    args = [word for word in words[4:] if word != playbooks[0]]
    return fqcn_playbook(playbooks[0].rsplit(".", 1)[1]), args


def test_the_readme_rotation_examples_run_as_written(cafes, run_playbook, new_token, secrets, tmp_path):
    section = readme_section("Rotate a token")
    rotate_block, grace_block = code_blocks(section, "bash")
    (report_playbook,) = code_blocks(section, "yaml")
    old = new_token(id_bytes=bytes.fromhex("0f1e2d3c4b5a69788796a5b4"))  # the ID the examples retire
    for sim in cafes:
        sim.control.seed([old])
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home)}
    token_file = home / "textile-rotation" / "fleet-2026-01.token"
    # the README's vault holds the fleet's tokens, the old one among them until the rotation is over
    inventory = fleet(cafes, vault_textile_fleet_tokens=[old])

    playbook, args = readme_command(grace_block)
    grace = run_playbook(playbook, inventory=inventory, env=env, args=args)
    new = minted_token(token_file, secrets)
    assert_not_in_run(grace, new)
    assert mode(token_file) == 0o600 and mode(token_file.parent) == 0o700
    for sim in cafes:
        assert sim.control.state_ids() == ids_of([old, new])

    # the grace period's nightly report fails on drift, and passes: it expects the new token too
    report = run_playbook(report_playbook, inventory=inventory, env=env)
    _base, data, page = read_report(report)
    assert data["cafes"]["cafe1"]["ids"] == ids_of([old, new])
    assert data["summary"]["expected_ids"] == ids_of([old, new])
    assert data["summary"]["missing"] == {} and data["summary"]["unexpected"] == {}
    assert "fleet token until 2026-01 (retiring)" in page and "fleet token from 2026-01" in page
    assert report.host_results(DRIFT_FAIL)["cafe1"].get("skip_reason")

    for sim in cafes:
        sim.control.clear_requests()
    playbook, args = readme_command(rotate_block)
    finish = run_playbook(playbook, inventory=inventory, env=env, args=args)
    assert finish[SHOW]["msg"]["removed_ids"] == {"cafe1": [token_id(old)], "cafe2": [token_id(old)]}
    for sim in cafes:
        assert mints(sim) == [] and imports(sim) == []
        assert sim.control.state_ids() == [token_id(new)]
