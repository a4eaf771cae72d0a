# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The textileio.textile.token_id filter: the 24-hex-char ID of a Textile Cafe token (documented in token_id.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.textileio.textile.plugins.module_utils._token_format import TokenFormatError
from ansible_collections.textileio.textile.plugins.module_utils._token_format import token_id as _id


def token_id(token: object) -> str:
    """The ID of ``token``; a malformed token raises AnsibleFilterError that does not contain it."""
    if token is None:
        raise AnsibleFilterError('token_id: expected a Textile Cafe token, got nothing (None).')
    try:
        return _id(str(token))
    except TokenFormatError as err:
        raise AnsibleFilterError(f'token_id: the value is not a Textile Cafe token: {err}.') from None


class FilterModule:
    """Filters of textileio.textile."""

    def filters(self) -> dict:
        return {'token_id': token_id}
