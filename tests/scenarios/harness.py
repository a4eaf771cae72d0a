# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Playbook integration harness: run real ansible-playbook against the simulator and check for leaks.

A pytest plugin (tests/scenarios/conftest.py and tests/reliability/conftest.py name it in ``pytest_plugins``,
beside tests/simulator/pytest_plugin.py, whose ``sim``, ``sim_factory`` and ``tls_ca`` run each simulator as a
process of its own there) and the helpers of the playbook suites, imported from here by their test modules.

Fixtures:

- ``run_playbook(playbook, inventory=None, extra_vars=None, env=None, check=False, diff=False,
  verbosity=4, expect_rc=0, mint_task=None, args=(), scan_paths=())`` -> ``PlaybookResult``
  (``rc``, ``stdout``, ``stderr``, ``result["task name"]``, ``host_results(name)``, ``recap``,
  ``changed``, ``failed``, ``run_dir``).
- ``secrets``: the registry every run is scanned against (a simulator's password is registered there);
  ``new_token()`` makes a token (``make_token``) and registers it.
- ``installed``: the collection built into a tarball and installed from it; ``site``: the README's directory.

Every ``run_playbook`` call:

- writes the playbook (text, or a path used as is), inventory and extra vars (``-e @file``, so no
  token is on a command line) under ``tmp_path/run-N/input``; ``ansible-playbook`` runs with its
  working directory ``run-N/work`` (relative outputs such as reports land there) and its temp dirs
  and log file under ``run-N``;
- uses the default stdout callback at ``-vvvv`` plus the ``textile_test_recorder`` callback, which
  stores each task's raw result and the recap in ``run-N/results.json``;
- scans stdout, stderr and every file the run wrote (all of ``run-N`` except ``input``) for every
  registered secret: a hit fails the test, except the minted token inside the one ``mint_task``;
- fails on ``********`` (Ansible's mask for a no_log value) in any task's ``msg``, warnings,
  deprecations or diff, and in any warning line of the output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import base58
import pytest
import yaml

from ansible_collections.textileio.textile.tests.simulator.pytest_plugin import make_token

REPO_ROOT = Path(__file__).resolve().parents[2]


CALLBACK_DIR = Path(__file__).resolve().parent / "callback_plugins"
BIN = Path(sys.executable).parent
ANSIBLE_PLAYBOOK = BIN / "ansible-playbook"
MASK = "********"
ID_BYTES = 12

# Task banners of the default stdout callback; text between two banners belongs to one task.
_BANNERS = ("PLAY [", "TASK [", "RUNNING HANDLER [", "PLAY RECAP")
# ansible.log prefixes each message with "<date> <time> p=<pid> u=<user> n=<logger> <level>| ".
_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d [^|]*\| ")
# A collection playbook's name, e.g. textileio.textile.provision.
_FQCN = re.compile(r"\A[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+\Z")


def token_id(token):
    """The 24-hex-char ID of a token (lowercase hex of its first 12 bytes)."""
    return base58.b58decode(token.strip())[:ID_BYTES].hex()


def ids_of(tokens):
    """Sorted IDs of some tokens, as the modules return them."""
    return sorted({token_id(t) for t in tokens})


def setup_collections_path(base):
    """Create ``base/ansible_collections/textileio/textile`` -> the repository root; return ``base``."""
    base = Path(base)
    link = base / "ansible_collections" / "textileio" / "textile"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to(REPO_ROOT, target_is_directory=True)
    return base


class SecretRegistry:
    """Every secret a test used; run_playbook scans each run's output for all of them."""

    def __init__(self):
        self._values = {}

    def add(self, value, label=None):
        value = str(value)
        assert len(value) >= 8, "register only real secrets: short values cause false hits"
        if value not in self._values:
            self._values[value] = label or _label(value)
        return value

    def __iter__(self):
        return iter(self._values)

    def redact(self, text):
        """``text`` with every registered secret replaced by a label, safe to print in a failure."""
        for value, label in self._values.items():
            text = text.replace(value, label)
        return text


def _label(value):
    try:
        return "<token %s>" % token_id(value)
    except Exception:  # not a token: a password or header value
        return "<secret>"


def _task_sections(text):
    """Split the default callback's output into (banner, text) pairs, one per play/task banner."""
    sections, banner, lines = [], "", []
    for line in text.splitlines(keepends=True):
        if line.startswith(_BANNERS):
            sections.append((banner, "".join(lines)))
            banner, lines = line.strip(), []
        lines.append(line)
    sections.append((banner, "".join(lines)))
    return sections


class PlaybookResult:
    """Outcome of one ansible-playbook run."""

    def __init__(self, rc, stdout, stderr, record, run_dir):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.run_dir = run_dir
        self.task_list = record.get("tasks", [])  # each: play, task, action, host, status, result
        self.recap = record.get("recap", {})  # host -> ok, changed, failures, unreachable, skipped, ...

    @property
    def output(self):
        return self.stdout + self.stderr

    def host_results(self, name):
        """``{host: raw result}`` of the last task named ``name``."""
        found = {e["host"]: e["result"] for e in self.task_list if e["task"] == name}
        if not found:
            raise KeyError("no task named %r ran; tasks: %r" % (name, self.task_names))
        return found

    def __getitem__(self, name):
        """The raw result of the task ``name`` on its only host (``host_results`` for several)."""
        found = self.host_results(name)
        assert len(found) == 1, "task %r ran on %d hosts; use host_results()" % (name, len(found))
        return next(iter(found.values()))

    def __contains__(self, name):
        return any(e["task"] == name for e in self.task_list)

    @property
    def task_names(self):
        return [e["task"] for e in self.task_list]

    @property
    def results(self):
        """``{task name: raw result}`` (single-host plays; the last run of a name wins)."""
        return {e["task"]: e["result"] for e in self.task_list}

    def _total(self, key):
        return sum(stats.get(key, 0) for stats in self.recap.values())

    @property
    def changed(self):
        return self._total("changed")

    @property
    def failed(self):
        return self._total("failures")

    @property
    def ok(self):
        return self._total("ok")


class PlaybookRunner:
    """The callable behind the ``run_playbook`` fixture (one per test)."""

    def __init__(self, tmp_path, collections_path, secrets, timeout=300):
        self.tmp_path = Path(tmp_path)
        self.collections_path = Path(collections_path)
        self.secrets = secrets
        self.timeout = timeout
        self.count = 0

    def __call__(
        self,
        playbook,
        inventory=None,
        extra_vars=None,
        env=None,
        check=False,
        diff=False,
        verbosity=4,
        expect_rc=0,
        mint_task=None,
        args=(),
        scan_paths=(),
    ):
        """Run ``playbook`` (YAML text, a path, or a collection playbook's FQCN) and return a PlaybookResult.

        ``inventory``: None (localhost only), INI/YAML text, a dict (YAML inventory) or a path.
        ``env``: extra environment; a value of None removes the variable.
        ``expect_rc``: the exit code the test expects (None: do not check).
        ``mint_task``: name of the one task allowed to show the token it minted; that token is
        registered as a secret afterwards, so it may appear nowhere else.
        ``scan_paths``: further files or directories the run writes, scanned like the run's own.
        """
        self.count += 1
        run_dir = self.tmp_path / ("run-%d" % self.count)
        inputs, work, temp = run_dir / "input", run_dir / "work", run_dir / "tmp"
        for directory in (inputs, work, temp):
            directory.mkdir(parents=True)
        command = [str(ANSIBLE_PLAYBOOK), "-i", str(self._inventory(inventory, inputs)), "-c", "local"]
        variables = {"ansible_python_interpreter": sys.executable}
        variables.update(extra_vars or {})
        vars_file = inputs / "extra_vars.json"
        vars_file.write_text(json.dumps(variables), encoding="utf-8")
        command += ["-e", "@%s" % vars_file]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        if verbosity:
            command.append("-" + "v" * verbosity)
        command += list(args)
        command.append(str(self._playbook(playbook, inputs)))
        record_file = run_dir / "results.json"
        skip = set(inputs.iterdir()) | {record_file}  # what the harness wrote, tokens included
        proc = subprocess.run(
            command,
            cwd=str(work),
            env=self._env(run_dir, temp, record_file, env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )
        record = json.loads(record_file.read_text(encoding="utf-8")) if record_file.exists() else {}
        result = PlaybookResult(proc.returncode, proc.stdout, proc.stderr, record, run_dir)
        minted = self._minted(result, mint_task)
        self._check_secrets(result, mint_task, minted, [run_dir] + [Path(p) for p in scan_paths], skip)
        if minted is not None:
            self.secrets.add(minted)
        self._check_masks(result)
        if expect_rc is not None and result.rc != expect_rc:
            raise AssertionError(
                "ansible-playbook exited %d, expected %d\n--- stdout (tail) ---\n%s\n"
                "--- stderr ---\n%s"
                % (
                    result.rc,
                    expect_rc,
                    self.secrets.redact(result.stdout[-6000:]),
                    self.secrets.redact(result.stderr[-3000:]),
                )
            )
        return result

    @staticmethod
    def _playbook(playbook, inputs):
        if isinstance(playbook, Path) or ("\n" not in playbook and len(playbook) < 1024 and Path(playbook).is_file()):
            return Path(playbook).resolve()
        if _FQCN.match(playbook):  # a collection playbook, run by its name as users do
            return playbook
        path = inputs / "playbook.yml"
        path.write_text(playbook, encoding="utf-8")
        return path

    @staticmethod
    def _inventory(inventory, inputs):
        if isinstance(inventory, Path):
            return inventory.resolve()
        if inventory is None:
            inventory = "localhost\n"
        if isinstance(inventory, dict):
            path = inputs / "inventory.json"  # JSON is YAML: the yaml inventory plugin reads it
            path.write_text(json.dumps(inventory), encoding="utf-8")
            return path
        path = inputs / ("inventory.yml" if inventory.lstrip().startswith(("all:", "---")) else "inventory.ini")
        path.write_text(inventory, encoding="utf-8")
        return path

    def _env(self, run_dir, temp, record_file, extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "TEXTILE_", "PYTEST_"))}
        env.update(
            {
                "ANSIBLE_COLLECTIONS_PATH": str(self.collections_path),
                "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
                "ANSIBLE_HOME": str(temp / "ansible_home"),
                "ANSIBLE_LOCAL_TEMP": str(temp / "local"),
                "ANSIBLE_REMOTE_TMP": str(temp / "remote"),
                "ANSIBLE_LOG_PATH": str(run_dir / "ansible.log"),
                "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
                "ANSIBLE_CALLBACKS_ENABLED": "textile_test_recorder",
                "ANSIBLE_STDOUT_CALLBACK": "default",
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "false",
                "ANSIBLE_HOST_KEY_CHECKING": "false",
                "TEXTILE_TEST_RECORD_FILE": str(record_file),
            }
        )
        for key, value in (extra or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = str(value)
        return env

    @staticmethod
    def _minted(result, mint_task):
        """The token the mint task returned (None when it did not run or returned none: the test's
        own assertions and ``expect_rc`` report that)."""
        if mint_task is None or mint_task not in result:
            return None
        return result[mint_task].get("token") or None

    def _check_secrets(self, result, mint_task, minted, paths, skip):
        hits = []
        for value in self.secrets:
            label = self.secrets.redact(value)
            hits += ["%s in %s" % (label, where) for where in _places(value, result, paths, skip)]
        if minted is not None:
            label = "<minted token %s>" % token_id(minted)
            hits += ["%s in %s" % (label, where) for where in _places(minted, result, paths, skip, mint_task)]
        assert not hits, "secret found in the run's output:\n  " + "\n  ".join(hits)

    def _check_masks(self, result):
        found = []
        for entry in result.task_list:
            for key, value in _mask_fields(entry["result"]):
                if MASK in json.dumps(value, default=str):
                    found.append("task %r: %s" % (entry["task"], key))
        found += [
            "output line: %s" % line.strip()
            for line in result.output.splitlines()
            if MASK in line and ("[WARNING]" in line or "[DEPRECATION" in line)
        ]
        assert not found, "a secret was masked as %s in a message, warning or diff:\n  %s" % (
            MASK,
            "\n  ".join(self.secrets.redact(f) for f in found),
        )


def _mask_fields(result, prefix=""):
    """(key, value) of every message, warning, deprecation, error and diff in a result, loop items included."""
    for key in ("msg", "warnings", "deprecations", "diff", "exception", "error"):
        if key in result:
            yield prefix + key, result[key]
    for index, item in enumerate(result.get("results") or []):
        if isinstance(item, dict):
            yield from _mask_fields(item, "%sresults[%d]." % (prefix, index))


def _is_banner_of(banner, task):
    return task is not None and (banner == "TASK [%s]" % task or banner.startswith("TASK [%s] " % task))


def _places(value, result, paths, skip, allowed_task=None):
    """Where ``value`` occurs: stdout sections, stderr, recorded tasks, and files under ``paths``.

    With ``allowed_task``, occurrences inside that task's section of stdout and of ansible.log, and
    in its recorded result, are not reported (the one place a minted token may be shown).
    """
    yield from _text_places(value, result.stdout, "stdout", allowed_task)
    if value in result.stderr:
        yield "stderr"
    for entry in result.task_list:
        if entry["task"] != allowed_task and value in json.dumps(entry["result"], default=str):
            yield "recorded result of task %r" % entry["task"]
    for base in paths:
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            data = b"" if path in skip else path.read_bytes()
            if value.encode() not in data:
                continue
            if path.name == "ansible.log":
                text = "".join(
                    _LOG_PREFIX.sub("", line, count=1)
                    for line in data.decode("utf-8", "replace").splitlines(keepends=True)
                )
                yield from _text_places(value, text, "file %s" % path, allowed_task)
            else:
                yield "file %s" % path


def _text_places(value, text, name, allowed_task):
    for banner, section in _task_sections(text):
        if value in section and not _is_banner_of(banner, allowed_task):
            yield "%s section %r" % (name, banner or "(start)")


def playbook(tasks, hosts="localhost", **play_keys):
    """A one-play playbook (JSON, which YAML reads) running ``tasks`` without gathering facts."""
    play = {"hosts": hosts, "gather_facts": False}
    play.update(play_keys)
    play["tasks"] = list(tasks)
    return json.dumps([play], indent=1)


def module_task(name, options=None, module="textile_cafe_token", **task_keys):
    """A task calling ``textileio.textile.<module>`` with ``options``; ``api_url`` defaults to the var."""
    options = dict(options or {})
    options.setdefault("api_url", "{{ api_url }}")
    task = {"name": name, "textileio.textile." + module: options}
    task.update(task_keys)
    return task


def info_task(name, options=None, **task_keys):
    return module_task(name, options, module="textile_cafe_token_info", **task_keys)


def validates(sim, token, auth=None, verify=True):
    """Whether the simulator's validate endpoint accepts ``token`` (200), as a go-textile client sees it."""
    import requests  # pylint: disable=import-outside-toplevel

    answer = requests.get("%s/api/v0/tokens/%s" % (sim.url, token), auth=auth, verify=verify, timeout=30)
    assert answer.status_code in (200, 401), answer.status_code
    return answer.status_code == 200


# ---- fixtures ----------------------------------------------------------------------------------------------------


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "compat: fast representative subset, also run on the oldest supported ansible-core/Python line"
    )


@pytest.fixture(scope="session")
def collections_path(tmp_path_factory):
    return setup_collections_path(tmp_path_factory.mktemp("collections"))


@pytest.fixture
def secrets():
    return SecretRegistry()


@pytest.fixture
def new_token(secrets):
    def make(id_bytes=None, secret=None):
        return secrets.add(make_token(id_bytes, secret))

    return make


@pytest.fixture
def run_playbook(tmp_path, collections_path, secrets):
    return PlaybookRunner(tmp_path, collections_path, secrets)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The collection built into a tarball and installed from it: (tarball, collections path)."""
    base = tmp_path_factory.mktemp("packaged")
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", str(REPO_ROOT), "--output-path", str(base)],
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = next(base.glob("textileio-textile-*.tar.gz"))
    path = base / "collections"
    # --force: a copy found on sys.path (PYTHONPATH of the test run) must not count as installed
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "install", "--force", "-p", str(path), str(tarball)],
        check=True,
        capture_output=True,
        text=True,
    )
    assert (path / "ansible_collections" / "textileio" / "textile" / "MANIFEST.json").is_file()
    return tarball, path


# ---- the roles and playbooks -------------------------------------------------------------------------------------

CAFE_TOKENS_SHOW = "textileio.textile.cafe_tokens : Show the token IDs this run changed and the IDs stored on the cafe"
REPORT_PLAYBOOK = REPO_ROOT / "playbooks" / "report.yml"
REPORT_DRIFT = (
    "textileio.textile.cafe_token_report : "
    "Fail when the fleet drifts from the expected token IDs or a cafe could not be read"
)


def fleet(sims, hostvars=None, **group_vars):
    """A YAML inventory: group textile_cafes with one host cafeN per simulator (textile_api_url set)."""
    hosts = {}
    for number, sim in enumerate(sims, 1):
        name = "cafe%d" % number
        hosts[name] = {"textile_api_url": sim.url}
        hosts[name].update((hostvars or {}).get(name, {}))
    return {"all": {"children": {"textile_cafes": {"hosts": hosts, "vars": group_vars}}}}


def fqcn_playbook(name):
    """A playbook that runs the collection playbook textileio.textile.<name> by its FQCN."""
    return "- name: Run textileio.textile.%s\n  ansible.builtin.import_playbook: textileio.textile.%s\n" % (name, name)


def api_requests(sim, method=None):
    return [(r["method"], r["path"]) for r in sim.control.requests() if method in (None, r["method"])]


def writes(sim):
    return [r for r in api_requests(sim) if r[0] != "GET"]


# ---- the report ----------------------------------------------------------------------------------------------------


def read_report(result, directory="textile-cafe-report"):
    base = result.run_dir / "work" / directory
    data = json.loads((base / "textile-cafe-report.json").read_text(encoding="utf-8"))
    page = (base / "textile-cafe-report.html").read_text(encoding="utf-8")
    return base, data, page


class Cells(HTMLParser):
    """The report page's tables as rows of ``(text, class)`` cells, keyed by table id (or class and position)."""

    def __init__(self):
        super().__init__()
        self.tables, self._key, self._row, self._cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._key = attrs.get("id") or "%s:%d" % (attrs.get("class"), len(self.tables))
            self.tables[self._key] = []
        elif tag == "tr" and self._key:
            self._row = []
            self.tables[self._key].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ([], set((attrs.get("class") or "").split()))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(("".join(self._cell[0]).strip(), self._cell[1]))
            self._cell = None
        elif tag == "table":
            self._key = self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0].append(data)


