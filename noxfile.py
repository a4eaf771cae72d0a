"""The gates of textileio.textile as nox sessions: `nox --list` names them, `nox -e NAME` runs one.

scripts/test.sh (the README's test command, and CI's) sets up nox and runs every session, two at a time.

- antsibull-nox.toml configures the sessions that antsibull-nox provides (lint, docs-check, license-check,
  extra-checks, build-import-check, ansible-lint); nox installs their tools into venvs of their own.
- The sessions below run on the project's test lines, the venvs that scripts/venv.sh builds and caches:
  compat (ansible-core 2.19, Python 3.11), 2.20 (3.12), main (2.21, 3.12) and 2.22 (3.13). ansible-test runs
  in a copy of the tracked files (it needs a real ansible_collections/textileio/textile directory) with
  --python, on the host: antsibull-nox's own ansible-test sessions want containers and ansible-core from git.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import nox

try:
    import antsibull_nox
except ImportError:
    raise SystemExit(
        "noxfile.py needs antsibull-nox next to nox: run scripts/test.sh, or install scripts/requirements-nox.txt"
    ) from None

ROOT = Path(__file__).resolve().parent
CACHE = Path(
    os.environ.get("TEXTILE_VENV_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "textileio-textile"
)
CONSTRAINTS = "scripts/constraints-nox-sessions.txt"

# Session venvs (antsibull-nox's sessions) live with the line venvs and are reused: a warm run installs
# nothing (pip finds every pinned tool already there). Every session may run next to another one.
nox.options.envdir = str(CACHE / "nox-sessions")
nox.options.reuse_venv = "yes"
nox.options.allow_parallel = True

# The test lines: name given to scripts/venv.sh -> (ansible-core, Python).
LINES = {
    "compat": ("2.19", "3.11"),
    "2.20": ("2.20", "3.12"),
    "main": ("2.21", "3.12"),
    "2.22": ("2.22", "3.13"),
}
LINE_OF_CORE = {core: line for line, (core, _python) in LINES.items()}


# ---- helpers ------------------------------------------------------------------------------------------------


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


def processes_naming(marker: str) -> list[int]:
    """The PIDs of the processes whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:  # ended meanwhile
                continue
            if marker.encode() in cmdline:
                found.append(int(entry.name))
    return found


def stop_processes_naming(session: nox.Session, marker: str) -> list[int]:
    """Stop (SIGTERM) the processes that a session's run left running, found by ``marker`` in their command line;
    return their PIDs."""
    left = processes_naming(marker)
    for pid in left:
        session.warn(f"stopping PID {pid}, which the run started and left running")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    return left


