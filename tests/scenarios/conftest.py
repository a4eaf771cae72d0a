# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the playbook integration suites (see harness.py for what each run checks).

- ``run_playbook(playbook, inventory=None, extra_vars=None, env=None, check=False, diff=False,
  verbosity=4, expect_rc=0, mint_task=None, args=(), scan_paths=())`` -> ``PlaybookResult``
  (``rc``, ``stdout``, ``stderr``, ``result["task name"]``, ``host_results(name)``, ``recap``,
  ``changed``, ``failed``, ``run_dir``).
- ``sim``: a simulator process (bcrypt cost 4) on a free loopback port, stopped after the test;
  ``sim.url``, ``sim.control.state_ids()``, ``sim.control.requests()``, ...
- ``sim_factory(tls=False, username=None, password=None, bcrypt_cost=4, **options)``: more
  simulators (each stopped after the test); a password is registered as a secret.
- ``secrets``: the registry every run is scanned against; ``new_token()`` makes and registers a token.
- ``tls_ca``: the simulator's test CA (``ca_cert``, ``server_cert``, ``client_cert``, ...); a TLS simulator
  (``sim_factory(tls=True)``) serves ``server_cert``.
"""

from __future__ import annotations

import contextlib
import sys

import pytest
from harness import REPO_ROOT, PlaybookRunner, SecretRegistry, make_token, setup_collections_path


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "compat: fast representative subset, also run on the oldest supported ansible-core/Python line"
    )


def _simulator():
    path = str(REPO_ROOT / "tests" / "simulator")
    if path not in sys.path:
        sys.path.insert(0, path)
    import textile_sim  # pylint: disable=import-error,import-outside-toplevel

    return textile_sim


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


@pytest.fixture(scope="session")
def tls_ca(tmp_path_factory):
    """The simulator's throw-away CA (``ca_cert``, ``server_cert``, ``server_key``, ``client_cert``, ...)."""
    _simulator()
    import tlsutil  # pylint: disable=import-error,import-outside-toplevel

    return tlsutil.make_test_ca(str(tmp_path_factory.mktemp("tls")))


@pytest.fixture
def sim_factory(tmp_path, secrets, request):
    stack = contextlib.ExitStack()
    started = []

    def start(tls=False, username=None, password=None, bcrypt_cost=4, **options):
        if tls:
            ca = request.getfixturevalue("tls_ca")
            options.update(tls_cert=ca.server_cert, tls_key=ca.server_key, cafile=ca.ca_cert)
        if password:
            secrets.add(password)
        options.setdefault("db", str(tmp_path / ("sim-%d.sqlite" % (len(started) + 1))))
        started.append(
            stack.enter_context(
                _simulator().SimProcess(bcrypt_cost=bcrypt_cost, username=username, password=password, **options)
            )
        )
        return started[-1]

    with stack:
        yield start
        # Removals must never carry a secret in their URL (go-textile logs every path).
        leaks = [
            r["path"]
            for s in started
            for r in s.control.requests()
            if r["method"] == "DELETE" and r.get("secret_in_path")
        ]
        assert not leaks, "a DELETE sent a token secret in its path: %s" % leaks


@pytest.fixture
def sim(sim_factory):
    return sim_factory()
