# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The textileio.textile.malformed_ids filter (documented in malformed_ids.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.textileio.textile.plugins.plugin_utils._id_lists import id_problems


def malformed_ids(ids: object, name: str = 'ids', tokens_in: str | None = None, keys: bool = False) -> list[str]:
    """``['<name>[<position>]: <why>', ...]`` for each entry of ``ids`` that is not a token ID; never a value."""
    if not isinstance(name, str) or not name:
        raise AnsibleFilterError('malformed_ids: name must be the name of the list, such as cafe_tokens_absent_ids.')
    if tokens_in is not None and not isinstance(tokens_in, str):
        raise AnsibleFilterError('malformed_ids: tokens_in must be the name of a list of tokens.')
    return id_problems(ids, name, tokens_in, bool(keys))


class FilterModule:
    """Filters of textileio.textile."""

    def filters(self) -> dict:
        return {'malformed_ids': malformed_ids}