def ensure_debian_package(session: nox.Session, package: str, *commands: str) -> bool:
    """Make one of ``commands`` available, installing Debian's ``package`` when running as root.

    Returns False (after a warning) when it is missing and cannot be installed: the tests that need it skip.
    """
    if any(shutil.which(command) for command in commands):
        return True
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        session.warn(
            f"{commands[0]} is missing and cannot be installed here (not root, or no apt-get): "
            "the tests that need it skip"
        )
        return False
    CACHE.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-qq", "-o", "DPkg::Lock::Timeout=600", package]
    with open(CACHE / "apt.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one apt-get at a time among parallel sessions
        if not any(shutil.which(command) for command in commands):
            session.log(f"installing Debian's {package} with apt-get")
            quiet = {
                "stdin": subprocess.DEVNULL,
                "stdout": subprocess.DEVNULL,
                "stderr": subprocess.DEVNULL,
                "env": env,
            }
            if subprocess.run(install, check=False, **quiet).returncode != 0:
                subprocess.run(["apt-get", "update", "-qq", "-o", "DPkg::Lock::Timeout=600"], check=False, **quiet)
                subprocess.run(install, check=False, **quiet)
    if any(shutil.which(command) for command in commands):
        return True
    session.warn(f"apt-get could not install {package}: the tests that need {commands[0]} skip")
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
    python = LINES[LINE_OF_CORE[core]][1]
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


# ---- sessions on the test lines, longest first (two run at a time, in this order) ------------------------------


@nox.session(name="pytest-scenarios-2.21", python=False, tags=["pytest", "2.21"])
def pytest_scenarios_main(session: nox.Session) -> None:
    """pytest tests/scenarios -n 2: real ansible-playbook runs against the simulator (ansible-core 2.21)."""
    ensure_debian_package(session, "chromium", "chromium", "chromium-browser")  # the report's browser test
    run_pytest(session, "2.21", "-n", "2", "tests/scenarios")


@nox.session(name="pytest-reliability-2.21", python=False, tags=["pytest", "2.21"])
def pytest_reliability(session: nox.Session) -> None:
    """pytest tests/reliability -n 2: faults, load, TLS, bad input, token format properties."""
    run_pytest(session, "2.21", "-n", "2", "tests/reliability")


def add_sanity_session(core: str, *args: str) -> None:
    def sanity(session: nox.Session) -> None:
        ensure_debian_package(session, "shellcheck", "shellcheck")  # its sanity test skips without it
        run_ansible_test(session, core, "sanity", *args)

    sanity.__doc__ = f"ansible-test sanity --python {LINES[LINE_OF_CORE[core]][1]} (ansible-core {core})"
    if args:
        sanity.__doc__ += " " + " ".join(args)
    nox.session(name=f"sanity-{core}", python=False, tags=["sanity", core])(sanity)


def add_units_session(core: str) -> None:
    def units(session: nox.Session) -> None:
        run_ansible_test(session, core, "units")

    units.__doc__ = f"ansible-test units --python {LINES[LINE_OF_CORE[core]][1]} (ansible-core {core})"
    nox.session(name=f"units-{core}", python=False, tags=["units", core])(units)


add_sanity_session("2.21")
# 2.22.0rc1's ansible-test pins pylint's dill to an archive on GitHub, which this machine cannot reach; pylint
# runs on the 2.19, 2.20 and 2.21 lines. Drop the skip when 2.22.0 pins dill from PyPI.
add_sanity_session("2.22", "--skip-test", "pylint")
add_sanity_session("2.19")
add_sanity_session("2.20")
add_units_session("2.21")
add_units_session("2.20")


def add_integration_session(core: str) -> None:
    def integration(session: nox.Session) -> None:
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
        summary = [
            line for line in text.splitlines() if re.match(r"Running \S+ integration test role|testhost +:", line)
        ]
        session.log("\n".join(summary))
        if not summary:
            session.error("ansible-test ran no target")
        if leaked:
            session.error("a token of the targets is in ansible-test's output (above)")
        session.log(f"none of the {len(tokens)} tokens of the targets is in ansible-test's output (-v)")

    integration.__doc__ = (
        f"ansible-test integration --local --python {LINES[LINE_OF_CORE[core]][1]} (ansible-core {core}): "
        "tests/integration/targets against the simulator"
    )
    nox.session(name=f"integration-{core}", python=False, tags=["integration", core])(integration)


add_integration_session("2.21")
add_integration_session("2.19")


@nox.session(name="pytest-scenarios-2.19", python=False, tags=["pytest", "2.19"])
def pytest_scenarios_compat(session: nox.Session) -> None:
    """pytest tests/scenarios -n 2 -m compat on the oldest supported line (ansible-core 2.19, Python 3.11)."""
    # The tests marked compat (a quarter of the suite, one or more per test file) cost a fifth of the whole
    # suite's CPU time; the whole suite on this line too would take a cold run of every session past 15
    # minutes on 2 cores. pytest-scenarios-full-2.19 runs all of it.
    run_pytest(session, "2.19", "-n", "2", "-m", "compat", "tests/scenarios")


@nox.session(name="pytest-scenarios-full-2.19", python=False, tags=["2.19"], default=False)
def pytest_scenarios_compat_full(session: nox.Session) -> None:
    """pytest tests/scenarios -n 2, all of it, on ansible-core 2.19 (not in the default run)."""
    run_pytest(session, "2.19", "-n", "2", "tests/scenarios")


@nox.session(name="pytest-interop-2.21", python=False, tags=["pytest", "2.21"])
def pytest_interop(session: nox.Session) -> None:
    """pytest tests/interop: the npm client @textileio/js-http-client against the simulator (needs node)."""
    interop = ROOT / "tests" / "interop"
    if ensure_debian_package(session, "npm", "npm"):
        modules, lock = interop / "node_modules", interop / "package-lock.json"
        if not modules.is_dir() or lock.stat().st_mtime > modules.stat().st_mtime:
            with session.chdir(interop):
                session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
    run_pytest(session, "2.21", "tests/interop")


@nox.session(name="pytest-unit-2.21", python=False, tags=["pytest", "2.21"])
def pytest_unit_main(session: nox.Session) -> None:
    """pytest tests/unit (ansible-core 2.21, Python 3.12)."""
    # One process: some tests parametrize with random values, which pytest-xdist rejects.
    run_pytest(session, "2.21", "tests/unit")


@nox.session(name="pytest-unit-2.19", python=False, tags=["pytest", "2.19"])
def pytest_unit_compat(session: nox.Session) -> None:
    """pytest tests/unit on the oldest supported line (ansible-core 2.19, Python 3.11)."""
    run_pytest(session, "2.19", "tests/unit")


@nox.session(name="pytest-unit-2.22", python=False, tags=["pytest", "2.22"])
def pytest_unit_next(session: nox.Session) -> None:
    """pytest tests/unit on the newest line (ansible-core 2.22, Python 3.13), whose secrets API is real."""
    run_pytest(session, "2.22", "tests/unit")


# ---- Event-Driven Ansible: the drift source and the collection's rulebook under ansible-rulebook ---------------
# ansible-rulebook is on a line of its own (scripts/requirements-eda.txt: ansible-core 2.21, Python 3.12), so that
# its dependencies never change the main line. Its rule engine (drools_jpy) runs on Java 17. The source's unit
# tests are in tests/unit and run on every line; test_eda_rulebook.py skips where ansible-rulebook is missing.


@nox.session(name="pytest-eda-2.21", python=False, tags=["pytest", "2.21", "eda"])
def pytest_eda(session: nox.Session) -> None:
    """pytest tests/scenarios/test_eda_rulebook.py -n 2: the real ansible-rulebook (Java 17) against the simulator."""
    ensure_debian_package(session, "openjdk-17-jre-headless", "java")
    run_pytest(session, "2.21", "-n", "2", "tests/scenarios/test_eda_rulebook.py", line="eda")


# ---- the execution environment: an image built by ansible-builder with podman, the module run inside it -------
#
# tests/scenarios/test_execution_environment.py builds the README's execution environment (the tarball form) with
# ansible-builder and podman and runs the collection's provision playbook in it against a simulator; this
# session gives it what it needs. No registry is reachable here, so the base image is made locally: Debian
# bookworm by debootstrap, with a venv (EE_PYTHON) holding what an AWX base image holds (ansible-core,
# ansible-runner, dumb-init) and what ansible-builder's steps install (bindep, PyYAML, packaging, and the
# collection's requests and bcrypt), so that the build itself needs no network (it runs with --network=none).
# podman (with runc, and the nofile/nproc limits this container-in-a-container machine needs) and debootstrap
# come from Debian, so the session needs root; never Docker. Cached in CACHE/ee, keyed by a hash of the base
# image's inputs: the root file system as a tarball and podman's storage holding it as an image. A cold run
# (apt-get, debootstrap, pip, import) adds about 5 minutes to the warm run's one or two; an old tarball and
# image are removed when the inputs change. Everything the session starts it stops: the test removes its
# containers and image, and the session fails when a container is left.

EE_DIR = CACHE / "ee"
EE_PYTHON = "/opt/ee/bin/python3"
EE_BASE_RECIPE = {
    "suite": "bookworm",
    "mirror": "http://deb.debian.org/debian",
    "debian_packages": ["python3", "python3-venv", "ca-certificates"],
    "python_packages": [
        "ansible-core==2.19.14",  # the newest ansible-core that runs on bookworm's Python 3.11
        "ansible-runner==2.4.3",
        "dumb-init==1.2.5",
        "bindep==2.14.0",
        "PyYAML==6.0.4",
        "packaging==26.4",
        "requests==2.34.2",
        "bcrypt==5.0.0",
    ],
    "python": EE_PYTHON,
    "env": {
        "PATH": f"{Path(EE_PYTHON).parent}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
    },
}
EE_CONTAINERS_CONF = """\
# podman for the execution-environment session (noxfile.py): runc, the runtime it installs (crun is podman's
# default), and limits a container inside a container may set (runc fails setting podman's default nofile).
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
"""


def ee_podman_env() -> dict[str, str]:
    """CONTAINERS_CONF and CONTAINERS_STORAGE_CONF of the session's podman: its own storage, under EE_DIR."""
    EE_DIR.mkdir(parents=True, exist_ok=True)
    conf, storage = EE_DIR / "containers.conf", EE_DIR / "storage.conf"
    conf.write_text(EE_CONTAINERS_CONF, encoding="utf-8")
    storage.write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{EE_DIR / "storage"}"\nrunroot = "{EE_DIR / "run"}"\n',
        encoding="utf-8",
    )
    return {"CONTAINERS_CONF": str(conf), "CONTAINERS_STORAGE_CONF": str(storage)}


