# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""API URLs as the roles and the report show them: never with user info. Private to this collection.

Runs on the controller (filter and test plugins). URLs are split with ``urllib.parse``, never with a regular
expression.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def split_userinfo(url: object) -> tuple[str | None, bool]:
    """``(url without user info, whether it held user info)``.

    - ``None`` gives ``(None, False)``.
    - Without ``@`` the URL cannot hold user info and comes back unchanged.
    - With ``@`` only in the authority (``scheme://user:pass@host:port/path``), the user info is everything
      before its last ``@``, as ``urllib.parse`` reads it, and the URL comes back without it, path, query
      and fragment kept (a password holding ``@`` is covered: the last ``@`` ends the user info).
    - An ``@`` after the authority (in the path, query or fragment) usually means a password that holds ``/``,
      ``?`` or ``#`` unencoded (``http://user:pa/ss@host``): where the user info ends cannot be told, so
      nothing of the URL is shown: ``(None, True)``. The same goes for a URL ``urllib.parse`` cannot split.
    """
    if url is None:
        return None, False
    text = str(url)
    if '@' not in text:
        return text, False
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return None, True
    if '@' in parts.path + parts.query + parts.fragment:
        return None, True
    host = parts.netloc.rpartition('@')[2]
    return urlunsplit(parts._replace(netloc=host)), True