def cells(page):
    parser = Cells()
    parser.feed(page)
    return parser.tables


STATES = {"stored", "missing", "unexpected", "blank", "unknown"}


def matrix_states(tables):
    """``{id: [state of each cafe column]}`` from the matrix: the one state class of each cell, checked
    against the cell's text (a blank cell is empty)."""
    found = {}
    for row in tables["matrix"][1:]:
        states = []
        for text, classes in row[2:]:
            (state,) = classes & STATES
            assert text == ("" if state == "blank" else state)
            states.append(state)
        found[row[0][0]] = states
    return found


# ---- the README ----------------------------------------------------------------------------------------------------

README = REPO_ROOT / "README.md"

MOBILE_APP_ID = "a7d0589658d9f2a58c647400"  # the README's client "we do not manage", labelled "mobile app"

DEPARTED_ID = "0f1e2d3c4b5a69788796a5b4"  # the README's client that left

ACCOUNT = "P4readmeTestAccountAddress"

# The IDs of the fleet's tokens: the README's drift.yml expects them (textile_drift_expected_ids).
FLEET_IDS = ("5d1c3b2a4e6f708192a3b4c5", "9e8d7c6b5a4f3e2d1c0b0a99")


def code_blocks(path, *languages):
    """The fenced code blocks of a Markdown file whose language is one of ``languages``, in order."""
    found = re.findall(r"^```([a-z]*)\n(.*?)^```$", path.read_text(encoding="utf-8"), re.M | re.S)
    return [text for language, text in found if language in languages]


