# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by every unit suite: the simulator (the one shape every suite uses: ``url``, ``port``,
``control``) and a loopback port nobody listens on."""

from __future__ import annotations

import pytest


@pytest.fixture
def sim():
    """The go-textile simulator in process on a free loopback port (bcrypt cost 4 for speed); ``sim.url``,
    ``sim.port``, ``sim.control`` (its control API), stopped after the test."""
    textile_sim = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')
    with textile_sim.SimServer(bcrypt_cost=4) as server:
        yield server


@pytest.fixture
def closed_port():
    """A loopback port nobody listens on."""
    textile_sim = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')
    return textile_sim.closed_port()
