# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to this collection: it is not part of its public API
# and may change without notice.

"""Mark a returned value as a secret with ansible-core 2.22's secrets API; a no-op before 2.22."""

from __future__ import annotations

try:
    from ansible.module_utils.secrets import register_secret
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
