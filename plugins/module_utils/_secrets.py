# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to this collection: it is not part of its public API
# and may change without notice.

"""Secrets with ansible-core 2.22's secrets API, and what the same means before 2.22; the helpers that find
the values to hide in a module's arguments and result.

Before 2.22 a module hides a value by adding it to its ``no_log_values``, which it masks in its own result.
From 2.22 the module returns its result as it is, with the secrets it registered, and the controller masks
them wherever it shows anything; ``no_log_values`` alone then hides nothing.
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
