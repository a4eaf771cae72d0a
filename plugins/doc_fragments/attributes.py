# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Attributes shared by the textileio.textile modules (textileio.textile.attributes)."""

    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the changed status prediction without modifying the cafe.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
  action_group:
    description: Use C(group/textileio.textile.textile) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - textileio.textile.textile
"""

    DIFF_FULL = r"""
options: {}
attributes:
  diff_mode:
    description: Shows the sorted token IDs stored before and after the run; never a secret.
    support: full
"""

    DIFF_NONE = r"""
options: {}
attributes:
  diff_mode:
    description: The module never changes anything, so there is nothing to show.
    support: none
"""
