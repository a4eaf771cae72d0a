# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the simulator's own tests (the ``sim`` and ``sim_factory`` fixtures are tests/simulator/pytest_plugin.py's)."""

from __future__ import annotations

import os

import pytest

sim_module = pytest.importorskip("ansible_collections.textileio.textile.tests.simulator.textile_sim")
requests = pytest.importorskip("requests")
oracle = pytest.importorskip("base58")


def b58(data: bytes) -> str:
    """base58 by the reference package, so the simulator is not checked against itself."""
    return oracle.b58encode(data).decode("ascii")


def unb58(text: str) -> bytes:
    return oracle.b58decode(text)


def new_key(first: bytes = b"") -> bytes:
    return first + os.urandom(44 - len(first))
