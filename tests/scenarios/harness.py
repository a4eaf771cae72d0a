# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Playbook integration harness: run real ansible-playbook against the simulator and check for leaks.

Used through the fixtures in conftest.py (``sim``, ``sim_factory``, ``secrets``, ``new_token``,
``run_playbook``, ``tls_ca``); the plain helpers (``make_token``, ``token_id``) can be imported too.

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
import secrets as _random
import subprocess
import sys
from pathlib import Path

import base58

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT / "tests" / "simulator") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "tests" / "simulator"))


CALLBACK_DIR = Path(__file__).resolve().parent / "callback_plugins"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
MASK = "********"
TOKEN_BYTES = 44
ID_BYTES = 12

# Task banners of the default stdout callback; text between two banners belongs to one task.
_BANNERS = ("PLAY [", "TASK [", "RUNNING HANDLER [", "PLAY RECAP")
# ansible.log prefixes each message with "<date> <time> p=<pid> u=<user> n=<logger> <level>| ".
_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d [^|]*\| ")
# A collection playbook's name, e.g. textileio.textile.provision.
_FQCN = re.compile(r"\A[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+\Z")


def make_token(id_bytes=None, secret=None):
    """A fresh go-textile token: base58 of 44 bytes (12-byte ID + 32-byte secret), random by default."""
    id_bytes = _random.token_bytes(ID_BYTES) if id_bytes is None else bytes(id_bytes)
    secret = _random.token_bytes(TOKEN_BYTES - ID_BYTES) if secret is None else bytes(secret)
    assert len(id_bytes) == ID_BYTES and len(secret) == TOKEN_BYTES - ID_BYTES
    return base58.b58encode(id_bytes + secret).decode("ascii")


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
