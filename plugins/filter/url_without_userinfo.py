# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The textileio.textile.url_without_userinfo filter (documented in url_without_userinfo.yml)."""

from __future__ import annotations

from ansible_collections.textileio.textile.plugins.plugin_utils._api_url import split_userinfo


def url_without_userinfo(url):
    """``url`` without user info; None when it cannot be shown safely (see ``split_userinfo``)."""
    return split_userinfo(url)[0]


class FilterModule:
    """Filters of textileio.textile."""

    def filters(self):
        return {'url_without_userinfo': url_without_userinfo}
