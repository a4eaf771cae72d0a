# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to this collection: it is not part of its public API
# and may change without notice.

"""What a message may quote of a server's answer: ``server_words`` and the credentials it hides.

A go-textile node answers an error with a line of text; anything in front of it (a reverse proxy, a wrong port)
may answer with an HTML page, or echo the request. ``server_words`` turns such an answer into one line fit for a
``TextileError`` message: the values ``credential_forms`` lists (what the client's requests carry) hidden, the
page's markup dropped, every token redacted, and cut to ``SERVER_TEXT_LIMIT`` characters between words. Every step
is linear in the text looked at (at most ``SERVER_TEXT_READ`` characters).
"""

from __future__ import annotations

import base64
import re
from typing import Collection, Mapping

from ansible_collections.textileio.textile.plugins.module_utils._token_format import ALPHABET, redact

SERVER_TEXT_LIMIT = 300  # characters of the server's text a message quotes
SERVER_TEXT_READ = 65536  # characters of an error answer looked at to find them
HIDDEN_MIN_CHARS = 4  # a credential shorter than this is not searched for in the server's text

# Tags of an HTML page: ``<`` then a letter, ``/``, ``!`` or ``?``, up to the next ``>`` (never past another
# ``<``, so the match stays linear).
_TAG = re.compile(r'<[A-Za-z/!?][^<>]*>')
# Elements whose content is not the page's words: the head (its title repeats the heading), styles, scripts.
_UNSHOWN = re.compile(r'<(head|title|style|script)\b[^<>]*>', re.IGNORECASE)
_UNSHOWN_END = {name: re.compile(f'</{name}\\b', re.IGNORECASE) for name in ('head', 'title', 'style', 'script')}


def _drop_unshown(text: str) -> str:
    """``text`` without the content of its head, title, style and script elements. Linear: each search starts
    where the last one ended, and an element that is never closed is searched for only once."""
    kept: list[str] = []
    position, unclosed = 0, set()
    while True:
        start = _UNSHOWN.search(text, position)
        if start is None:
            return ''.join(kept) + text[position:]
        kept.append(text[position : start.start()] + ' ')
        name = start.group(1).lower()
        end = None if name in unclosed else _UNSHOWN_END[name].search(text, start.end())
        if end is None:
            unclosed.add(name)  # no end tag after this one, so none after any later one either
            position = start.end()
        else:
            position = end.start()


def credential_forms(username: str | None, password: str | None, headers: Mapping[str, object] | None) -> set[str]:
    """What the client's requests carry that a server could echo back: the password, the Basic Auth header's
    base64 of the UTF-8 bytes of ``username:password`` and the values of the extra headers.
    Values shorter than ``HIDDEN_MIN_CHARS`` are left out (they would hide ordinary words; Ansible masks them)."""
    values = {str(value) for value in (headers or {}).values()}
    if username is not None:
        raw = f'{username}:{password or ""}'.encode('utf-8')  # as the client sends it
        values.update((password or '', base64.b64encode(raw).decode('ascii')))
    return {value for value in values if len(value) >= HIDDEN_MIN_CHARS}


def _fold(text: str) -> str:
    """Whitespace and control characters folded into single spaces, no space at either end."""
    return ' '.join(''.join(char if char.isprintable() else ' ' for char in text).split())


def _hide(text: str, values: Collection[str]) -> str:
    """Every occurrence of each value (longest first) replaced with a mark."""
    for value in sorted(values, key=len, reverse=True):
        if value:
            text = text.replace(value, ' [redacted] ')
    return text


def server_words(text: str, limit: int = SERVER_TEXT_LIMIT, hidden: Collection[str] = ()) -> str:
    """The server's text fit for one line of a message: every value of ``hidden`` (``credential_forms``)
    replaced, tags stripped (and the content of the head, title, style and script elements, which is not the
    page's words: a title repeats the heading), whitespace and control characters folded into single spaces,
    the values of ``hidden`` replaced again as folding shows them, every token redacted, then cut to at most ``limit``
    characters between words (in that order, so a cut never shows part of a token)."""
    if hidden:
        # before the tags go (a value may hold < and >), on what is looked at plus the longest value
        text = _hide(text[: SERVER_TEXT_READ + max(map(len, hidden))], hidden)
    if len(text) > SERVER_TEXT_READ:
        text = text[:SERVER_TEXT_READ].rstrip(ALPHABET)  # a base58 run this cut split: drop it, whatever its length
    text = _fold(_TAG.sub(' ', _drop_unshown(text)))
    if hidden:
        # 'a  b' or 'a<i>b' folded into the form of a value
        text = _fold(_hide(text, {_fold(value) for value in hidden if len(_fold(value)) >= HIDDEN_MIN_CHARS}))
    text = redact(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 3]
    if text[limit - 3] != ' ':
        cut = cut.rpartition(' ')[0]  # the last word, cut short (an ID, a mark), goes whole
    return cut + '...'