def yaml_block(start):
    """The README's YAML block that starts with ``start``."""
    (block,) = [b for b in code_blocks(README, "yaml") if b.startswith(start)]
    return block


def tarball_block():
    """The README's EE file of the tarball form, parsed, and the tarball's file name it expects beside it."""
    definition = yaml.safe_load(yaml_block("# execution-environment.yml, the collection from"))
    (extra,) = definition["additional_build_files"]
    return definition, extra["src"]


def shell_commands(path):
    """Every command line of the shell blocks of ``path``, without comments."""
    lines = []
    for block in code_blocks(path, "bash", "sh", "shell", "console"):
        for line in re.sub(r"\s*\\\n\s*", " ", block).splitlines():  # a line ending in \ goes on on the next one
            line = line.split("  #")[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


@pytest.fixture
def site(tmp_path, sim_factory, secrets, new_token):
    """A directory as the README lays it out, with two simulated cafes behind Basic Auth.

    ``inventory.yml`` is the README's; ``group_vars/textile_cafes/vault.yml`` holds the ``vault_*`` variables,
    encrypted; ``test-connections.yml`` points each cafe host at its simulator.
    """
    base = tmp_path / "site"
    (base / "group_vars" / "textile_cafes").mkdir(parents=True)
    pin = secrets.add("readme-daemon-pin-%s" % token_id(new_token())[:8])
    cafes = {
        "cafe-eu-1": sim_factory(username=ACCOUNT, password=pin),
        "cafe-us-1": sim_factory(username=ACCOUNT, password=pin),
    }
    tokens = SimpleNamespace(
        fleet=[new_token(id_bytes=bytes.fromhex(fleet_id)) for fleet_id in FLEET_IDS],
        retired=[new_token()],
        departed=new_token(),
        mobile=new_token(id_bytes=bytes.fromhex(MOBILE_APP_ID)),
        client_gone=new_token(id_bytes=bytes.fromhex(DEPARTED_ID)),
    )
    inventory = base / "inventory.yml"
    inventory.write_text(yaml_block("# inventory.yml"), encoding="utf-8")
    password_file = base / "vault-password"
    password_file.write_text(secrets.add("readme-vault-password-%s" % token_id(new_token())[:8]), encoding="utf-8")
    vault = base / "group_vars" / "textile_cafes" / "vault.yml"
    vault.write_text(
        yaml.safe_dump(
            {
                "vault_textile_account_address": ACCOUNT,
                "vault_textile_pin": pin,
                "vault_textile_fleet_tokens": tokens.fleet,
                "vault_textile_retired_tokens": tokens.retired,
                "vault_departed_token": tokens.departed,
            }
        ),
        encoding="utf-8",
    )
    subprocess.run(
        [str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(password_file), str(vault)],
        check=True,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert vault.read_text(encoding="utf-8").startswith("$ANSIBLE_VAULT;")
    connections = base / "test-connections.yml"
    connections.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        "textile_cafes": {
                            "hosts": {
                                name: {"textile_api_url": sim.url, "ansible_connection": "local"}
                                for name, sim in cafes.items()
                            }
                        }
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    return SimpleNamespace(
        base=base,
        inventory=inventory,
        cafes=cafes,
        tokens=tokens,
        connections=["-i", str(connections)],
        vault=["--vault-password-file", str(password_file)],
        args=["-i", str(connections), "--vault-password-file", str(password_file)],
    )


# ---- the reliability suite ------------------------------------------------------------------------------------------

INFO_MODULE = "textile_cafe_token_info"
# Pipelining sends each module over the local connection's stdin: fewer processes per task, same module run.
FAST = {"ANSIBLE_PIPELINING": "true"}


def attempt(name, module="textile_cafe_token", **options):
    """A module task whose failure is recorded for the test to judge instead of ending the play."""
    return module_task(name, options, module=module, ignore_errors=True)


def count(requests, method, path=None):
    """How many requests of the simulator's log used ``method`` (and ``path``, when given)."""
    return sum(1 for r in requests if r["method"] == method and (path is None or r["path"] == path))
