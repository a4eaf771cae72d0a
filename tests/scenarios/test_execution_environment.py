# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real execution environment: the README's EE file (the tarball form) built by ansible-builder with podman,
and the collection's provision playbook run inside the image against a simulated cafe.

Run by the ``execution-environment`` nox session, which installs podman, runc and debootstrap, makes the base
image (Debian bookworm with a venv Python, no registry being reachable) and names it in TEXTILE_EE_BASE_IMAGE,
with its Python in TEXTILE_EE_PYTHON and podman's configuration in CONTAINERS_CONF and CONTAINERS_STORAGE_CONF.
The README's file is used as written except for what a Debian base needs (README: "On a base image without
dnf"). The build runs without network (everything it installs is in the base image already) and without
intermediate images (--layers=false: a third faster here, and nothing left to prune).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets as _random
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.textileio.textile.tests.scenarios.harness import REPO_ROOT, tarball_block, token_id

BASE_IMAGE = os.environ.get("TEXTILE_EE_BASE_IMAGE")
pytestmark = pytest.mark.skipif(
    not BASE_IMAGE,
    reason="the execution-environment nox session runs these (podman, and a base image made with debootstrap)",
)
BIN = Path(sys.executable).parent
USER = "ee-cafe-admin"


def podman(*args, timeout=600, check=True):
    done = subprocess.run(
        ["podman", *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert not check or done.returncode == 0, "podman %s: exit %d\n%s" % (args[0], done.returncode, done.stderr[-3000:])
    return done


@pytest.fixture(scope="module")
def ee_image(tmp_path_factory):
    """The README's tarball-form EE built into an image (removed afterwards, with the build's intermediate images)."""
    base = tmp_path_factory.mktemp("ee")
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", str(REPO_ROOT), "--output-path", str(base)],
        check=True,
        capture_output=True,
    )
    definition, tarball = tarball_block()
    assert (base / tarball).is_file()
    definition["images"]["base_image"]["name"] = BASE_IMAGE
    definition["dependencies"]["python_interpreter"] = {"python_path": os.environ["TEXTILE_EE_PYTHON"]}
    definition.setdefault("options", {})["package_manager_path"] = "/usr/bin/apt-get"
    definition.setdefault("build_arg_defaults", {})["PKGMGR_PRESERVE_CACHE"] = "always"
    (base / "execution-environment.yml").write_text(yaml.safe_dump(definition), encoding="utf-8")
    tag = "localhost/textile-ee-test:%s" % _random.token_hex(4)
    try:
        podman_args = "--network=none --layers=false"
        build = subprocess.run(
            [sys.executable, "-m", "ansible_builder", "build", "-f", "execution-environment.yml", "-c", "context"]
            + ["-t", tag, "--container-runtime", "podman", "-v", "2", "--extra-build-cli-args=" + podman_args],
            cwd=str(base),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert build.returncode == 0, build.stdout[-6000:] + build.stderr[-3000:]
        yield tag
    finally:
        podman("rmi", "--force", tag, check=False)


def run_in(image, *command, mounts=(), name=None):
    """``command`` in a throw-away container of ``image`` on the host's network (the simulator is on loopback)."""
    name = name or "textile-ee-%s" % _random.token_hex(4)
    volumes = [arg for source, target in mounts for arg in ("--volume", "%s:%s:ro" % (source, target))]
    try:
        return podman("run", "--rm", "--name", name, "--network", "host", *volumes, image, *command, check=False)
    finally:
        podman("rm", "--force", "--ignore", name, check=False)


def test_the_image_holds_the_collection_and_what_its_modules_need(ee_image):
    done = run_in(
        ee_image,
        "sh",
        "-c",
        "ansible-galaxy collection list textileio.textile && python3 -c 'import bcrypt, requests; print(\"imports ok\")'",
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"^# /usr/share/ansible/collections/ansible_collections$", done.stdout, re.M), done.stdout
    assert re.search(r"^textileio\.textile\s+1\.0\.0\s*$", done.stdout, re.M) and "imports ok" in done.stdout


def test_provision_converges_a_token_inside_the_image(ee_image, sim_factory, secrets, new_token, tmp_path):
    pin = _random.token_urlsafe(12)
    cafe = sim_factory(username=USER, password=pin)  # answers 401 to a request without the pin
    secrets.add(base64.b64encode(("%s:%s" % (USER, pin)).encode()).decode(), "<basic auth header>")
    token = new_token()
    project = tmp_path / "project"
    project.mkdir()
    project.chmod(0o755)  # the image runs as user 1000
    # As AWX runs a job there: the inventory, and the credential and the vaulted tokens as extra variables.
    inventory = {
        "textile_cafes": {
            "hosts": {"cafe1": {"textile_api_url": cafe.url}},
            "vars": {"ansible_connection": "local", "cafe_tokens_delegate_to": "localhost"},
        }
    }
    extravars = {"textile_api_username": USER, "textile_api_password": pin, "cafe_tokens_present": [token]}
    for name, data in (("inventory.json", inventory), ("extravars.json", extravars)):
        (project / name).write_text(json.dumps(data), encoding="utf-8")
        (project / name).chmod(0o644)
    job = ("ansible-playbook", "-i", "/runner/project/inventory.json", "-e", "@/runner/project/extravars.json")
    job += ("textileio.textile.provision",)

    first = run_in(ee_image, *job, mounts=[(project, "/runner/project")])
    assert first.returncode == 0, secrets.redact(first.stdout[-5000:] + first.stderr[-2000:])
    assert cafe.control.state_ids() == [token_id(token)]
    assert re.search(r"cafe1\s+: ok=\d+\s+changed=1\s", first.stdout), secrets.redact(first.stdout[-2000:])

    again = run_in(ee_image, *job, mounts=[(project, "/runner/project")])
    assert again.returncode == 0 and re.search(r"cafe1\s+: ok=\d+\s+changed=0\s", again.stdout)
    assert [(r["method"], r["path"]) for r in cafe.control.requests()][-1] == ("GET", "/api/v0/tokens")
    assert cafe.control.state_ids() == [token_id(token)]

    for run in (first, again):
        assert not [secrets.redact(v) for v in secrets if v in run.stdout + run.stderr]
    assert not podman("ps", "--all", "--quiet").stdout.strip()  # every container of the test is gone
