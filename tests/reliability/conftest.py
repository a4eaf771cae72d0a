# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fixtures of the reliability suite (the playbook suite's): the simulator plugin's (``sim``, ``sim_factory``, ``tls_ca``) and the
playbook harness's (``run_playbook``, ``secrets``, ``new_token``, ...; see harness.py)."""

from __future__ import annotations

import pytest

pytest_plugins = [
    "ansible_collections.textileio.textile.tests.simulator.pytest_plugin",
    "ansible_collections.textileio.textile.tests.scenarios.harness",
]


@pytest.fixture
def sim_process():
    """Each simulator runs as a process of its own, as a cafe does, and its password is a registered secret."""
    return True
