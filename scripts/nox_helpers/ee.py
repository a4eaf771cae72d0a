"""The execution environment session's setup: an image built by ansible-builder with podman, the module run in it.

tests/scenarios/test_execution_environment.py builds the README's execution environment (the tarball form) with
ansible-builder and podman and runs the collection's provision playbook in it against a simulator; this
session gives it what it needs. No registry is reachable here, so the base image is made locally: Debian
bookworm by debootstrap, with a venv (EE_PYTHON) holding what an AWX base image holds (ansible-core,
ansible-runner, dumb-init) and what ansible-builder's steps install (bindep, PyYAML, packaging, and the
collection's requests and bcrypt), so that the build itself needs no network (it runs with --network=none).
podman (with runc, and the nofile/nproc limits this container-in-a-container machine needs) and debootstrap
come from Debian, so the session needs root; never Docker. Cached in CACHE/ee, keyed by a hash of the base
image's inputs: the root file system as a tarball and podman's storage holding it as an image. A cold run
(apt-get, debootstrap, pip, import) adds about 5 minutes to the warm run's one or two; an old tarball and
image are removed when the inputs change. Everything the session starts it stops: the test removes its
containers and image, and the session fails when a container is left.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import nox

from .lines import CACHE, ensure_debian_package, run_pytest

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
# podman for the execution-environment session (scripts/nox_helpers/ee.py): runc, the runtime it installs (crun is podman's
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


def run(session: nox.Session) -> None:
    """Make (or reuse) the base image, run tests/scenarios/test_execution_environment.py on the main line, then
    remove what the build left; fails when a container was left behind."""
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
