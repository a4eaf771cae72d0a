# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every YAML and shell block of the README, run as written against simulated cafes.

The README's inventory and playbooks are used verbatim. The test adds only what a README cannot know: a
vault (``group_vars/textile_cafes/vault.yml`` beside the inventory, encrypted with a password the test knows,
given with ``--vault-password-file`` where a person types it at ``--ask-vault-pass``) and a second inventory
source saying where the simulated cafes listen (the README's cafes run the modules on themselves, against
127.0.0.1:40600). Shell commands that cannot run here (Galaxy, a container build and push) are checked as far
as they can be, and ``SHELL_COMMANDS`` says why for each.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from ansible_collections.textileio.textile.tests.scenarios.harness import CAFE_TOKENS_SHOW as SHOW
from ansible_collections.textileio.textile.tests.scenarios.harness import (
    MOBILE_APP_ID,
    README,
    REPO_ROOT,
    code_blocks,
    ids_of,
    shell_commands,
    tarball_block,
    token_id,
    writes,
    yaml_block,
)

ROLE_READMES = sorted((REPO_ROOT / "roles").glob("*/README.md"))
BIN = Path(sys.executable).parent

# Every command line of the README's shell blocks, and which test runs or checks it.
SHELL_COMMANDS = {
    "scripts/test.sh": "test_the_test_command_lists_the_stages_the_readme_names: running every check from "
    "inside the suite would run the suite itself, so only its stage list is checked",
    "scripts/demo.sh": "tests/scenarios/test_playbooks_demo.py runs it from a fresh clone",
    "scripts/test.sh -e docs-site": "the test command's docs-site session is this command: it builds the site and "
    "runs tests/docsite/test_docsite_pages.py on it (test_the_test_command_lists_the_stages_the_readme_names "
    "checks that the stage exists)",
    "ansible-playbook -i inventory.yml --ask-vault-pass textileio.textile.provision": "test_the_three_jobs_as_shipped",
    "ansible-playbook -i inventory.yml --ask-vault-pass textileio.textile.decommission "
    "-e '{\"cafe_tokens_absent_ids\": [\"0f1e2d3c4b5a69788796a5b4\"]}'": "test_the_three_jobs_as_shipped",
    "ansible-playbook -i inventory.yml --ask-vault-pass textileio.textile.decommission "
    "-e textile_remove_all_tokens=true -e textile_cafe_hosts=cafe-us-1": "test_the_three_jobs_as_shipped",
    "ansible-playbook -i inventory.yml --ask-vault-pass textileio.textile.report": "test_the_three_jobs_as_shipped",
    "ansible-galaxy collection install textileio.textile": "test_install_commands: Galaxy cannot be reached "
    "here; the name is checked against galaxy.yml",
    "ansible-galaxy collection build": "test_install_commands",
    "ansible-galaxy collection install textileio-textile-1.0.0.tar.gz": "test_install_commands",
    "pip install ansible-builder": "test_execution_environment: the test needs ansible-builder installed "
    "(the main line's requirements bring it); no package is installed by a test",
    "ansible-builder build -t registry.example.org/textile-ee:1.0.0": (
        "test_execution_environment: ansible-builder create validates both files and writes the build context; "
        "tests/scenarios/test_execution_environment.py (the execution-environment session) builds the tarball "
        "form with podman on a local Debian base, the base image from quay.io being out of reach"
    ),
    "podman push registry.example.org/textile-ee:1.0.0": "test_execution_environment: no registry here; the "
    "pushed tag is checked to be the one built",
    "ansible-playbook -i inventory.yml --ask-vault-pass textileio.textile.rotate "
    "-e '{\"textile_rotate_old_ids\": [\"0f1e2d3c4b5a69788796a5b4\"], "
    "\"textile_rotate_token_file\": \"~/textile-rotation/fleet-2026-01.token\"}'": (
        "tests/scenarios/test_rotate.py::test_the_readme_rotation_examples_run_as_written"
    ),
    "ansible-rulebook -i inventory/ -r textileio.textile.token_drift --vars drift.yml": (
        "tests/scenarios/test_eda_rulebook.py::test_the_readme_rulebook_command_heals_a_cafe_as_written (needs "
        "ansible-rulebook: the pytest-eda-2.21 session)"
    ),
    "ansible-playbook -i inventory.yml --ask-vault-pass textileio.textile.rotate -e textile_rotate_retire=false "
    "-e '{\"textile_rotate_old_ids\": [\"0f1e2d3c4b5a69788796a5b4\"], "
    "\"textile_rotate_token_file\": \"~/textile-rotation/fleet-2026-01.token\"}'": (
        "tests/scenarios/test_rotate.py::test_the_readme_rotation_examples_run_as_written"
    ),
}


