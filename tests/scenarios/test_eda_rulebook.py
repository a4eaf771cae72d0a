# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift event source and the collection's rulebook under the real ansible-rulebook, against simulators.

ansible-rulebook (the eda test line, scripts/venv.sh eda; it needs Java 17) finds the collection through
ANSIBLE_COLLECTIONS_PATH as users install it, loads the source with runpy and runs the rulebook's playbooks with
ansible-runner. Every run is at -vv and its whole output, and every file it leaves, is scanned for every token and
password the test used. Waits are for something in the output or the simulators' state, each bounded.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from ansible_collections.textileio.textile.tests.scenarios.harness import (
    README,
    ids_of,
    shell_commands,
    token_id,
    yaml_block,
)

BIN = Path(sys.executable).parent
RULEBOOK = BIN / "ansible-rulebook"
if not RULEBOOK.exists():
    pytest.skip(
        "ansible-rulebook is not installed in this venv (the eda line has it: nox -e pytest-eda-2.21)",
        allow_module_level=True,
    )
if not shutil.which("java"):
    pytest.skip("ansible-rulebook needs Java 17 (Debian: openjdk-17-jre-headless)", allow_module_level=True)


BOUND = 240  # seconds: a bound on a wait for what takes seconds, never a timing assertion
BANNER = r"\*\* \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \[event\] \*"
EVENT_BANNER = re.compile(f"^{BANNER}+$")  # a banner on a line of its own
ANY_EVENT_BANNER = re.compile(BANNER)  # a banner anywhere, split from its line or not
# a record of ansible-rulebook's log (at -vv on stdout too), written in one piece, by any thread, anywhere
LOG_RECORD = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - [\w.-]+ - (DEBUG|INFO|WARNING|ERROR|CRITICAL) - [^\n]*\n"
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
ACTION_DONE = re.compile(r"Task action::run_playbook::.* finished, active actions")
SOURCE_RULEBOOK = """
- name: Every drift event
  hosts: all
  sources:
    - textileio.textile.token_drift: {args}
  rules:
    - name: Show the event
      condition: event.textile_drift is defined
      action:
        print_event:
          pretty: true
"""


def events_in(text):
    """The events the print_event action printed (pretty), in order, without the meta ansible-rulebook adds.

    print() writes its text and its newline in two writes, and the source's polling threads log (to the same stdout
    at -vv) in between: a log record can end any line of an event, its banner too. The records go first, then the
    events are read; an event whose closing rule is not written yet is not read yet, and a banner that is still not
    at the start of a line after that fails here, loudly, instead of a wait for an event that was printed."""
    text = LOG_RECORD.sub("", ANSI.sub("", text))
    lines = text.splitlines()
    starts = [index for index, line in enumerate(lines) if EVENT_BANNER.match(line)]
    assert len(starts) == len(ANY_EVENT_BANNER.findall(text)), f"an event banner events_in cannot read:\n{text}"
    events = []
    for start in starts:
        end = next((i for i in range(start + 1, len(lines)) if lines[i] and set(lines[i]) == {"*"}), None)
        if end is None:  # its body or its closing rule is still being written
            break
        found = ast.literal_eval("\n".join(lines[start + 1 : end]))
        found["meta"] = {"hosts": found["meta"]["hosts"]}
        events.append(found)
    return events


def test_events_in_reads_events_that_log_records_of_other_threads_split():
    """What ansible-rulebook -vv writes when a poll's log record lands between a print's text and its newline."""
    record = '2026-12-03 06:02:54,293 - urllib3.connectionpool - DEBUG - http://127.0.0.1:1 "GET /api/v0/tokens" 200\n'
    banner = "** 2026-12-03 06:02:54.123456 [event] " + "*" * 40
    body = "{'meta': {'hosts': 'cafe-b', 'uuid': 'u'},\n 'textile_drift': {'state': 'in_sync'}}"
    split = ["\n" + banner, record + "\n", body, "\n" + record, "*" * 80, record + "\n"]
    expected = {"meta": {"hosts": "cafe-b"}, "textile_drift": {"state": "in_sync"}}
    assert events_in(record + "".join(split)) == [expected]
    assert events_in(record + "".join(split[:3])) == []  # the closing rule not written yet: not read yet
    with pytest.raises(AssertionError, match="cannot read"):
        events_in(banner + " a line that is no log record\n" + body + "\n" + "*" * 80 + "\n")


