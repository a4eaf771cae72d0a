# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by every unit suite: proxies in front of the simulator (``sim`` and ``sim_factory`` are the
plugin's, tests/simulator/pytest_plugin.py), a loopback port nobody listens on, a stub of ansible-core 2.22's
secrets API, and the suite's hypothesis profile."""

from __future__ import annotations

import importlib
import sys
import types

import pytest
from hypothesis import settings

from ansible_collections.textileio.textile.plugins.module_utils import _secrets

pytest_plugins = ['ansible_collections.textileio.textile.tests.simulator.pytest_plugin']

# Every property test of the suite, unless it sets its own bound: no deadline (the machine is shared), no example
# database written into the tree.
settings.register_profile('textile-unit', max_examples=200, deadline=None, database=None)
settings.load_profile('textile-unit')


@pytest.fixture
def forward_proxy():
    """Factory of recording forward proxies (``tests/simulator/proxies.py``), all stopped after the test:
    ``forward_proxy(hosts={'cafe.invalid': port})``; ``.url``, ``.requests``."""
    proxies = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.proxies')
    started = []

    def make(hosts=None):
        started.append(proxies.ForwardProxy(hosts))
        return started[-1]

    yield make
    for proxy in started:
        proxy.stop()


@pytest.fixture
def fault_proxy(sim):
    """A reverse proxy in front of ``sim`` that breaks the answers a test picks (``proxies.FaultProxy``):
    ``.url``, ``.break_answers(method, path_prefix, mode)``, ``.broken``; stopped after the test."""
    proxies = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.proxies')
    with proxies.FaultProxy(sim.port) as proxy:
        yield proxy


@pytest.fixture
def closed_port():
    """A loopback port nobody listens on."""
    textile_sim = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')
    return textile_sim.closed_port()


class Marked(str):
    """What the stub register_secret hands back, so a test can tell a value went through it."""


@pytest.fixture
def secrets_api():
    """A stub ``ansible.module_utils.secrets`` with _secrets reloaded against it: yields the reloaded _secrets,
    the list of values registered through the stub, and the class of what register_secret hands back. The real
    module (or its absence) is back in sys.modules, the very same object, and _secrets reloaded afterwards."""
    registered: list = []
    stub = types.ModuleType('ansible.module_utils.secrets')

    def register_secret(value):
        registered.append(value)
        return Marked(value)

    stub.register_secret = register_secret
    stub.register_secrets = lambda values: registered.extend(sorted(values))
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, stub.__name__, stub)
        yield importlib.reload(_secrets), registered, Marked
    importlib.reload(_secrets)
