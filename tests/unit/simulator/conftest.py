# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the simulator's own tests: in-process simulators, stopped after each test."""

from __future__ import annotations

import pytest

from ansible_collections.textileio.textile.tests.unit.simulator.simhelpers import Sim, sim_module


@pytest.fixture
def sim_factory(tmp_path):
    servers = []

    def start(**options):
        options.setdefault("bcrypt_cost", 4)
        server = sim_module.SimServer(**options).start()
        servers.append(server)
        return Sim(server)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sim(sim_factory):
    return sim_factory()
