# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The textileio.textile.malformed_tokens filter (documented in malformed_tokens.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.textileio.textile.plugins.module_utils._token_format import TokenFormatError, parse_token


def malformed_tokens(tokens, name='tokens'):
    """``['<name>[<position>]: <why>', ...]`` for each entry of ``tokens`` that is not a token; never a value."""
    if isinstance(tokens, (str, bytes)) or not hasattr(tokens, '__iter__') or isinstance(tokens, dict):
        raise AnsibleFilterError(f'malformed_tokens: {name} must be a list of tokens.')
    found = []
    for position, token in enumerate(tokens):
        try:
            parse_token(token)
        except TokenFormatError as err:
            found.append(f'{name}[{position}]: {err}')
    return found


class FilterModule:
    """Filters of textileio.textile."""

    def filters(self):
        return {'malformed_tokens': malformed_tokens}