def drift(cafe, url, state, previous=None, missing=(), unexpected=(), count=None, error=None):
    return {
        "textile_drift": {
            "cafe": cafe,
            "api_url": url,
            "state": state,
            "previous_state": previous,
            "missing_ids": sorted(missing),
            "unexpected_ids": sorted(unexpected),
            "count": count,
            "error": error,
        },
        "meta": {"hosts": cafe},
    }


class Rulebook:
    """One ansible-rulebook process at -vv, run in ``work`` (where the test writes its inputs), with its output and
    its TMPDIR in a short temporary directory that is scanned for every secret of the test at the end."""

    def __init__(self, tmp_path, collections_path, secrets, name="rulebook"):
        self.dir = Path(tempfile.mkdtemp(prefix="eda-", dir="/tmp"))  # short: ansible-core puts a socket under it
        self.work = tmp_path / name
        self.work.mkdir()
        self.collections_path = collections_path
        self.secrets = secrets
        self.process = None
        self.stdout = self.dir / "stdout"

    def env(self, extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "TEXTILE_", "PYTEST_", "EDA_"))}
        env.update(
            {
                "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                "ANSIBLE_COLLECTIONS_PATH": str(self.collections_path),
                "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
                "ANSIBLE_HOME": str(self.dir / "home"),
                "ANSIBLE_LOCAL_TEMP": str(self.dir / "local"),
                "ANSIBLE_REMOTE_TMP": str(self.dir / "remote"),
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_HOST_KEY_CHECKING": "false",
                "TMPDIR": str(self.dir),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(extra or {})
        return env

    def start(self, *args, env=None):
        with open(self.stdout, "wb") as out:
            self.process = subprocess.Popen(
                [str(RULEBOOK), "-vv", *map(str, args)],
                cwd=str(self.work),
                env=self.env(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def output(self):
        return self.stdout.read_text(encoding="utf-8", errors="replace")

    def events(self):
        return events_in(self.output)

    def wait_for(self, condition, what):
        """Wait until ``condition()`` holds (checked every 0.2 s), at most BOUND seconds."""
        deadline = time.monotonic() + BOUND
        while not condition():
            if self.process.poll() is not None and not condition():
                raise AssertionError(
                    f"ansible-rulebook ended ({self.process.returncode}) before {what}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {BOUND} s:\n{self.tail()}")
            time.sleep(0.2)

    def wait(self):
        """The exit code of a run that ends by itself (once, bad args)."""
        try:
            return self.process.wait(BOUND)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"ansible-rulebook did not end within {BOUND} s:\n{self.tail()}") from None

    def tail(self):
        return self.secrets.redact(self.output[-6000:])

    def stop(self):
        """Stop the process, then scan everything it wrote for every registered secret."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(60)
        leaks = []  # its output and whatever it and its playbooks left in its TMPDIR (the test's inputs are elsewhere)
        for file in sorted(p for p in self.dir.rglob("*") if p.is_file()):
            data = file.read_bytes()
            leaks += [f"{self.secrets.redact(s)} in {file.name}" for s in self.secrets if s.encode() in data]
        shutil.rmtree(self.dir, ignore_errors=True)
        assert not leaks, "a secret in ansible-rulebook's output or files:\n" + "\n".join(leaks)


@pytest.fixture
def rulebooks(tmp_path, collections_path, secrets):
    started = []

    def new(name="rulebook", collections=None):
        started.append(Rulebook(tmp_path, collections or collections_path, secrets, f"{name}-{len(started)}"))
        return started[-1]

    yield new
    for rulebook in started:
        rulebook.stop()


def cafe_inventory(cafes, tokens=None):
    """A YAML inventory: each cafe a host of textile_cafes run locally against its simulator."""
    hosts = {
        name: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "textile_api_url": url}
        for name, url in cafes.items()
    }
    group = {"hosts": hosts}
    if tokens is not None:
        group["vars"] = {"cafe_tokens_present": tokens}
    return {"all": {"children": {"textile_cafes": group}}}


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def list_requests(sim):
    return [r for r in sim.control.requests() if r["method"] == "GET" and r["path"] == "/api/v0/tokens"]


def writes(sim):
    return [(r["method"], r["path"]) for r in sim.control.requests() if r["method"] != "GET"]


# ---- once: the first poll's events, exactly ---------------------------------------------------------------------


def test_once_the_events_of_a_fleet_are_exactly_the_contracts(tmp_path, rulebooks, sim_factory, new_token):
    """A cafe in sync, one drifted, one down: two events, as design.md writes them; then ansible-rulebook ends."""
    password = "eda-pin-" + token_id(new_token())[:12]
    in_sync = sim_factory(username="P4eda", password=password)
    drifted = sim_factory(username="P4eda", password=password)
    fleet = [new_token(), new_token()]
    stray = new_token()
    in_sync.control.seed(fleet)
    drifted.control.seed([fleet[0], stray])
    from ansible_collections.textileio.textile.tests.simulator.textile_sim import closed_port  # noqa: PLC0415

    down = f"http://127.0.0.1:{closed_port()}"
    args = {
        "cafes": {"cafe-ok": in_sync.url, "cafe-drift": drifted.url, "cafe-down": down},
        "expected_ids": ids_of(fleet),
        "exclusive": True,
        "retries": 0,
        "once": True,
    }
    rulebook = rulebooks()
    path = write(rulebook.work / "input-rulebook.yml", SOURCE_RULEBOOK.format(args=json.dumps(args)))
    inventory = write(rulebook.work / "input-inventory.yml", cafe_inventory(args["cafes"]))
    rulebook.start("-i", inventory, "-r", path, env={"TEXTILE_USERNAME": "P4eda", "TEXTILE_PASSWORD": password})
    assert rulebook.wait() == 0, rulebook.tail()
    refused = (
        f"GET /api/v0/tokens: Connection refused by {down[7:]}: is the Textile daemon running, and is api_url right?"
    )
    assert rulebook.events() == [
        drift("cafe-drift", drifted.url, "drift", missing=[token_id(fleet[1])], unexpected=[token_id(stray)], count=2),
        drift("cafe-down", down, "unreachable", error=refused),
    ]
    for sim in (in_sync, drifted):
        assert [(r["method"], r["path"], r["status"]) for r in sim.control.requests()] == [
            ("GET", "/api/v0/tokens", 200)
        ]


def test_bad_variables_stop_ansible_rulebook_with_one_message(tmp_path, rulebooks, sim, new_token):
    """A token pasted into textile_drift_expected_ids: ansible-rulebook ends at start, non-zero, with the message
    naming the arg and its position, and the token nowhere in its -vv output (ansible-rulebook prints a rulebook's
    literal source args at -vv, but not the variables they are templated from)."""
    token = new_token()
    rulebook = rulebooks()
    variables = {
        "textile_drift_cafes": {"cafe-1": sim.url},
        "textile_drift_expected_ids": [token_id(new_token()), token],
    }
    variables_file = write(rulebook.work / "drift.yml", variables)
    inventory = write(rulebook.work / "inventory.yml", cafe_inventory({"cafe-1": sim.url}))
    rulebook.start("-i", inventory, "-r", "textileio.textile.token_drift", "--vars", variables_file)
    assert rulebook.wait() != 0
    message = (
        "textileio.textile.token_drift: expected_ids[1] is not a token ID: an ID is 24 hexadecimal characters (use "
        "the textileio.textile.token_id filter to get the ID of a token)."
    )
    assert message in rulebook.output
    assert "Traceback" not in rulebook.output
    assert sim.control.requests() == []


# ---- the collection's rulebook heals a fleet ------------------------------------------------------------------------


def test_the_collections_rulebook_restores_a_missing_token_on_that_cafe_only(
    tmp_path, rulebooks, sim_factory, new_token
):
    """interval 1: cafe-a lost a token, cafe-b is down. cafe-a gets textileio.textile.provision (and only it), its
    recovery follows; cafe-b's recovery follows once it answers again; then nothing while nothing changes."""
    password = "eda-pin-" + token_id(new_token())[:12]
    cafe_a = sim_factory(username="P4eda", password=password)
    cafe_b = sim_factory(username="P4eda", password=password)
    fleet = [new_token(), new_token()]
    cafe_a.control.seed([fleet[0]])
    cafe_b.control.seed(fleet)
    cafe_b.control.add_fault(method="GET", path="/api/v0/tokens", action="status", status=503, body="restoring")
    cafes = {"cafe-a": cafe_a.url, "cafe-b": cafe_b.url}
    rulebook = rulebooks()
    inventory = rulebook.work / "inventory"
    write(inventory / "hosts.yml", cafe_inventory(cafes))
    write(inventory / "group_vars" / "textile_cafes.yml", {"cafe_tokens_present": fleet})  # beside the hosts
    variables = {"textile_drift_cafes": cafes, "textile_drift_expected_ids": ids_of(fleet), "textile_drift_interval": 1}
    variables_file = write(rulebook.work / "drift.yml", variables)
    env = {"TEXTILE_USERNAME": "P4eda", "TEXTILE_PASSWORD": password}
    rulebook.start("-i", inventory, "-r", "textileio.textile.token_drift", "--vars", variables_file, env=env)

    def states():
        return [(e["meta"]["hosts"], e["textile_drift"]["state"]) for e in rulebook.events()]

    rulebook.wait_for(lambda: ("cafe-a", "in_sync") in states(), "recovery event of cafe-a")
    assert cafe_a.control.state_ids() == ids_of(fleet)
    assert writes(cafe_a) == [("POST", "/api/v0/tokens")]  # the one missing token, imported
    assert writes(cafe_b) == []  # provision ran on cafe-a only
    assert rulebook.output.count("PLAY RECAP") == 1
    assert re.search(r"^cafe-a\s+: ok=\d+\s+changed=1\s", ANSI.sub("", rulebook.output), re.M)

    # cafe-b's first poll retries the 503 three times (0.5 s, 1 s, 2 s apart) before it says unreachable: a fault
    # cleared before that is a cafe that never was unreachable, and no recovery would follow
    rulebook.wait_for(lambda: ("cafe-b", "unreachable") in states(), "unreachable event of cafe-b")
    cafe_b.control.clear_faults()
    rulebook.wait_for(lambda: ("cafe-b", "in_sync") in states(), "recovery event of cafe-b")
    unreachable = "GET /api/v0/tokens: The node failed (HTTP 503): \"restoring\"; check the daemon and its log."
    by_cafe = {}
    for found in rulebook.events():
        by_cafe.setdefault(found["meta"]["hosts"], []).append(found)
    assert by_cafe == {
        "cafe-a": [
            drift("cafe-a", cafe_a.url, "drift", missing=[token_id(fleet[1])], count=1),
            drift("cafe-a", cafe_a.url, "in_sync", "drift", count=2),
        ],
        "cafe-b": [
            drift("cafe-b", cafe_b.url, "unreachable", error=unreachable),
            drift("cafe-b", cafe_b.url, "in_sync", "unreachable", count=2),
        ],
    }

    # nothing repeats while nothing changes: two more polls of each cafe, no event, no playbook
    polled = {name: len(list_requests(sim)) for name, sim in (("a", cafe_a), ("b", cafe_b))}
    rulebook.wait_for(
        lambda: len(list_requests(cafe_a)) >= polled["a"] + 2 and len(list_requests(cafe_b)) >= polled["b"] + 2,
        "two more polls of each cafe",
    )
    assert len(rulebook.events()) == 4 and rulebook.output.count("PLAY RECAP") == 1
    rulebook.stop()  # and no token or password anywhere in its -vv output


# ---- the README's command, and an installed collection ----------------------------------------------------------


def test_the_readme_rulebook_command_heals_a_cafe_as_written(site, rulebooks, tmp_path):  # noqa: F811 (the fixture)
    """The README's drift.yml and command with the README's inventory directory and vault: cafe-eu-1 lost a fleet
    token and gets it back from textileio.textile.provision; cafe-us-1, in sync, gets nothing. The test writes the
    simulators' URLs into drift.yml in place of the README's (which it cannot reach)."""
    assert [token_id(t) for t in site.tokens.fleet] == ["5d1c3b2a4e6f708192a3b4c5", "9e8d7c6b5a4f3e2d1c0b0a99"]
    eu, us = site.cafes["cafe-eu-1"], site.cafes["cafe-us-1"]
    eu.control.seed(site.tokens.fleet[:1])
    us.control.seed(site.tokens.fleet)
    variables = yaml.safe_load(yaml_block("# drift.yml"))
    assert variables["textile_drift_expected_ids"] == ids_of(site.tokens.fleet)
    assert set(variables["textile_drift_cafes"]) == set(site.cafes)
    variables["textile_drift_cafes"] = {name: sim.url for name, sim in site.cafes.items()}
    (site.base / "drift.yml").write_text(yaml.safe_dump(variables), encoding="utf-8")
    inventory = site.base / "inventory"  # the README's layout: the inventory and its group_vars in inventory/
    inventory.mkdir()
    (inventory / "inventory.yml").symlink_to(site.inventory)
    (inventory / "group_vars").symlink_to(site.base / "group_vars", target_is_directory=True)
    # where the simulated cafes listen, as test_readme.py's other runs add it, and the Python that has requests
    write(inventory / "test-connections.yml", cafe_inventory({name: sim.url for name, sim in site.cafes.items()}))
    (command,) = [c for c in shell_commands(README) if c.startswith("ansible-rulebook")]
    args = command.split()[1:]
    rulebook = rulebooks("readme")
    rulebook.work = site.base  # the README's commands run where its files are
    env = {
        "TEXTILE_USERNAME": eu.options["username"],
        "TEXTILE_PASSWORD": eu.options["password"],
        "ANSIBLE_VAULT_PASSWORD_FILE": site.vault[1],
    }
    rulebook.start(*args, env=env)
    # the action's end: ansible-runner keeps the run's environment (TEXTILE_PASSWORD too) in its private data
    # directory until then, and ansible-rulebook deletes that directory when the action ends
    rulebook.wait_for(lambda: ACTION_DONE.search(rulebook.output), "the end of the provision playbook's action")
    assert "PLAY RECAP" in rulebook.output
    assert eu.control.state_ids() == ids_of(site.tokens.fleet)
    assert [e["textile_drift"]["cafe"] for e in rulebook.events()] == ["cafe-eu-1"]
    assert [r["method"] for r in us.control.requests()].count("POST") == 0


def test_an_installed_collection_runs_the_source_with_its_own_client(installed, rulebooks, sim, new_token, tmp_path):  # noqa: F811
    """Built and installed with ansible-galaxy (test_playbooks_packaging's tarball, extensions/ in it): the source's
    client is the installed copy's module_utils, and ansible-rulebook runs the installed source."""
    tarball, collections = installed
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "extensions/eda/plugins/event_source/token_drift.py" in names
    assert "extensions/eda/rulebooks/token_drift.yml" in names
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("ANSIBLE_")}
    collection = collections / "ansible_collections" / "textileio" / "textile"
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, runpy, sys; d = runpy.run_path(sys.argv[1]); s, u = d['configure']({'cafes': {'c': None}}, {});"
            " print(json.dumps({k: m.__file__ for k, m in u.items()}))",
            str(collection / "extensions" / "eda" / "plugins" / "event_source" / "token_drift.py"),
        ],
        env=env,
        cwd=str(tmp_path),
        check=True,
        capture_output=True,
        text=True,
    )
    files = json.loads(loaded.stdout)
    assert files and all(
        Path(f).resolve().parent == (collection / "plugins" / "module_utils").resolve() for f in files.values()
    )

    token = new_token()
    args = {"cafes": {"cafe-1": sim.url}, "expected_ids": [token_id(token)], "once": True}
    rulebook = rulebooks("installed", collections=collections)
    path = write(rulebook.work / "input-rulebook.yml", SOURCE_RULEBOOK.format(args=json.dumps(args)))
    inventory = write(rulebook.work / "input-inventory.yml", cafe_inventory({"cafe-1": sim.url}))
    rulebook.start("-i", inventory, "-r", path)
    assert rulebook.wait() == 0, rulebook.tail()
    assert rulebook.events() == [drift("cafe-1", sim.url, "drift", missing=[token_id(token)], count=0)]
