"""The project's test lines for nox sessions: the venvs of scripts/venv.sh, pytest from the work tree, and
ansible-test in a copy of the tracked files (it needs a real ansible_collections/textileio/textile directory),
with --python, on the host: antsibull-nox's own ansible-test sessions run it with --docker (no Docker here) and
ansible-core from PyPI or git rather than the lines' pinned venvs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(
    os.environ.get("TEXTILE_VENV_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "textileio-textile"
)
CONSTRAINTS = "scripts/constraints-nox-sessions.txt"

# The test line (scripts/venv.sh's name for it, which also holds its Python) of each ansible-core.
LINE_OF_CORE = {"2.19": "compat", "2.20": "2.20", "2.21": "main", "2.22": "2.22"}


def line_venv(session: nox.Session, core: str, line: str | None = None) -> Path:
    """The venv of the line with ansible-core ``core``, or of the named ``line`` (a line of its own on that core,
    such as eda), which scripts/venv.sh builds on first use."""
    line = line or LINE_OF_CORE[core]
    out = session.run(
        "bash",
        str(ROOT / "scripts" / "venv.sh"),
        line,
        silent=True,
        stderr=None,
        external=True,
        log=False,
    )
    venv = Path(str(out).strip().splitlines()[-1])
    session.log(f"ansible-core {core} line ({line}): {venv}")
    return venv


def venv_env(venv: Path, **extra: str) -> dict[str, str]:
    """Environment that puts ``venv`` first on PATH, as an activated venv does."""
    env = {"PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(venv)}
    env.update(extra)
    return env


@contextlib.contextmanager
def temporary_directory(prefix: str):
    path = Path(tempfile.mkdtemp(prefix=f"textile-nox-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def tracked_files() -> list[str]:
    """The files git tracks (staged new files included), as they are in the work tree."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [name for name in out.decode("utf-8", "surrogateescape").split("\0") if name and (ROOT / name).is_file()]


def copy_collection(base: Path) -> Path:
    """Copy the tracked files to ``base``/ansible_collections/textileio/textile; return that directory."""
    copy = base / "ansible_collections" / "textileio" / "textile"
    for name in tracked_files():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target, follow_symlinks=False)
    return copy


@contextlib.contextmanager
def collection_pythonpath():
    """A PYTHONPATH under which ``ansible_collections.textileio.textile`` is the work tree (for pytest)."""
    with temporary_directory("pythonpath") as base:
        link = base / "ansible_collections" / "textileio" / "textile"
        link.parent.mkdir(parents=True)
        link.symlink_to(ROOT, target_is_directory=True)
        yield str(base)


# A token's text (base58 of 44 bytes: 59 to 61 characters), as the test data of the Molecule scenarios and the
# ansible-test targets hold them.
TOKEN_TEXT = re.compile(r"(?<![1-9A-HJ-NP-Za-km-z])[1-9A-HJ-NP-Za-km-z]{55,64}(?![1-9A-HJ-NP-Za-km-z])")


def test_tokens(pattern: str) -> dict[str, Path]:
    """The tokens in the files matching ``pattern`` (under ROOT), each with the file it is in (for messages)."""
    return {
        token: path.relative_to(ROOT)
        for path in sorted(ROOT.glob(pattern))
        for token in TOKEN_TEXT.findall(path.read_text(encoding="utf-8"))
    }


def leaked_tokens(tokens: dict[str, Path], text: str) -> list[str]:
    """The files whose tokens appear in ``text`` (never the tokens themselves)."""
    return sorted({str(path) for token, path in tokens.items() if token in text})


def stop_processes_naming(session: nox.Session, marker: str) -> list[int]:
    """Stop (SIGTERM) the processes that a session's run left running, found by ``marker`` in their command line;
    return their PIDs."""
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True, check=False).stdout.split()
    left = [int(pid) for pid in found if int(pid) != os.getpid()]
    for pid in left:
        session.warn(f"stopping PID {pid}, which the run started and left running")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    return left


