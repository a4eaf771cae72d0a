# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mark_secret: ansible-core 2.22's register_secret when it exists (a stub here), a no-op before."""

from __future__ import annotations

import importlib
import sys
import types

import pytest

from ansible_collections.textileio.textile.plugins.module_utils import _secrets

STUB = 'ansible.module_utils.secrets'


class Marked(str):
    """What the stub register_secret hands back, so the test can tell the value went through it."""


@pytest.fixture
def secrets_api(monkeypatch):
    """Install a stub ``ansible.module_utils.secrets`` and reload _secrets against it; undo afterwards."""
    registered = []
    stub = types.ModuleType(STUB)

    def register_secret(value):
        registered.append(value)
        return Marked(value)
    stub.register_secret = register_secret
    stub.register_secrets = lambda values: registered.extend(sorted(values))
    monkeypatch.setitem(sys.modules, STUB, stub)
    yield importlib.reload(_secrets), registered
    monkeypatch.undo()  # the real module (or its absence) back in sys.modules, the very same object
    importlib.reload(_secrets)


def test_registers_and_returns_the_value_with_the_secrets_api(secrets_api):
    module, registered = secrets_api
    assert module.HAS_SECRETS_API is True
    marked = module.mark_secret('the-token')
    assert registered == ['the-token']
    assert isinstance(marked, Marked) and marked == 'the-token'
    assert module.mark_secret('') == '' and module.mark_secret(None) is None
    assert registered == ['the-token']


def test_hide_masks_in_the_module_and_registers_with_the_secrets_api(secrets_api):
    module, registered = secrets_api
    holder = types.SimpleNamespace(no_log_values=set())
    module.hide(holder, ['pw', '', None, 3, 'pw', 'key'])
    assert holder.no_log_values == {'pw', 'key'} and registered == ['key', 'pw']
    module.hide(holder, [''])
    assert registered == ['key', 'pw']  # nothing to register: no call with an empty set


def test_no_op_without_the_secrets_api(monkeypatch):
    monkeypatch.setitem(sys.modules, STUB, None)  # makes the import fail like on ansible-core < 2.22
    module = importlib.reload(_secrets)
    try:
        assert module.HAS_SECRETS_API is False
        value = 'the-token'
        assert module.mark_secret(value) is value
    finally:
        monkeypatch.undo()
        importlib.reload(_secrets)
