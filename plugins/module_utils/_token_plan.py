# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to this collection: it is not part of its public API
# and may change without notice.

"""Decisions of the token modules as pure functions: no I/O, unit-tested without HTTP.

Input is checked and normalised here (option combinations, tokens, IDs), and the plan of a
``textile_cafe_token`` run is computed from the stored IDs and the desired state. Error
messages name the option and the position (``tokens[3]``) and never contain a secret.
"""

from __future__ import annotations

import collections
from typing import Iterable, Sequence

from ansible_collections.textileio.textile.plugins.module_utils._token_format import (
    TokenFormatError,
    normalize_id,
    parse_token,
)

# A token given by the user: its ID, its 32-byte secret, the stripped text sent to the cafe,
# and where it was given (``tokens[2]``), for messages.
DeclaredToken = collections.namedtuple('DeclaredToken', ['id', 'secret', 'text', 'where'])

# What a run does. ``imports`` and ``replacements`` hold DeclaredTokens, ``removals`` IDs;
# ``ids_after`` is the predicted sorted list of stored IDs after the run.
Plan = collections.namedtuple('Plan', ['imports', 'removals', 'replacements', 'ids_after'])

MINT, DECLARE, REMOVE = 'mint', 'declare', 'remove'


class PlanError(ValueError):
    """Invalid module input; the message names the options or the position, never a secret."""


def _join(names: list[str]) -> str:
    return f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else names[0]


def choose_action(
    state: str,
    tokens: list[str] | None = None,
    ids: list[str] | None = None,
    exclusive: bool = False,
    keep_ids: list[str] | None = None,
    verify_secret: bool = False,
    store: bool | None = None,
) -> str:
    """Check the option combination of textile_cafe_token and say what the run does."""
    if state == 'absent':
        conflicting = [
            name
            for name, used in (
                ('exclusive', exclusive),
                ('keep_ids', keep_ids),
                ('verify_secret', verify_secret),
                ('store', store is not None),
            )
            if used
        ]
        if conflicting:
            raise PlanError(f'{_join(conflicting)} cannot be used with state=absent.')
        if tokens is None and ids is None:
            raise PlanError('state=absent needs tokens, ids, or both: the tokens or token IDs to remove.')
        return REMOVE
    if ids is not None:
        raise PlanError(
            'ids can only be used with state=absent; to keep stored tokens whose secrets '
            'you do not hold while using exclusive=true, use keep_ids.'
        )
    if tokens is None:
        conflicting = [
            name
            for name, used in (('exclusive', exclusive), ('keep_ids', keep_ids), ('verify_secret', verify_secret))
            if used
        ]
        if conflicting:
            raise PlanError(f'{_join(conflicting)} need tokens; state=present without tokens mints a new token.')
        return MINT
    if store is not None:
        raise PlanError('store only applies to minting (state=present without tokens); it cannot be used with tokens.')
    if keep_ids and not exclusive:
        raise PlanError('keep_ids can only be used with exclusive=true.')
    return DECLARE


MAX_CONCURRENCY = 16


def check_concurrency(concurrency: int) -> None:
    """``concurrency``: how many imports and removals may be in flight at once."""
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise PlanError(f'concurrency must be from 1 to {MAX_CONCURRENCY}.')


def normalize_tokens(values: list[str] | None, option: str = 'tokens', merge: bool = True) -> list[DeclaredToken]:
    """Parse the tokens of an option into DeclaredTokens, in input order.

    Surrounding whitespace is stripped. With ``merge`` a token given twice is kept once, and two
    entries with the same ID but different secrets fail naming both positions.
    """
    declared: list[DeclaredToken] = []
    by_id: dict[str, DeclaredToken] = {}
    for position, value in enumerate(values or []):
        where = f'{option}[{position}]'
        text = value.strip() if isinstance(value, str) else ''
        if not text:
            raise PlanError(f'{where} is empty or not a string: a token is a base58 string that decodes to 44 bytes.')
        try:
            parsed = parse_token(text)
        except TokenFormatError:
            raise PlanError(
                f'{where} is not a valid token: a token is base58 (Bitcoin alphabet) and decodes to exactly 44 bytes.'
            ) from None
        token = DeclaredToken(parsed.id, parsed.secret, text, where)
        first = by_id.get(token.id)
        if merge and first is not None:
            if first.secret != token.secret:
                raise PlanError(
                    f'{first.where} and {where} have the same token ID {token.id} but different secrets; '
                    'a cafe stores one secret per ID.'
                )
            continue
        by_id.setdefault(token.id, token)
        declared.append(token)
    return declared


def normalize_ids(values: list[str] | None, option: str = 'ids') -> list[str]:
    """Token IDs of an option in lowercase, duplicates merged, in input order."""
    result = []
    for position, value in enumerate(values or []):
        try:
            token_id = normalize_id(value)
        except TokenFormatError:
            raise PlanError(
                f'{option}[{position}] is not a token ID: an ID is 24 hexadecimal characters '
                '(use the textileio.textile.token_id filter to get the ID of a token).'
            ) from None
        if token_id not in result:
            result.append(token_id)
    return result


def plan_present(
    current_ids: Iterable[str],
    declared: list[DeclaredToken],
    exclusive: bool = False,
    keep_ids: Iterable[str] = (),
    mismatched_ids: Iterable[str] = (),
) -> Plan:
    """Declare ``declared`` on a cafe that stores ``current_ids``.

    ``mismatched_ids`` are stored declared IDs whose stored secret differs (verify_secret).
    With ``exclusive`` every stored ID neither declared nor in ``keep_ids`` is removed.
    """
    current = set(current_ids)
    wanted = {token.id for token in declared}
    imports = sorted((token for token in declared if token.id not in current), key=lambda token: token.id)
    replacements = sorted(
        (token for token in declared if token.id in current and token.id in set(mismatched_ids)),
        key=lambda token: token.id,
    )
    removals = sorted(current - wanted - set(keep_ids)) if exclusive else []
    return Plan(imports, removals, replacements, sorted((current - set(removals)) | wanted))


def plan_absent(current_ids: Iterable[str], declared: Iterable[DeclaredToken] = (), ids: Iterable[str] = ()) -> Plan:
    """Remove the tokens ``declared`` and the IDs ``ids`` from a cafe that stores ``current_ids``."""
    current = set(current_ids)
    removals = sorted(({token.id for token in declared} | set(ids)) & current)
    return Plan([], removals, [], sorted(current - set(removals)))


def id_diff(before_ids: Iterable[str], after_ids: Iterable[str], replaced_ids: Iterable[str] = ()) -> dict[str, str]:
    """Diff mode: newline-joined sorted ID lists; a replaced ID is shown as ``<id> (secret replaced)``."""
    replaced = set(replaced_ids)
    after = [f'{token_id} (secret replaced)' if token_id in replaced else token_id for token_id in sorted(after_ids)]
    return {'before': '\n'.join(sorted(before_ids)), 'after': '\n'.join(after)}


def is_changed(
    created_ids: Sequence[str] = (),
    removed_ids: Sequence[str] = (),
    replaced_ids: Sequence[str] = (),
    minted_stored: bool = False,
) -> bool:
    """A run changed the cafe exactly when it stored, removed or replaced a token."""
    return bool(created_ids or removed_ids or replaced_ids or minted_stored)