def run_shell_line(run_playbook, site, line, expect_rc=0):
    """Run one of the README's ansible-playbook lines: its inventory, playbook and -e as written."""
    argv = shlex.split(line)
    assert argv[0] == "ansible-playbook"
    inventory, playbook, extra, rest = None, None, list(site.connections), argv[1:]
    while rest:
        arg = rest.pop(0)
        if arg == "-i":
            inventory = site.base / rest.pop(0)
        elif arg == "-e":
            extra += ["-e", rest.pop(0)]
        elif arg == "--ask-vault-pass":
            extra += site.vault  # the password a person types, from a file (no terminal here)
        elif not arg.startswith("-") and playbook is None:
            playbook = arg
        else:
            raise AssertionError("the README's command has an argument this test does not know: %r" % arg)
    return run_playbook(playbook, inventory=inventory, args=extra, expect_rc=expect_rc)


def state(site):
    return {name: sim.control.state_ids() for name, sim in site.cafes.items()}


def seed_all(site, tokens):
    for sim in site.cafes.values():
        sim.control.seed(tokens)


def test_every_yaml_and_json_block_parses():
    blocks = code_blocks(README, "yaml")
    assert len(blocks) >= 4
    for block in blocks:
        assert yaml.safe_load(block), block[:80]
    for path in ROLE_READMES:
        for block in code_blocks(path, "yaml"):
            assert yaml.safe_load(block), (path, block[:80])
        for block in code_blocks(path, "json"):
            json.loads(block)


def test_every_shell_command_of_the_readmes_is_run_or_checked():
    commands = shell_commands(README)
    assert sorted(set(commands)) == sorted(SHELL_COMMANDS), "add a check for each new README command"
    for path in ROLE_READMES:
        assert shell_commands(path) == [], "%s: a shell command no test runs" % path


def test_the_quick_start_shows_the_demo_before_the_long_test_command():
    """A new user runs the first command first: the half-minute demo, then the test command that takes minutes."""
    assert shell_commands(README)[:2] == ["scripts/demo.sh", "scripts/test.sh"]
    # the first YAML block's title says what it targets: every cafe of the group, not one cafe
    (play,) = yaml.safe_load(code_blocks(README, "yaml")[0])
    assert play["hosts"] == "textile_cafes" and play["name"] == "Tokens of every cafe in textile_cafes"


def test_the_module_defaults_example_uses_each_hosts_api_url(site, run_playbook):
    """The README's first play: the per-host textile_api_url reaches the modules through module_defaults."""
    stray = site.tokens.departed
    seed_all(site, [site.tokens.mobile, stray])
    result = run_playbook(
        yaml_block("- name: Tokens of every cafe in textile_cafes"), inventory=site.inventory, args=site.args
    )
    expected = ids_of(site.tokens.fleet + [site.tokens.mobile])
    assert state(site) == {"cafe-eu-1": expected, "cafe-us-1": expected}
    for host, shown in result.host_results("Show what changed (IDs only)").items():
        assert shown["msg"] == "created %s, removed %s" % (ids_of(site.tokens.fleet), [token_id(stray)]), host


