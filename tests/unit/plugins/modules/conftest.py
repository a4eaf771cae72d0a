# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the module tests: run a module's main() with arguments (the simulator is tests/unit/conftest.py's)."""

from __future__ import annotations

import pytest

from ansible_collections.textileio.textile.tests.unit.plugins.modules.helpers import run_main


@pytest.fixture
def run_module(monkeypatch):
    """``run_module(module, args)`` runs ``module.main()`` and returns its raw result (see helpers.run_main)."""
    return lambda module, args: run_main(monkeypatch, module.main, args)
