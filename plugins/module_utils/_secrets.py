# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to this collection: it is not part of its public API
# and may change without notice.

"""Secrets with ansible-core 2.22's secrets API, and what the same means before 2.22.

Before 2.22 a module hides a value by adding it to its ``no_log_values``, which it masks in its own result.
From 2.22 the module returns its result as it is, with the secrets it registered, and the controller masks
them wherever it shows anything; ``no_log_values`` alone then hides nothing.
"""

from __future__ import annotations

from typing import Any, Iterable

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
