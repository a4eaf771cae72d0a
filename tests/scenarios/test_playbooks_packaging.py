# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as users get it: built tarball (roles, playbooks, EE metadata), installed, run by FQCN."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from ansible_collections.textileio.textile.tests.scenarios.harness import REPO_ROOT, fleet, fqcn_playbook, token_id

BIN = Path(sys.executable).parent


def test_tarball_holds_roles_playbooks_and_ee_metadata(installed):
    tarball, _path = installed
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
        ee = yaml.safe_load(archive.extractfile("meta/execution-environment.yml"))
        python_deps = archive.extractfile(ee["dependencies"]["python"]).read().decode()
        assert ee["dependencies"]["system"] in names
    for name in (
        "playbooks/provision.yml",
        "playbooks/decommission.yml",
        "playbooks/report.yml",
        "roles/cafe_tokens/meta/argument_specs.yml",
        "roles/cafe_token_report/templates/report.html.j2",
        "extensions/eda/plugins/event_source/token_drift.py",
        "extensions/eda/rulebooks/token_drift.yml",
    ):
        assert name in names
    assert "requests" in python_deps
    assert not [n for n in names if n.startswith(("scripts/", "hacking/", "textile-cafe-report"))]


def documented(collection: Path) -> list[tuple[str, str]]:
    """What ansible-doc documents in ``collection``: (type, name) of every module, filter, test and role."""
    modules = [("module", path.stem) for path in sorted(collection.glob("plugins/modules/[!_]*.py"))]
    plugins = [
        (kind, path.stem) for kind in ("filter", "test") for path in sorted(collection.glob(f"plugins/{kind}/*.yml"))
    ]
    roles = [("role", path.parts[-3]) for path in sorted(collection.glob("roles/*/meta/argument_specs.yml"))]
    return modules + plugins + roles


@pytest.mark.parametrize("kind, name", documented(REPO_ROOT))
def test_ansible_doc_renders_every_plugin_and_role_of_the_installed_collection(installed, tmp_path, kind, name):
    _tarball, path = installed
    assert (kind, name) in documented(path / "ansible_collections" / "textileio" / "textile")
    # only the installed copy can answer: not sys.path (PYTHONPATH holds the work tree), not the directory run from
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(path), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    done = subprocess.run(
        [str(BIN / "ansible-doc"), "-t", kind, f"textileio.textile.{name}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    # ansible-core 2.21 warns about its own internal collection when it documents a role
    errors = [line for line in done.stderr.splitlines() if "_protomatter' does not have a MANIFEST.json" not in line]
    assert (done.returncode, errors) == (0, []), done.stderr
    assert f"textileio.textile.{name}" in done.stdout


def test_the_documented_plugins_and_roles_are_found():
    assert {
        ("module", "textile_cafe_token"),
        ("module", "textile_cafe_token_info"),
        ("filter", "fleet_summary"),
        ("test", "url_with_userinfo"),
        ("role", "cafe_tokens"),
        ("role", "cafe_token_report"),
    } <= set(documented(REPO_ROOT))


def test_installed_collection_provisions_and_reports_by_fqcn(installed, sim_factory, run_playbook, new_token):
    _tarball, path = installed
    cafe = sim_factory()
    token = new_token()
    env = {"ANSIBLE_COLLECTIONS_PATH": str(path)}
    inventory = fleet([cafe], cafe_tokens_present=[token])
    provision = run_playbook(fqcn_playbook("provision"), inventory=inventory, env=env)
    assert provision.changed == 1 and cafe.control.state_ids() == [token_id(token)]
    report = run_playbook(fqcn_playbook("report"), inventory=inventory, env=env)
    assert (report.run_dir / "work" / "textile-cafe-report" / "textile-cafe-report.html").is_file()
    assert not list(path.rglob("textile-cafe-report*"))  # never inside the installed collection
    assert str(path) in report.stdout  # the roles really came from the installed copy


@pytest.mark.skipif(
    importlib.util.find_spec("ansible_builder") is None,
    reason="ansible-builder is not installed (pip install ansible-builder)",
)
def test_ansible_builder_finds_the_collection_dependencies(installed):
    _tarball, path = installed
    found = subprocess.run(
        [sys.executable, "-m", "ansible_builder", "introspect", "--sanitize", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    deps = yaml.safe_load(found.split("---", 1)[1])
    assert any(line.startswith("requests") for line in deps["python"])
    assert any(line.startswith("ca-certificates") for line in deps["system"])
