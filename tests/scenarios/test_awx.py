# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX's view: the collection playbooks run through ansible-runner, as an AWX job runs them.

AWX runs every job with ``ansible_runner.run`` on a private data directory it writes: the project (here one
playbook file per job that imports the collection playbook, as the README suggests), the inventory, and
``env/extravars``, where the job's extra variables and the credentials' injected variables go (the Basic Auth
user and pin of a custom credential type, the tokens of a vaulted variable). AWX stores every job event, the
stdout and the set_stats artifacts in its database, where many people can read them: so none of them, and no
file the job leaves in its directory, may hold a token, a minted token, the pin or the Basic Auth header.

Left out of the search, and only they: the caller's own inputs under ``env/`` (``env/extravars`` holds the
secrets by design, as AWX writes it) and runner's ``artifacts/<ident>/command``, which records the command
line and the whole environment the caller gave the process. AWX never shows these two unmasked: it keeps the
private data directory only while the job runs, and masks credentials in the job's recorded arguments and
environment.
"""

from __future__ import annotations

import base64
import json
import os
import secrets as _random
import sys
from pathlib import Path

import pytest

from ansible_collections.textileio.textile.tests.scenarios.harness import ids_of, token_id
from ansible_collections.textileio.textile.tests.simulator.textile_sim import closed_port

ansible_runner = pytest.importorskip(
    "ansible_runner", reason="ansible-runner is not installed (the main line's requirements bring it)"
)

# runner starts ansible-playbook with pexpect, whose forkpty Python 3.12 warns about in a process with threads
# (pytest-xdist's); the child execs ansible-playbook at once and runs none of the parent's threads' code.
pytestmark = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded, use of forkpty:DeprecationWarning")
USER = "awx-cafe-admin"
REPORT_STATS = "textile_cafe_report"
ROTATION_STATS = "textile_rotation"


class Job:
    """One ansible_runner.run in its own private data directory, with the events runner handed over."""

    def __init__(self, private_data_dir, runner, events):
        self.dir = private_data_dir
        self.runner = runner
        self.events = events
        self.stdout = runner.stdout.read()

    @property
    def artifact_dir(self):
        return Path(self.runner.config.artifact_dir)

    @property
    def stats(self):
        """What set_stats published for the whole run (per_host false), as AWX stores it as the job's artifacts."""
        (event,) = [e for e in self.events if e["event"] == "playbook_on_stats"]
        return event["event_data"]["artifact_data"]

    def results(self, task):
        """``{host: result}`` of the task named ``task``, from its runner_on_* events."""
        data = [e.get("event_data", {}) for e in self.events]
        return {d["host"]: d["res"] for d in data if "res" in d and d.get("task") == task}

    def searched_files(self):
        """Every file the job left in its directory except the caller's inputs (env/) and runner's command record."""
        inputs = self.dir / "env"
        command = self.artifact_dir / "command"
        return sorted(
            path for path in self.dir.rglob("*") if path.is_file() and inputs not in path.parents and path != command
        )


@pytest.fixture
def awx(tmp_path, collections_path, secrets, monkeypatch):
    """Run a collection playbook as an AWX job: ``awx(name, inventory, extravars, expect_status)``."""
    # What the test process inherited is not AWX's business (runner passes its whole environment on).
    for key in list(os.environ):
        if key.startswith(("ANSIBLE_", "TEXTILE_")):
            monkeypatch.delenv(key)
    jobs = []

    def run(playbook, inventory, extravars, expect_status="successful"):
        private = tmp_path / ("job-%d" % (len(jobs) + 1))
        (private / "project").mkdir(parents=True)
        (private / "inventory").mkdir()
        (private / "env").mkdir()
        (private / "project" / ("%s.yml" % playbook)).write_text(
            "- name: Run textileio.textile.%s\n  ansible.builtin.import_playbook: textileio.textile.%s\n"
            % (playbook, playbook),
            encoding="utf-8",
        )
        (private / "inventory" / "hosts.json").write_text(json.dumps(inventory), encoding="utf-8")
        # As AWX writes them: the job's extra variables and the credentials' injected variables, in one file
        # that runner passes as -e @env/extravars (a dict given to ansible_runner.run would go on the command
        # line, where ps shows it).
        (private / "env" / "extravars").write_text(json.dumps(extravars), encoding="utf-8")
        temp = private / "tmp"
        events = []
        runner = ansible_runner.run(
            private_data_dir=str(private),
            playbook="%s.yml" % playbook,
            ident="awx",
            verbosity=4,
            quiet=True,
            timeout=300,
            event_handler=lambda event: events.append(event) or True,
            envvars={
                "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
                "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
                "ANSIBLE_HOME": str(temp / "home"),
                "ANSIBLE_LOCAL_TEMP": str(temp / "local"),
                "ANSIBLE_REMOTE_TMP": str(temp / "remote"),
            },
        )
        job = Job(private, runner, events)
        jobs.append(job)
        assert runner.status == expect_status, secrets.redact(job.stdout[-6000:])
        assert events and events[-1]["event"] == "playbook_on_stats"
        return job

    run.jobs = jobs
    return run


def cafe_inventory(cafes):
    """The inventory AWX would sync: one host per cafe, its API URL, the modules run on the controller (the EE)."""
    hosts = {"cafe%d" % number: {"textile_api_url": cafe.url} for number, cafe in enumerate(cafes, 1)}
    return {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
            "children": {"textile_cafes": {"hosts": hosts, "vars": {"cafe_tokens_delegate_to": "localhost"}}},
        }
    }


