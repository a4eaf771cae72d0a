# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mark_secret: ansible-core 2.22's register_secret when it exists, a no-op before.

The stub tests run on every line; the tests marked ``needs_secrets_api`` run the real API, on the ansible-core
2.22 line (Python 3.13), and are skipped where ansible-core has no ``ansible.module_utils.secrets``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import types

import pytest

from ansible_collections.textileio.textile.plugins.module_utils import _secrets
from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58encode

STUB = 'ansible.module_utils.secrets'

needs_secrets_api = pytest.mark.skipif(
    importlib.util.find_spec(STUB) is None, reason='this ansible-core has no ansible.module_utils.secrets (2.22+)'
)


def test_registers_and_returns_the_value_with_the_secrets_api(secrets_api):
    module, registered, marked_class = secrets_api
    assert module.HAS_SECRETS_API is True
    marked = module.mark_secret('the-token')
    assert registered == ['the-token']
    assert isinstance(marked, marked_class) and marked == 'the-token'
    assert module.mark_secret('') == '' and module.mark_secret(None) is None
    assert registered == ['the-token']


def test_hide_masks_in_the_module_and_registers_with_the_secrets_api(secrets_api):
    module, registered, dummy = secrets_api
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
        holder, calls = types.SimpleNamespace(no_log_values=set()), []
        # A reload keeps the names an earlier import bound: make sure the one left behind is never called.
        monkeypatch.setattr(module, 'register_secrets', calls.append, raising=False)
        module.hide(holder, [value])  # only the module's own masking: there is nothing to register with
        assert holder.no_log_values == {value} and calls == []
    finally:
        monkeypatch.undo()
        importlib.reload(_secrets)


def new_token():
    return b58encode(os.urandom(44))


@needs_secrets_api
def test_the_real_api_masks_a_marked_value_and_hands_it_back_unchanged():
    from ansible.module_utils.secrets import mask_secrets  # pylint: disable=import-outside-toplevel

    # The registry is global to the process and other tests register short secrets ('a', 't', ...), so only
    # the token as a whole is compared: once registered it is one span, masked as one placeholder.
    token = new_token()
    assert _secrets.HAS_SECRETS_API is True
    # Each comparison is computed before its assert: pytest would print the token if one failed.
    unmasked_before = mask_secrets(token, mask_placeholder='<masked>') != '<masked>'
    marked = _secrets.mark_secret(token)
    unchanged = marked.__class__ is str and marked == token  # usable as the token itself, e.g. to import it elsewhere
    masked = mask_secrets(token, mask_placeholder='<masked>') == '<masked>' and mask_secrets(token) == '$REDACTED$'
    assert unmasked_before and unchanged and masked


@needs_secrets_api
def test_a_minted_token_is_handed_to_the_controller_as_a_new_secret(sim, capsys):
    """The module's real JSON output lists the minted token under _ansible_new_secrets, which is what makes
    ansible-core 2.22 mask it in every output of the play, without no_log on the task."""
    from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel

    from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token  # pylint: disable=import-outside-toplevel

    with patch_module_args({'api_url': sim.url, 'store': False}), pytest.raises(SystemExit) as exited:
        textile_cafe_token.main()
    assert exited.value.code == 0
    result = json.loads(capsys.readouterr().out)
    assert result['changed'] is False and len(result['token_id']) == 24
    handed_over = result.pop('_ansible_new_secrets', None) == [result.pop('token')]
    assert handed_over  # computed first: pytest would print the token if the comparison were in the assert


@needs_secrets_api
def test_nothing_new_to_mask_when_nothing_was_minted(sim, capsys):
    from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel

    from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token  # pylint: disable=import-outside-toplevel

    with patch_module_args({'api_url': sim.url, 'tokens': []}), pytest.raises(SystemExit) as exited:
        textile_cafe_token.main()
    assert exited.value.code == 0
    result = json.loads(capsys.readouterr().out)
    assert 'token' not in result and '_ansible_new_secrets' not in result
