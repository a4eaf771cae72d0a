# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to this collection: it is not part of its public API
# and may change without notice.

"""Secrets with ansible-core 2.22's secrets API, and what the same means before 2.22; the helpers that find
the values to hide in a module's arguments and result, and the one masking of a result before 2.22.

Before 2.22 a module hides a value by adding it to its ``no_log_values``, which it masks in its own result.
From 2.22 the module returns its result as it is, with the secrets it registered, and the controller masks
them wherever it shows anything; ``no_log_values`` alone then hides nothing.

Before 2.22 Ansible's ``remove_values`` compares every string of the result with every no_log value: with
the invocation returned (the declared tokens are in it) that is N * N comparisons for N declared tokens.
``Masker`` finds every value in one pass over each string instead, and the module hands Ansible the result
already masked.
"""

from __future__ import annotations

from typing import Any, Iterable

from ansible_collections.textileio.textile.plugins.module_utils._token_format import TOKEN_RUN

try:
    from ansible.module_utils.secrets import register_secret, register_secrets

    HAS_SECRETS_API = True
except ImportError:
    HAS_SECRETS_API = False


def mark_secret(value: str) -> str:
    """Register ``value`` as a secret (masked wherever Ansible shows it) and return it."""
    if HAS_SECRETS_API and isinstance(value, str) and value:
        marked = register_secret(value)
        if marked is not None:
            return marked
    return value


def hide(module: Any, values: Iterable[object]) -> None:
    """Hide ``values`` wherever Ansible shows the result of ``module``, on every ansible-core."""
    texts = {value for value in values if isinstance(value, str) and value}
    module.no_log_values.update(texts)
    if HAS_SECRETS_API and texts:
        register_secrets(texts)


def strings_in(value: object, keys: bool = True) -> list[str]:
    """Every string in a parameter value (nested lists and dicts, and the dicts' keys unless ``keys`` is false)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [
            text for key, item in value.items() for text in (strings_in(key) if keys else []) + strings_in(item, keys)
        ]
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in strings_in(item, keys)]
    return []


def leaf_texts(value: object) -> list[str]:
    """The text of every leaf of a result (strings, and numbers as Ansible compares them) and of every key."""
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in leaf_texts(key) + leaf_texts(item)]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [text for item in value for text in leaf_texts(item)]
    if isinstance(value, bytes):
        return [value.decode('utf-8', 'surrogateescape')]
    return [value if isinstance(value, str) else str(value)]


def keys_in(value: object) -> list[object]:
    """Every mapping key in a parameter value, at any depth."""
    if isinstance(value, dict):
        return [key for name, item in value.items() for key in [name] + keys_in(item)]
    if isinstance(value, (list, tuple)):
        return [key for item in value for key in keys_in(item)]
    return []


def mask_keys(value: object) -> object:
    """``value`` with every token-shaped run in a mapping key (at any depth) replaced by ``********``."""
    if isinstance(value, dict):
        return {
            TOKEN_RUN.sub('********', key) if isinstance(key, str) else key: mask_keys(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [mask_keys(item) for item in value]
    return value


def token_runs(value: object) -> list[str]:
    """Every base58 run long enough to be a token in a parameter value."""
    return [run for text in strings_in(value) for run in TOKEN_RUN.findall(text)]


MASK = '********'  # what Ansible's remove_values puts where a no_log value occurs inside a string
WHOLE = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'  # what it returns for a string that is one, or a number holding one
_ANCHOR = 4  # a value this long or longer is looked up by its first _ANCHOR characters, a shorter one by its first


class Masker:
    """Masks every occurrence of any of ``values`` (the strings among them) as Ansible's ``remove_values`` does,
    in time linear in the text masked, however many values there are.

    Each value is indexed by its first characters and its length, so a position of a text costs one dictionary
    lookup and one set lookup per length of the values that start there (2.22's secret masker works alike).
    Where Ansible replaces the values one after another, longest first, this masks the union of every
    occurrence of every value: where occurrences overlap it hides what Ansible hides, and more.
    """

    def __init__(self, values: Iterable[object]) -> None:
        self.values = {value for value in values if isinstance(value, str) and value}
        self._index: dict[str, dict[int, set[str]]] = {}
        for value in self.values:
            self._index.setdefault(value[:_ANCHOR], {}).setdefault(len(value), set()).add(value)
        self._shortest = min(map(len, self.values), default=1)
        self._anchors = sorted({len(anchor) for anchor in self._index})

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every occurrence of a value in ``text``, overlapping ones included, by start."""
        found: list[tuple[int, int]] = []
        index = self._index
        for start in range(len(text) - self._shortest + 1):
            for size in self._anchors:
                anchor = text[start : start + size]
                if len(anchor) < size:
                    break
                for length, group in index.get(anchor, {}).items():
                    if text[start : start + length] in group:
                        found.append((start, start + length))
        return found

    def occurring(self, texts: Iterable[str]) -> set[str]:
        """The values that occur in any of ``texts``."""
        return {text[start:end] for text in texts for start, end in self.spans(text)}

    def mask_text(self, text: str) -> str:
        """``text`` with every occurrence of a value replaced by MASK (overlapping occurrences by one MASK)."""
        parts, shown = [], 0
        for start, end in self.spans(text):
            if start < shown:  # overlaps the previous occurrence: one mask for both
                shown = max(shown, end)
                continue
            parts += [text[shown:start], MASK]
            shown = end
        return ''.join(parts) + text[shown:] if parts else text

    def mask(self, value: Any) -> Any:
        """A copy of a result with its strings masked as ``remove_values`` masks them (keys are never masked)."""
        if isinstance(value, str):
            return WHOLE if value in self.values else self.mask_text(value)
        if isinstance(value, bytes):
            text = value.decode('utf-8', 'surrogateescape')
            return WHOLE if text in self.values else self.mask_text(text).encode('utf-8', 'surrogateescape')
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return WHOLE if self.spans(str(value)) else value
        if isinstance(value, dict):
            return {key: self.mask(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.mask(item) for item in value]
        if isinstance(value, (set, frozenset)):
            return {self.mask(item) for item in value}
        return value


def masked(value: Any, no_log_values: Iterable[object]) -> tuple[Any, set[str]]:
    """``value`` with ``no_log_values`` masked as ``remove_values`` would, in one pass, and the values Ansible
    still has to search it for: those that occur in it, which only masks can form (each contains ``*``)."""
    masker = Masker(no_log_values)
    result = masker.mask(value)
    starred = Masker(text for text in masker.values if '*' in text)
    if not starred.values:  # the usual case: no mask can form any value, so the result need not be searched
        return result, set()
    return result, starred.occurring(leaf_texts(result))
