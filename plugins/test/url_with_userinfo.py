# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The textileio.textile.url_with_userinfo test (documented in url_with_userinfo.yml)."""

from __future__ import annotations

from ansible_collections.textileio.textile.plugins.plugin_utils._api_url import split_userinfo


def url_with_userinfo(url):
    """Whether ``url`` holds user info (``user:password@``), or may hold it (see ``split_userinfo``)."""
    return split_userinfo(url)[1]


class TestModule:
    """Tests of textileio.textile."""

    def tests(self):
        return {'url_with_userinfo': url_with_userinfo}
