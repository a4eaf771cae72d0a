# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The textileio.textile.token_id filter."""

from __future__ import annotations

import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.textileio.textile.plugins.filter.token_id import FilterModule
from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58encode

token_id = FilterModule().filters()['token_id']


@pytest.mark.parametrize(
    'raw',
    [os.urandom(44), b'\0' + os.urandom(43), b'\x01' + os.urandom(43)],
    ids=['random', 'zero-first-byte', 'short-text'],
)
def test_id_is_hex_of_first_12_bytes(raw):
    assert token_id(f' {b58encode(raw)}\n') == raw[:12].hex()


@pytest.mark.parametrize(
    'bad',
    ['', 'not a token', b58encode(os.urandom(43)), b58encode(os.urandom(72)), None, 42],
    ids=['empty', 'words', '43-bytes', 'list-entry', 'none', 'int'],
)
def test_malformed_token_raises_without_echoing(bad):
    with pytest.raises(AnsibleFilterError) as info:
        token_id(bad)
    message = str(info.value)
    assert 'token' in message
    if isinstance(bad, str) and bad:
        assert bad not in message
    assert info.value.__cause__ is None
