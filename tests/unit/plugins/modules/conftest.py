# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the module tests: run a module's main() with arguments, the simulator, test tokens."""

from __future__ import annotations

import pytest

from ansible_collections.textileio.textile.tests.unit.plugins.modules.helpers import run_main


@pytest.fixture
def run_module(monkeypatch):
    """``run_module(module, args)`` runs ``module.main()`` and returns its raw result (see helpers.run_main)."""
    return lambda module, args: run_main(monkeypatch, module.main, args)


@pytest.fixture
def sim():
    """The go-textile simulator in process on a free loopback port (bcrypt cost 4 for speed)."""
    textile_sim = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')
    with textile_sim.SimServer(bcrypt_cost=4) as server:
        server.ctl = textile_sim.SimControl(server.url)
        yield server