def test_the_three_jobs_as_shipped(site, run_playbook):
    provision, by_id, retire, report = [
        line
        for line in SHELL_COMMANDS
        if line.startswith("ansible-playbook") and "textileio.textile.rotate" not in line
    ]
    # A client left before the fleet's tokens went in: the decommission removes its ID and imports nothing,
    # although the inventory's group variables declare the fleet's tokens.
    seed_all(site, [site.tokens.client_gone])
    result = run_shell_line(run_playbook, site, by_id)
    assert state(site) == {"cafe-eu-1": [], "cafe-us-1": []}
    for sim in site.cafes.values():
        assert [method for method, _path in writes(sim)] == ["DELETE"]
    assert {h: r["msg"]["created_ids"] for h, r in result.host_results(SHOW).items()} == {
        "cafe-eu-1": [],
        "cafe-us-1": [],
    }

    run_shell_line(run_playbook, site, provision)
    assert state(site) == {"cafe-eu-1": ids_of(site.tokens.fleet), "cafe-us-1": ids_of(site.tokens.fleet)}

    run_shell_line(run_playbook, site, retire)  # only cafe-us-1
    assert state(site) == {"cafe-eu-1": ids_of(site.tokens.fleet), "cafe-us-1": []}

    result = run_shell_line(run_playbook, site, report)
    data = json.loads((result.run_dir / "work" / "textile-cafe-report" / "textile-cafe-report.json").read_text())
    assert data["summary"]["expected_ids"] == ids_of(site.tokens.fleet)
    assert data["summary"]["missing"] == {i: ["cafe-us-1"] for i in ids_of(site.tokens.fleet)}
    assert data["cafes"]["cafe-eu-1"]["ids"] == ids_of(site.tokens.fleet)


def test_the_playbooks_to_copy(site, run_playbook, tmp_path):
    plays = yaml.safe_load(yaml_block("# provision.yml"))
    files = {}
    for name, play in zip(("provision.yml", "decommission.yml", "report.yml"), plays):
        files[name] = tmp_path / name
        files[name].write_text(yaml.safe_dump([play], sort_keys=False), encoding="utf-8")

    # decommission.yml with the README's inventory, which declares the fleet's tokens for the group: zero imports
    seed_all(site, [site.tokens.client_gone, site.tokens.retired[0]])
    result = run_playbook(files["decommission.yml"], inventory=site.inventory, args=site.args)
    assert state(site) == {name: [token_id(site.tokens.retired[0])] for name in site.cafes}
    for sim in site.cafes.values():
        assert [method for method, _path in writes(sim)] == ["DELETE"]
    assert all(r["msg"]["created_ids"] == [] for r in result.host_results(SHOW).values())

    # provision.yml: the fleet's tokens in, the retired ones out
    run_playbook(files["provision.yml"], inventory=site.inventory, args=site.args)
    assert state(site) == {name: ids_of(site.tokens.fleet) for name in site.cafes}

    # report.yml: passes while the fleet matches, fails the job once it drifts, with the report written
    run_playbook(files["report.yml"], inventory=site.inventory, args=site.args)
    site.cafes["cafe-eu-1"].control.seed([site.tokens.mobile])
    drifted = run_playbook(files["report.yml"], inventory=site.inventory, args=site.args, expect_rc=2)
    base = drifted.run_dir / "work" / "textile-cafe-report"
    data = json.loads((base / "textile-cafe-report.json").read_text(encoding="utf-8"))
    assert data["summary"]["unexpected"] == {"cafe-eu-1": [MOBILE_APP_ID]}
    assert "mobile app" in (base / "textile-cafe-report.html").read_text(encoding="utf-8")


