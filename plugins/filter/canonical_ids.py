# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The textileio.textile.canonical_ids filter (documented in canonical_ids.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.textileio.textile.plugins.plugin_utils._id_lists import canonical_ids as _canonical


def canonical_ids(ids: object, name: str = 'ids') -> list[str]:
    """The token IDs of ``ids`` stripped and lowercase, in order, each once; anything else fails, never shown."""
    try:
        return _canonical(ids, str(name))
    except ValueError as err:
        raise AnsibleFilterError(f'canonical_ids: {err}.') from None


class FilterModule:
    """Filters of textileio.textile."""

    def filters(self) -> dict:
        return {'canonical_ids': canonical_ids}