def podman(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``podman args`` with the session's configuration, its output captured; fails unless ``check`` is False."""
    done = subprocess.run(
        ["podman", *args],
        env=dict(os.environ, **env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    return done


def unmount_under(root: Path) -> None:
    """Unmount what a failed debootstrap left mounted under ``root`` (deepest first), before it is removed."""
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text(encoding="utf-8").splitlines()]
    for point in sorted((m for m in mounts if m == str(root) or m.startswith(f"{root}/")), reverse=True):
        subprocess.run(["umount", "-l", point], check=False)


def make_ee_root_tarball(session: nox.Session, tarball: Path) -> None:
    """debootstrap EE_BASE_RECIPE's Debian, add the venv with its Python packages, and tar it to ``tarball``."""
    recipe = EE_BASE_RECIPE
    work = Path(tempfile.mkdtemp(prefix="root-", dir=EE_DIR))
    root = work / "root"
    try:
        session.log(f"debootstrap {recipe['suite']} from {recipe['mirror']} (a cold run's longest step)")
        with open(work / "debootstrap.log", "w", encoding="utf-8") as log:
            done = subprocess.run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(recipe['debian_packages'])}",
                    recipe["suite"],
                    str(root),
                    recipe["mirror"],
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if done.returncode != 0:
            tail = (work / "debootstrap.log").read_text(encoding="utf-8", errors="replace")[-3000:]
            session.error(f"debootstrap failed (exit {done.returncode}):\n{tail}")
        # pip in the chroot reaches PyPI as the host does: its DNS, proxies and CA bundle (a TLS-inspecting proxy
        # has its own CA there), removed again before the image is made.
        shutil.copyfile("/etc/resolv.conf", root / "etc" / "resolv.conf")
        bundle = next(
            (
                Path(p)
                for p in (os.environ.get("PIP_CERT"), "/etc/ssl/certs/ca-certificates.crt")
                if p and Path(p).is_file()
            ),
            None,
        )
        cert = []
        if bundle:
            shutil.copyfile(bundle, root / "tmp" / "host-ca.pem")
            cert = ["--cert", "/tmp/host-ca.pem"]
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
        env.update({k: v for k, v in os.environ.items() if k.lower() in ("http_proxy", "https_proxy", "no_proxy")})
        venv = str(Path(recipe["python"]).parent.parent)
        session.log(f"a venv in {venv} with {', '.join(recipe['python_packages'])}")
        for command in (
            ["python3", "-m", "venv", venv],
            [recipe["python"], "-m", "pip", "install", "-q", "--no-cache-dir", "--disable-pip-version-check", *cert]
            + recipe["python_packages"],
        ):
            chrooted = subprocess.run(["chroot", str(root), *command], env=env, stdin=subprocess.DEVNULL, check=False)
            if chrooted.returncode != 0:
                session.error(f"in the base image's root: {' '.join(command)} failed (its output is above)")
        (root / "tmp" / "host-ca.pem").unlink(missing_ok=True)
        (root / "etc" / "resolv.conf").write_text("", encoding="utf-8")
        for leftover in ("var/lib/apt/lists", "var/cache/apt/archives"):
            for path in (root / leftover).glob("*"):
                if path.is_file():
                    path.unlink()
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."], check=True)
        partial.rename(tarball)
    finally:
        unmount_under(root)
        shutil.rmtree(work, ignore_errors=True)


def ensure_ee_base_image(session: nox.Session, env: dict[str, str]) -> str:
    """The base image of EE_BASE_RECIPE in the session's podman storage: reused, imported from the cached
    tarball, or made (and cached) first. Images and tarballs of other recipes are removed."""
    key = hashlib.sha256(json.dumps(EE_BASE_RECIPE, sort_keys=True).encode()).hexdigest()[:12]
    image = f"localhost/textile-ee-base:{key}"
    tarball = EE_DIR / f"base-{key}.tar"
    for old in [*EE_DIR.glob("base-*.tar"), *EE_DIR.glob("base-*.partial")]:
        if old != tarball:
            old.unlink()
    for old in EE_DIR.glob("root-*"):  # what an interrupted make_ee_root_tarball left
        unmount_under(old / "root")
        shutil.rmtree(old, ignore_errors=True)
    listed = podman(env, "images", "--format", "{{.Repository}}:{{.Tag}}", "localhost/textile-ee-base").stdout
    for old in listed.split():
        if old != image:
            podman(env, "rmi", "--force", old, check=False)
    if podman(env, "image", "exists", image, check=False).returncode == 0:
        session.log(f"base image {image}: cached")
        return image
    if not tarball.is_file():
        make_ee_root_tarball(session, tarball)
    session.log(f"podman import {tarball.name} as {image}")
    changes = [f"ENV {name}={value}" for name, value in EE_BASE_RECIPE["env"].items()] + ['CMD ["/bin/bash"]']
    podman(env, "import", *[arg for change in changes for arg in ("--change", change)], str(tarball), image)
    return image


@nox.session(name="execution-environment", python=False, tags=["build", "2.21"])
def execution_environment(session: nox.Session) -> None:
    """ansible-builder builds the README's execution environment with podman; the module runs in it."""
    for package, command in (("podman", "podman"), ("runc", "runc"), ("debootstrap", "debootstrap")):
        if not ensure_debian_package(session, package, command):
            session.skip(f"{command} is needed to build and run the execution environment")
    if os.geteuid() != 0:
        session.skip("making the base image (debootstrap, chroot) needs root")
    env = ee_podman_env()
    with open(EE_DIR / "session.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one run at a time in the shared podman storage
        image = ensure_ee_base_image(session, env)
        try:
            run_pytest(
                session,
                "2.21",
                "tests/scenarios/test_execution_environment.py",
                env=dict(env, TEXTILE_EE_BASE_IMAGE=image, TEXTILE_EE_PYTHON=EE_PYTHON),
            )
        finally:
            # --external: a build's working containers too, left when a build was interrupted
            left = podman(env, "ps", "--all", "--external", "--format", "{{.Names}}").stdout.split()
            for name in left:
                podman(env, "rm", "--force", name, check=False)
            podman(env, "image", "prune", "--force", check=False)  # the build's intermediate images
            unmount_under(EE_DIR / "storage")  # the overlay driver's own mount, should one be left
        if left:
            session.error(f"containers were left behind (now removed): {', '.join(left)}")


# ---- the docs site ---------------------------------------------------------------------------------------------


@nox.session(name="docs-site", tags=["build", "2.21"])
def docs_site(session: nox.Session) -> None:
    """docs/site/build.sh (antsibull-docs and Sphinx, offline, -W), then its pages checked in headless Chromium."""
    session.install("-r", "docs/site/requirements.txt", "ansible-core", "-c", CONSTRAINTS)
    ensure_debian_package(session, "chromium", "chromium", "chromium-browser")  # tests/docsite
    site = ROOT / "docs" / "site"
    with temporary_directory("docs-site") as base:
        # antsibull-docs --use-current documents the collection that ansible-galaxy finds: a copy of the
        # tracked files, so that what is documented is what would be built, and nothing else is found.
        copy_collection(base)
        collections = {"ANSIBLE_COLLECTIONS_PATH": str(base), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false"}
        session.run("bash", str(site / "build.sh"), env=collections, external=True)
        html = site / "build" / "html"
        session.log(f"the docs site: {html / 'index.html'}")
        run_pytest(session, "2.21", "tests/docsite", env=dict(collections, TEXTILE_DOCSITE_HTML=str(html)))


# ---- antsibull-nox's sessions (antsibull-nox.toml) ---------------------------------------------------------

antsibull_nox.load_antsibull_nox_toml()


def fail_on_galaxy_importer_errors() -> None:
    """Make build-import-check fail when galaxy-importer logs an error.

    galaxy-importer exits 0 even when the import failed or a step crashed; antsibull-nox then only warns
    ("Galaxy importer emitted the following non-fatal error"). Here any such warning fails the session.
    """
    registered = nox.registry.get()["build-import-check"]
    run = registered.func

    def strict(session: nox.Session) -> None:
        errors = []
        warn = nox.Session.warn  # Session has __slots__: patch the class while this session runs

        def record(self, *args, **kwargs):
            if args and "Galaxy importer emitted" in str(args[0]):
                errors.append(str(args[0]))
            warn(self, *args, **kwargs)

        nox.Session.warn = record
        try:
            run(session)
        finally:
            nox.Session.warn = warn
        if errors:
            session.error("galaxy-importer reported errors (listed above)")

    strict.__doc__ = run.__doc__
    registered.func = strict


fail_on_galaxy_importer_errors()


def isolate_molecule() -> None:
    """Run antsibull-nox's molecule session in an ANSIBLE_HOME of its own, then check what it left behind.

    molecule keeps each scenario's ephemeral directory (its inventory and state, and here the simulator's PID,
    port and database) in ANSIBLE_HOME/tmp, under a name made of the project directory's name ("extensions")
    and the scenario's: the same path for every clone and every run. A temporary ANSIBLE_HOME keeps parallel
    runs apart and puts nothing into ~/.ansible. ansible writes every playbook run to a log there; afterwards
    the session fails when a token of the scenarios' inventories appears in it, or when a simulator that a
    scenario started still runs (its cleanup failed: the session stops it).
    """
    registered = nox.registry.get()["molecule"]
    run = registered.func

    def isolated(session: nox.Session) -> None:
        tokens = test_tokens("extensions/molecule/*/inventory/*.yml")
        with temporary_directory("molecule") as home:
            log = home / "ansible.log"
            session.env.update(ANSIBLE_HOME=str(home), ANSIBLE_LOG_PATH=str(log))
            try:
                run(session)
            finally:
                left = stop_processes_naming(session, str(home))
            text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        if left:
            session.error(f"a scenario's cleanup left processes running: PIDs {left}")
        if "PLAY RECAP" not in text:
            session.error("ansible's log of the scenarios is empty: the secret scan would have seen nothing")
        if not tokens:
            session.error("no token in extensions/molecule/*/inventory/: the secret scan would look for nothing")
        leaked = leaked_tokens(tokens, text)
        if leaked:
            session.error(f"ansible's log holds a token of {', '.join(leaked)} (the value is not shown)")
        session.log(f"none of the {len(tokens)} tokens of the scenarios is in ansible's log; no process left running")

    isolated.__doc__ = "molecule test of every scenario in extensions/molecule (antsibull-nox's session, isolated)."
    registered.func = isolated
    registered.__doc__ = isolated.__doc__  # what nox --list shows


isolate_molecule()


# ---- short sessions, last -----------------------------------------------------------------------------------


@nox.session(name="pytest-scenarios-2.22", python=False, tags=["pytest", "2.22"])
def pytest_scenarios_next(session: nox.Session) -> None:
    """The secrets API in real ansible-playbook runs (ansible-core 2.22): a minted and a vaulted token."""
    # The rest of tests/scenarios passes on 2.22 too, except three mint tests whose harness reads the minted
    # token from the recorded task result, which 2.22 masks.
    run_pytest(session, "2.22", "tests/scenarios/test_secrets_api.py")


@nox.session(name="ansible-doc", python=False, tags=["build", "2.21"])
def ansible_doc(session: nox.Session) -> None:
    """ansible-galaxy collection build and install, then ansible-doc of every module, filter and role."""
    venv = line_venv(session, "2.21")
    env = venv_env(venv)
    with temporary_directory("ansible-doc") as base:
        copy = copy_collection(base / "source")
        with session.chdir(copy):
            session.run(
                str(venv / "bin" / "ansible-galaxy"),
                "collection",
                "build",
                "--output-path",
                str(base / "dist"),
                env=env,
                external=True,
            )
        tarball = next((base / "dist").glob("textileio-textile-*.tar.gz"))
        installed = base / "installed"
        session.run(
            str(venv / "bin" / "ansible-galaxy"),
            "collection",
            "install",
            "-p",
            str(installed),
            str(tarball),
            env=dict(env, ANSIBLE_COLLECTIONS_PATH=str(installed)),
            external=True,
        )
        collection = installed / "ansible_collections" / "textileio" / "textile"
        plugins = [
            ("module", path.stem)
            for path in sorted((collection / "plugins" / "modules").glob("*.py"))
            if not path.stem.startswith("_")
        ]
        plugins += [("filter", path.stem) for path in sorted((collection / "plugins" / "filter").glob("*.yml"))]
        plugins += [
            ("role", path.parent.parent.name) for path in sorted(collection.glob("roles/*/meta/argument_specs.yml"))
        ]
        # From a directory outside any collection, so only the installed copy can answer.
        doc_env = dict(env, ANSIBLE_COLLECTIONS_PATH=str(installed), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
        failed = []
        with session.chdir(installed):
            for kind, name in plugins:
                done = subprocess.run(
                    [str(venv / "bin" / "ansible-doc"), "-t", kind, f"textileio.textile.{name}"],
                    env=dict(os.environ, **doc_env),
                    capture_output=True,
                    text=True,
                    check=False,
                )
                # ansible-core 2.21 warns about its own internal collection when documenting roles.
                errors = [
                    line
                    for line in done.stderr.splitlines()
                    if "_protomatter' does not have a MANIFEST.json" not in line
                ]
                if done.returncode != 0 or not done.stdout.strip() or errors:
                    failed.append(name)
                    session.warn(
                        f"ansible-doc -t {kind} textileio.textile.{name}: FAILED (exit {done.returncode})\n"
                        + "\n".join(errors)
                    )
                else:
                    session.log(f"ansible-doc -t {kind} textileio.textile.{name}: ok")
        if not plugins or failed:
            session.error(f"ansible-doc failed for {', '.join(failed) or 'nothing found to document'}")


@nox.session(name="typing-plugins", tags=["lint"])
def typing_plugins(session: nox.Session) -> None:
    """mypy of plugins/ and the event source (mypy.ini: every function typed), with ansible-core, requests and
    bcrypt installed."""
    session.install("mypy", "ansible-core", "requests", "types-requests", "bcrypt", "-c", CONSTRAINTS)
    with temporary_directory("typing") as base:
        link = base / "ansible_collections" / "textileio" / "textile"
        link.parent.mkdir(parents=True)
        link.symlink_to(ROOT, target_is_directory=True)
        with session.chdir(base):
            session.run(
                "mypy",
                "--config-file",
                str(ROOT / "mypy.ini"),
                "--namespace-packages",
                "--explicit-package-bases",
                "ansible_collections/textileio/textile/plugins",
                "ansible_collections/textileio/textile/extensions/eda/plugins/event_source",
                env={"MYPYPATH": str(base)},
            )


@nox.session(name="changelog-lint", tags=["lint"])
def changelog_lint(session: nox.Session) -> None:
    """antsibull-changelog lint: the changelog fragments and changelogs/changelog.yaml."""
    session.install("antsibull-changelog", "-c", CONSTRAINTS)
    session.run("antsibull-changelog", "lint")


@nox.session(name="sanity-ignores", python=False, tags=["sanity"])
def sanity_ignores(session: nox.Session) -> None:
    """No entry in tests/sanity/ignore-*.txt: sanity is clean without ignores."""
    entries = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted(ROOT.glob("tests/sanity/ignore-*.txt"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if entries:
        session.error("sanity ignore entries are not allowed; fix the code instead:\n" + "\n".join(entries))
    session.log("no ignore entries under tests/sanity")