def test_install_commands(tmp_path):
    galaxy = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    # "ansible-galaxy collection install textileio.textile": the name users install from Galaxy is this one
    assert "%s.%s" % (galaxy["namespace"], galaxy["name"]) == "textileio.textile"
    # "ansible-galaxy collection build" in a copy of the repository (it writes into the current directory)
    copy = tmp_path / "textile"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=str(REPO_ROOT), check=True, capture_output=True, text=True
    ).stdout.split("\0")
    for name in filter(None, tracked):
        if (REPO_ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, copy / name)
    build = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build"], cwd=str(copy), check=True, capture_output=True, text=True
    )
    tarball = copy / "textileio-textile-1.0.0.tar.gz"
    assert galaxy["version"] == "1.0.0" and tarball.is_file(), build.stdout
    with tarfile.open(tarball) as archive:
        assert "playbooks/decommission.yml" in archive.getnames()
    # "ansible-galaxy collection install textileio-textile-1.0.0.tar.gz", and the requirements.yml form
    for argv in (["textileio-textile-1.0.0.tar.gz"], ["-r", "requirements.yml"]):
        (copy / "requirements.yml").write_text(
            "collections: [{name: ./textileio-textile-1.0.0.tar.gz, type: file}]\n", encoding="utf-8"
        )
        target = tmp_path / ("installed-%d" % len(argv))
        # without the test run's PYTHONPATH, where the collection is found already (and so not installed)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("ANSIBLE_")}
        subprocess.run(
            [str(BIN / "ansible-galaxy"), "collection", "install", *argv, "-p", str(target)],
            cwd=str(copy),
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        manifest = json.loads((target / "ansible_collections/textileio/textile/MANIFEST.json").read_text())
        assert manifest["collection_info"]["version"] == "1.0.0"


@pytest.mark.skipif(
    importlib.util.find_spec("ansible_builder") is None,
    reason="ansible-builder is not installed (the main line has it; `pip install ansible-builder`)",
)
def ansible_builder_create(directory, block):
    """``ansible-builder create`` of the EE file ``block`` in ``directory``: (Containerfile text, build context)."""
    (directory / "execution-environment.yml").write_text(block, encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "ansible_builder", "create", "-f", "execution-environment.yml", "-c", "context"],
        cwd=str(directory),
        check=True,
        capture_output=True,
        text=True,
    )
    containerfile = next(p for p in (directory / "context").iterdir() if p.name in ("Containerfile", "Dockerfile"))
    return containerfile.read_text(encoding="utf-8"), directory / "context" / "_build"


def test_execution_environment(tmp_path):
    block = yaml_block("version: 3")
    definition = yaml.safe_load(block)
    assert definition["dependencies"]["galaxy"]["collections"] == [{"name": "textileio.textile"}]
    containerfile, build = ansible_builder_create(tmp_path, block)
    assert "quay.io/ansible/awx-ee:latest" in containerfile
    requirements = yaml.safe_load((build / "requirements.yml").read_text())
    assert requirements["collections"] == [{"name": "textileio.textile"}]

    # The tarball form, beside the tarball "ansible-galaxy collection build" writes.
    tarball_dir = tmp_path / "tarball"
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", str(REPO_ROOT), "--output-path", str(tarball_dir)],
        check=True,
        capture_output=True,
    )
    _definition, tarball = tarball_block()
    assert (tarball_dir / tarball).is_file()  # the name the README gives is the name the build writes
    containerfile, build = ansible_builder_create(tarball_dir, yaml_block("# execution-environment.yml, the"))
    (requirement,) = yaml.safe_load((build / "requirements.yml").read_text())["collections"]
    # the galaxy step installs from /build, the build context's _build copied in: the tarball must be there
    assert (build / requirement["name"]).read_bytes() == (tarball_dir / tarball).read_bytes()
    assert requirement["type"] == "file"
    steps = containerfile.splitlines()
    install = next(i for i, step in enumerate(steps) if "ansible-galaxy collection install" in step)
    assert steps.index("COPY _build /build") < install and steps.index("WORKDIR /build") < install
    # the tag pushed is the tag built, and ansible-builder build takes -t
    build = [shlex.split(c) for c in SHELL_COMMANDS if c.startswith("ansible-builder build")][0]
    push = [shlex.split(c) for c in SHELL_COMMANDS if c.startswith("podman push")][0]
    assert build[2] == "-t" and build[3] == push[2]
    usage = subprocess.run(
        [sys.executable, "-m", "ansible_builder", "build", "--help"], check=True, capture_output=True, text=True
    ).stdout
    assert "--tag" in usage and "-t TAG" in usage


def test_the_test_command_lists_the_stages_the_readme_names():
    listed = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "test.sh"), "--list"],
        check=True,
        capture_output=True,
        text=True,
        # it waits for the nox venv's lock, which another session may hold on a loaded machine
        timeout=300,
        stdin=subprocess.DEVNULL,
    ).stdout
    stages = {line.split()[0] for line in listed.splitlines() if line.strip()}
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| stage | what it runs |") :].split("\n\n")[0]
    named = {name for row in table.splitlines()[2:] for name in re.findall(r"`([a-z0-9.-]+)`", row.split("|")[1])}
    assert named == stages
    # and every session a README command runs by name
    run = {
        name for line in shell_commands(README) if line.startswith("scripts/test.sh -e ") for name in line.split()[2:]
    }
    assert run and run <= stages, run - stages
