# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The textileio.textile.malformed_tokens filter (documented in malformed_tokens.yml)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from ansible.errors import AnsibleFilterError

from ansible_collections.textileio.textile.plugins.module_utils._token_format import TokenFormatError, parse_token
from ansible_collections.textileio.textile.plugins.plugin_utils._id_lists import bounded, list_problem


def malformed_tokens(tokens: object, name: str = 'tokens') -> list[str]:
    """``['<name>[<position>]: <why>', ...]`` for each entry of ``tokens`` that is not a token, or one line
    saying that ``tokens`` is not a list; never a value."""
    if not isinstance(name, str) or not name:
        raise AnsibleFilterError('malformed_tokens: name must be the name of the list, such as cafe_tokens_present.')
    problem = list_problem(tokens, name, 'tokens')
    if problem:
        return [problem]
    found = []
    for position, token in enumerate(cast(Sequence, tokens)):
        try:
            parse_token(token)
        except TokenFormatError as err:
            found.append(f'{name}[{position}]: {err}')
    return bounded(found, name)


class FilterModule:
    """Filters of textileio.textile."""

    def filters(self) -> dict:
        return {'malformed_tokens': malformed_tokens}
