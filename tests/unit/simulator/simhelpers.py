# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the simulator's own tests (no fixtures here; see conftest.py)."""

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


class Sim:
    """A running ``SimServer`` and a small ``requests`` wrapper (redirects are never followed)."""

    def __init__(self, server):
        self.server = server
        self.url = server.url
        self.control = server.control

    def call(self, method, path, opts=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if opts is not None:
            headers["X-Textile-Opts"] = opts
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 30)
        return requests.request(method, self.url + path, headers=headers, **kwargs)

    def create(self, opts="store=true", **kwargs):
        return self.call("POST", "/api/v0/tokens", opts, **kwargs)
