# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the module tests: test tokens, the simulator's request log, the secret scan."""

from __future__ import annotations

import json
import os

from ansible_collections.textileio.textile.plugins.module_utils._token_format import TokenFormatError, b58encode, parse_token


def new_token(first=None, secret=None):
    """A random token; ``first`` and ``secret`` fix its ID bytes and secret bytes."""
    return b58encode((first if first is not None else os.urandom(12)) + (secret if secret is not None else os.urandom(32)))


def api_requests(sim, method=None):
    """The go-textile requests the simulator received (control calls excluded), optionally of one method."""
    return [entry for entry in sim.ctl.requests() if method is None or entry['method'] == method]


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