def leaks(jobs, secrets):
    """Where any registered secret occurs: job events, stdout, and every file of each job but its inputs."""
    found = []
    for number, job in enumerate(jobs, 1):
        places = [("event %d (%s)" % (i, e["event"]), json.dumps(e)) for i, e in enumerate(job.events)]
        places.append(("stdout", job.stdout))
        places += [
            (str(path.relative_to(job.dir)), path.read_bytes().decode("utf-8", "replace"))
            for path in job.searched_files()
        ]
        for value in secrets:
            found += [
                "job %d: %s in %s" % (number, secrets.redact(value), where) for where, text in places if value in text
            ]
    return found


@pytest.fixture
def awx_cafes(sim_factory, secrets):
    """Two cafes behind Basic Auth, and the credential AWX injects for them (user and pin as extra variables)."""
    pin = _random.token_urlsafe(12)
    cafes = [sim_factory(username=USER, password=pin), sim_factory(username=USER, password=pin)]
    secrets.add(base64.b64encode(("%s:%s" % (USER, pin)).encode()).decode(), "<basic auth header>")
    return cafes, {"textile_api_username": USER, "textile_api_password": pin}


def test_jobs_publish_ids_and_leak_no_secret(awx, awx_cafes, secrets, new_token, tmp_path):
    cafes, credential = awx_cafes
    inventory = cafe_inventory(cafes)
    fleet_token, departing = new_token(), new_token()

    awx("provision", inventory, dict(credential, cafe_tokens_present=[fleet_token, departing]))
    for cafe in cafes:
        assert cafe.control.state_ids() == ids_of([fleet_token, departing])

    # The token file is the rotation's state on the controller, outside the job directory (AWX would mount it).
    token_file = tmp_path / "rotation" / "fleet.token"
    rotate = awx(
        "rotate",
        inventory,
        dict(credential, textile_rotate_old_ids=[token_id(departing)], textile_rotate_token_file=str(token_file)),
    )
    minted = secrets.add(token_file.read_text(encoding="ascii").strip())
    for cafe in cafes:
        assert cafe.control.state_ids() == ids_of([fleet_token, minted])
    rotation = rotate.stats[ROTATION_STATS]
    assert rotation["token_id"] == token_id(minted)
    assert rotation["imported_on"] == ["cafe1", "cafe2"]
    assert rotation["removed_ids"] == {"cafe1": [token_id(departing)], "cafe2": [token_id(departing)]}
    assert rotation["retired"] is True and rotation["token_file"] == str(token_file)

    expected = ids_of([fleet_token, minted])
    report = awx("report", inventory, dict(credential, cafe_token_report_expected_ids=expected))
    summary = report.stats[REPORT_STATS]
    assert summary["expected_ids"] == expected
    assert summary["missing"] == {} and summary["unexpected"] == {}
    # the HTML and JSON files stay in the job's directory (AWX throws them away with it); the JSON has IDs only
    data = json.loads((report.dir / "project" / "textile-cafe-report" / "textile-cafe-report.json").read_text())
    assert {cafe: entry["ids"] for cafe, entry in data["cafes"].items()} == {"cafe1": expected, "cafe2": expected}

    # On AWX the summary is what remains of a report: a cafe that could not be read is named there with its
    # error, and the nightly job (fail_on_drift) fails on it, after publishing the summary.
    with_down = cafe_inventory(cafes)
    down_url = "http://127.0.0.1:%d" % closed_port()
    with_down["all"]["children"]["textile_cafes"]["hosts"]["cafe3"] = {"textile_api_url": down_url}
    nightly = awx(
        "report",
        with_down,
        dict(credential, cafe_token_report_expected_ids=expected, cafe_token_report_fail_on_drift=True),
        expect_status="failed",
    )
    unread = nightly.stats[REPORT_STATS]
    assert list(unread["unreadable"]) == ["cafe3"] and "127.0.0.1" in unread["unreadable"]["cafe3"]
    assert unread["missing"] == {} and unread["unexpected"] == {}

    awx("decommission", inventory, dict(credential, cafe_tokens_absent_ids=[token_id(fleet_token)]))
    for cafe in cafes:
        assert cafe.control.state_ids() == [token_id(minted)]

    # The stats hold IDs, and the search below covers them too (they are in the playbook_on_stats event).
    assert len(awx.jobs) == 5 and all(job.searched_files() for job in awx.jobs)
    assert not leaks(awx.jobs, secrets)


def test_a_failing_provision_leaks_no_secret(awx, awx_cafes, secrets, new_token):
    """A cafe that fails the import and echoes what it was sent (the token, the Authorization header)."""
    cafes, credential = awx_cafes
    token = new_token()
    basic = base64.b64encode(("%s:%s" % (USER, credential["textile_api_password"])).encode()).decode()
    cafes[1].control.add_fault(
        method="POST",
        path="/api/v0/tokens",
        action="status",
        status=500,
        body="cannot store token %s (request had Authorization: Basic %s)" % (token, basic),
    )
    job = awx("provision", cafe_inventory(cafes), dict(credential, cafe_tokens_present=[token]), expect_status="failed")
    assert job.runner.rc != 0
    assert cafes[0].control.state_ids() == [token_id(token)] and cafes[1].control.state_ids() == []
    declare = job.results("Declare the tokens of cafe_tokens_present")
    assert declare["cafe2"]["censored"] and "msg" not in declare["cafe2"]  # no_log, as the role declares it
    error = job.results("Show the token IDs this run changed and the IDs stored on the cafe")["cafe2"]["msg"]["error"]
    # the cafe's words, the token shown as its ID, what it echoed of the credential hidden
    assert "HTTP 500" in error and token_id(token) in error and "Authorization: Basic [redacted]" in error
    assert job.stats == {}
    assert not leaks(awx.jobs, secrets)