def ensure_debian_package(session: nox.Session, package: str, *commands: str) -> bool:
    """Make one of ``commands`` available, installing Debian's ``package`` (apt-get, as root; after an update when
    the first try fails). False, after a warning, when it cannot: the tests that need it skip."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "apt.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one apt-get at a time among parallel sessions
        for step in ("install", "update", "install"):
            if any(shutil.which(command) for command in commands) or os.geteuid() != 0 or not shutil.which("apt-get"):
                break
            what = [package] if step == "install" else []
            session.log(" ".join(["apt-get", step, *what]))
            apt = ["apt-get", step, "-y", "-qq", "-o", "DPkg::Lock::Timeout=600", *what]
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            done = subprocess.run(apt, env=env, capture_output=True, check=False)
            if step == "install" and done.returncode == 0:
                break
    if any(shutil.which(command) for command in commands):
        return True
    session.warn(
        f"{commands[0]} is missing and apt-get (as root) could not install {package}: the tests that need it skip"
    )
    return False


def install_get_pip_standin(venv: Path) -> None:
    """Put scripts/get_pip_standin.py where this line's ansible-test looks before downloading get-pip.py.

    ansible-test bootstraps pip into its sanity venvs from a host this machine cannot reach, unless
    ~/.ansible/test/cache/get_pip_<pip version>.py exists (24_2 for 2.19, 25_2 for 2.20 to 2.22).
    """
    requirements = next(venv.glob("lib/python3*/site-packages/ansible_test/_internal/python_requirements.py"))
    text = requirements.read_text(encoding="utf-8")
    marker = "pip='"
    version = text[text.index(marker) + len(marker) :].split("'", 1)[0]
    dest = Path.home() / ".ansible" / "test" / "cache" / f"get_pip_{version.replace('.', '_')}.py"
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists() or "get_pip_standin" in dest.read_text(encoding="utf-8"):
        shutil.copyfile(ROOT / "scripts" / "get_pip_standin.py", dest)


def run_pytest(
    session: nox.Session, core: str, *args: str, line: str | None = None, env: dict[str, str] | None = None
) -> None:
    """pytest in the line of ansible-core ``core`` (or the named ``line``), from the work tree, with ``env`` added;
    no tests collected fails."""
    venv = line_venv(session, core, line)
    with collection_pythonpath() as pythonpath, session.chdir(ROOT):
        session.run(
            str(venv / "bin" / "python"),
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            *args,
            *session.posargs,
            env=venv_env(venv, PYTHONPATH=pythonpath, **(env or {})),
            external=True,
        )


def run_ansible_test(
    session: nox.Session,
    core: str,
    command: str,
    *args: str,
    requirements: bool = True,
    output: Path | None = None,
) -> None:
    """ansible-test ``command`` of the line of ansible-core ``core``, with its Python, in a fresh copy, with
    --requirements unless told otherwise. With ``output``, what it prints goes to that file. Fails when a process
    whose command line names the copy still runs afterwards (and stops it)."""
    venv = line_venv(session, core)
    install_get_pip_standin(venv)
    python = re.search(r"^version = (\d+\.\d+)", (venv / "pyvenv.cfg").read_text(encoding="utf-8"), re.M)[1]
    with temporary_directory(f"{command}-{core}") as base:
        copy = copy_collection(base)
        with session.chdir(copy), open(output or os.devnull, "w", encoding="utf-8") as out:
            try:
                session.run(
                    str(venv / "bin" / "ansible-test"),
                    command,
                    "--python",
                    python,
                    "--color",
                    "no",
                    *(["--requirements"] if requirements else []),
                    *args,
                    *session.posargs,
                    env=venv_env(venv),
                    external=True,
                    **({"stdout": out, "stderr": subprocess.STDOUT} if output else {}),
                )
            finally:
                left = stop_processes_naming(session, str(base))
        if left:
            session.error(f"ansible-test {command} left processes running in its copy: PIDs {left}")


def run_sanity(session: nox.Session, core: str, *args: str) -> None:
    """ansible-test sanity of the line of ansible-core ``core`` (shellcheck installed first: its test skips without)."""
    ensure_debian_package(session, "shellcheck", "shellcheck")
    run_ansible_test(session, core, "sanity", *args)


def run_integration(session: nox.Session, core: str) -> None:
    """ansible-test integration --local of the line of ansible-core ``core``: the targets against the simulator,
    and no token of their vars in ansible-test's output (-v)."""
    # --local: the targets run in the line's venv, which holds all they need (ansible-core, requests and
    # bcrypt); without --requirements nothing is installed into that shared venv. --venv would build a venv
    # in every fresh copy and install ansible-core's requirements, requests and bcrypt from PyPI each run.
    # antsibull-nox's integration sessions need Docker.
    tokens = test_tokens("tests/integration/targets/*/vars/*.yml")
    if not tokens:
        session.error("no token in tests/integration/targets/*/vars/: the secret scan would look for nothing")
    with temporary_directory(f"integration-{core}-log") as logs:
        log = logs / "ansible-test.log"
        passed = False
        try:
            run_ansible_test(session, core, "integration", "--local", "-v", requirements=False, output=log)
            passed = True
        finally:
            text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
            leaked = leaked_tokens(tokens, text)
            if not passed:
                session.log(text)
            if leaked:
                session.warn(f"ansible-test's output holds a token of {', '.join(leaked)} (the value is not shown)")
    # -v shows every task's result: a passing run's output is long, so only its summary is shown.
    summary = [line for line in text.splitlines() if re.match(r"Running \S+ integration test role|testhost +:", line)]
    session.log("\n".join(summary))
    if not summary:
        session.error("ansible-test ran no target")
    if leaked:
        session.error("a token of the targets is in ansible-test's output (above)")
    session.log(f"none of the {len(tokens)} tokens of the targets is in ansible-test's output (-v)")
