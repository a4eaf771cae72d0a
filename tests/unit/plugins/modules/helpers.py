# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the module tests: the simulator's request log, the secret scan, running a module's main()."""

from __future__ import annotations

import contextlib
import io
import json
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.parameters import PASS_VARS
from ansible.module_utils.testing import patch_module_args

from ansible_collections.textileio.textile.plugins.module_utils import _secrets
from ansible_collections.textileio.textile.plugins.module_utils._token_format import TokenFormatError, parse_token


def api_requests(sim, method=None):
    """The go-textile requests the simulator received (control calls excluded), optionally of one method."""
    return [entry for entry in sim.control.requests() if method is None or entry['method'] == method]


def assert_no_secret(result, tokens, allowed_key=None):
    """No token, nor its secret in hex, appears anywhere in the raw result, except under ``allowed_key``."""
    text = json.dumps({key: value for key, value in result.items() if key != allowed_key}, default=str)
    for token in tokens:
        if token and token.strip():
            assert token.strip() not in text
            try:
                assert parse_token(token).secret.hex() not in text
            except TokenFormatError:
                pass


class ModuleExit(BaseException):
    """Raised instead of exit_json/fail_json (like SystemExit, not an Exception, so that no module code catches
    it); ``result`` is the raw result, before no_log masking."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


def run_main(monkeypatch, main, args):
    """Run a module's ``main`` with ``args`` and return its raw result, with ``failed`` and ``warnings``.

    ``args`` may hold ``_ansible_check_mode`` and ``_ansible_diff``.
    """
    warnings = []

    def exit_json(self, **result):
        raise ModuleExit(dict(result, failed=False, warnings=warnings))

    def fail_json(self, msg, **result):
        raise ModuleExit(dict(result, msg=msg, failed=True, warnings=warnings))

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, warning, **kwargs: warnings.append(warning))
    with patch_module_args(args), pytest.raises(ModuleExit) as info:
        main()
    return info.value.result


MASK = '********'


def _masked(value, secrets):
    """``value`` with every occurrence of each of ``secrets`` in its string values replaced by MASK."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {key: _masked(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item, secrets) for item in value]
    return value


def run_entry_point(main, args):
    """``main()`` as Ansible runs it (real exit_json/fail_json, no_log masking and all).

    Returns the result it printed, parsed, and the printed text itself (to search it for secrets). From
    ansible-core 2.22 a module prints its result unmasked with the secrets it registered
    (``_ansible_new_secrets``), and the controller masks them: both are returned as the controller shows them.
    A module registers its secrets in a process-wide registry; each call gets an empty one, as each module
    run gets a process of its own.
    """
    out = io.StringIO()
    if 'inject_invocation' in PASS_VARS:  # ansible-core 2.20+ adds the invocation only when asked to
        args = dict(args, _ansible_inject_invocation=True)
    with contextlib.ExitStack() as stack:
        if _secrets.HAS_SECRETS_API:  # every namespace the registry is reached through (tests reload some)
            from ansible.module_utils.common import arg_spec  # pylint: disable=import-outside-toplevel

            spaces = [vars(basic._secrets), vars(arg_spec._secrets), _secrets.register_secrets.__globals__]
            fresh = {'_secret_masker': type(basic._secrets._secret_masker)()}
            for space in {id(space): space for space in spaces}.values():
                stack.enter_context(mock.patch.dict(space, fresh))
        with patch_module_args(args), contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            main()
    printed = out.getvalue()
    result = json.loads(printed.strip().splitlines()[-1])
    secrets_shown = result.pop('_ansible_new_secrets', None)
    if secrets_shown is not None:
        result = _masked(result, sorted(secrets_shown, key=len, reverse=True))
        printed = json.dumps(result)
    return result, printed
