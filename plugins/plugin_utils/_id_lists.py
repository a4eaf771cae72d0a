# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one check of the token and token ID lists that the roles, the playbooks and the report are given.
Private to this collection; runs on the controller (the malformed_ids, canonical_ids, malformed_tokens and
fleet_summary filters).

A problem is one line ``<variable>[<position>]: <why>`` (``<variable>[key <position>]`` for a key of a mapping,
``<variable> must be ...`` for a value that is not a list): it names where the problem is and never holds the
value, which may be a token pasted into the wrong place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from ansible_collections.textileio.textile.plugins.module_utils._token_format import (
    ID_BYTES,
    TokenFormatError,
    is_id,
    parse_token,
)

ID_CHARS = 2 * ID_BYTES
# A message lists at most this many problems of one variable; a list of thousands stays one readable message.
MAX_PROBLEMS = 10


def kind(value: object) -> str:
    """What ``value`` is, in words, for a message (never the value itself)."""
    if value is None:
        return 'nothing (null)'
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, (int, float)):
        return 'a number'
    if isinstance(value, (str, bytes)):
        return 'a string'
    if isinstance(value, Mapping):
        return 'a mapping'
    if isinstance(value, (list, tuple)):
        return 'a list'
    if isinstance(value, (set, frozenset)):
        return 'a set'
    return 'a value of another type'


def is_token(value: object) -> bool:
    """Whether ``value`` parses as a whole token (base58 of 44 bytes, surrounding whitespace ignored)."""
    try:
        parse_token(value)
    except TokenFormatError:
        return False
    return True


def list_problem(value: object, name: str, what: str) -> str | None:
    """Why ``value`` is not a list (of ``what``, such as "token IDs"), or None when it is one."""
    if isinstance(value, (list, tuple)):
        return None
    if isinstance(value, (str, bytes)):
        return (
            f'{name} must be a list of {what}, even for a single one; a string was given '
            f'(-e {name}=... gives a string: pass a list as JSON, -e \'{{"{name}": [...]}}\')'
        )
    return f'{name} must be a list of {what}; {kind(value)} was given'


def id_problem(entry: object, tokens_in: str | None = None) -> str | None:
    """Why ``entry`` is not a token ID (any case, surrounding whitespace allowed), or None when it is one.

    A token (which must never be shown or sent where an ID goes) is told apart, with where it belongs instead:
    ``tokens_in`` (the list for tokens next to this one), else its ID through the token_id filter.
    """
    if isinstance(entry, bool) or not isinstance(entry, (str, int, float)):
        return f'{kind(entry)}, not a token ID ({ID_CHARS} hexadecimal characters)'
    if not isinstance(entry, str):
        return 'a number, not a token ID: quote it (an ID of digits only reads as a number in YAML)'
    text = entry.strip()
    if is_id(text.lower()):
        return None
    if is_token(text):
        where = f'tokens belong in {tokens_in}' if tokens_in else 'give its ID (<token> | textileio.textile.token_id)'
        return f'a token, not a token ID: {where}'
    if not text:
        return f'empty, not a token ID ({ID_CHARS} hexadecimal characters)'
    if len(text) != ID_CHARS:
        return f'{len(text)} characters long, not a token ID ({ID_CHARS} hexadecimal characters)'
    return f'not hexadecimal, not a token ID ({ID_CHARS} characters 0-9 and a-f)'


def id_problems(value: object, name: str, tokens_in: str | None = None, keys: bool = False) -> list[str]:
    """One line per problem of the token ID list ``value`` (of the keys of the mapping ``value`` with
    ``keys``), named ``name``; empty when every entry is a token ID."""
    if keys:
        if not isinstance(value, Mapping):
            return [f'{name} must be a mapping of token IDs to owners; {kind(value)} was given']
        entries, where = list(value), '{name}[key {position}]'
    else:
        problem = list_problem(value, name, 'token IDs')
        if problem:
            return [problem]
        entries, where = list(cast(Sequence, value)), '{name}[{position}]'
    found = []
    for position, entry in enumerate(entries):
        problem = id_problem(entry, tokens_in)
        if problem:
            found.append(where.format(name=name, position=position) + ': ' + problem)
    return bounded(found, name)


def bounded(found: list[str], name: str) -> list[str]:
    """``found`` cut to MAX_PROBLEMS lines, the last of them saying how many more there are."""
    if len(found) <= MAX_PROBLEMS:
        return found
    return found[: MAX_PROBLEMS - 1] + [f'and {len(found) - MAX_PROBLEMS + 1} more entries of {name}']


def canonical_ids(value: object, name: str = 'ids') -> list[str]:
    """The token IDs of the list ``value`` in canonical form (stripped, lowercase), in order, each once.

    Raises ValueError naming the problems (never a value) when the list holds anything else.
    """
    problems = id_problems(value, name)
    if problems:
        raise ValueError('; '.join(problems))
    return list(dict.fromkeys(str(entry).strip().lower() for entry in value))  # type: ignore[attr-defined]
