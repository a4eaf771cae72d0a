#!/usr/bin/python
# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: textile_cafe_token_info
short_description: Report the access tokens stored on a Textile Cafe
version_added: 1.0.0
description:
  - Lists the IDs of the access tokens a go-textile cafe stores (RV(stored)), and the node's versions.
  - Optionally checks given O(tokens), whether each is stored (by ID) and whether its secret matches the stored one
    (RV(checked)). The option O(tokens) and the return value RV(stored) are unrelated lists; RV(tokens) is a
    deprecated name of RV(stored).
  - Never changes anything.
  - Makes one list request and one C(GET /) request; without the C(bcrypt) Python library it also calls the
    validate endpoint once per given token whose ID is stored.
author:
  - textileio.textile maintainers (@textileio)
extends_documentation_fragment:
  - textileio.textile.connection
  - textileio.textile.attributes
  - textileio.textile.attributes.diff_none
options:
  ids:
    description:
      - Only report these token IDs (24 hexadecimal characters, any case) in RV(stored). IDs that are not stored
        are returned in RV(missing_ids).
    type: list
    elements: str
    aliases: [id]
  tokens:
    description:
      - Tokens to check. For each, RV(checked) says whether its ID is stored and whether its secret matches.
        They do not filter RV(stored) (use O(ids) for that).
      - The secret is checked locally with C(bcrypt) against the hash in the list answer when C(bcrypt) is installed
        on the host that runs the module. Without it the module calls the cafe's validate endpoint, and go-textile
        then writes the token into its log (C(<repo>/logs/textile.log)); the module warns when this happens.
    type: list
    elements: str
    aliases: [token]
notes:
  - No token is ever returned, only IDs. The go-textile API keeps no token names, dates or usage data.
  - A failed C(GET /) leaves RV(node) empty; a failed list request fails the module.
seealso:
  - module: textileio.textile.textile_cafe_token
  - plugin: textileio.textile.token_id
    plugin_type: filter
requirements:
  - bcrypt (Python library, 4.0 or later, optional) to check O(tokens) locally
"""

EXAMPLES = r"""
- name: Gather the token IDs of a cafe
  textileio.textile.textile_cafe_token_info:
  register: cafe_tokens

- name: Show them
  ansible.builtin.debug:
    msg: "{{ cafe_tokens.count }} tokens on go-textile {{ cafe_tokens.node.node_version | default('?') }}: {{ cafe_tokens.stored | map(attribute='id') }}"

- name: Check that the expected IDs are stored
  textileio.textile.textile_cafe_token_info:
    ids: "{{ expected_client_tokens | map('textileio.textile.token_id') }}"
  no_log: true
  register: expected
  failed_when: expected.missing_ids | length > 0

- name: Check whether a token is stored with the right secret
  textileio.textile.textile_cafe_token_info:
    tokens:
      - "{{ vaulted_client_token }}"
  no_log: true
  register: check

# checked answers for the given token; stored (and count) cover every token the cafe stores, given or not.
- name: Report the result
  ansible.builtin.debug:
    msg: >-
      stored: {{ check.checked[0].stored }}, valid: {{ check.checked[0].valid }},
      tokens on the cafe: {{ check.count }}
"""

RETURN = r"""
stored:
  description:
    - One entry per token the cafe stores, sorted by ID; when O(ids) is given, only the stored ones among them.
      Never a secret or a hash.
    - Not filtered by O(tokens); what was found for each given token is in RV(checked).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The token ID (24 lowercase hexadecimal characters).
      type: str
      returned: always
      sample: 3f1c0a9b7d2e4c6f8a0b1c2d
tokens:
  description:
    - Deprecated name of RV(stored), the same list; use RV(stored). Will be removed in version 2.0.0.
    - Not the O(tokens) given to check (those are in RV(checked)).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The token ID (24 lowercase hexadecimal characters).
      type: str
      returned: always
      sample: 3f1c0a9b7d2e4c6f8a0b1c2d
count:
  description: The number of entries in RV(stored).
  returned: always
  type: int
  sample: 1
missing_ids:
  description: The entries of O(ids) that are not stored, sorted; empty without O(ids).
  returned: always
  type: list
  elements: str
  sample: []
node:
  description:
    - The node's versions from C(GET /); empty when that request failed.
    - A value that does not look like a version (more than 32 characters, spaces, markup) is left out.
  returned: always
  type: dict
  contains:
    node_version:
      description: The go-textile version.
      type: str
      returned: when C(GET /) answered
      sample: 0.7.8
    cafe_version:
      description: The API version string.
      type: str
      returned: when C(GET /) answered
      sample: v0
checked:
  description: For each of O(tokens), in input order, whether it is stored and valid. Never the secret.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The token ID.
      type: str
      returned: always
      sample: 3f1c0a9b7d2e4c6f8a0b1c2d
    stored:
      description: Whether a token with this ID is stored.
      type: bool
      returned: always
      sample: true
    valid:
      description: Whether the token is stored with this secret, so a client can register with it.
      type: bool
      returned: always
      sample: true
"""

from typing import Any

from ansible_collections.textileio.textile.plugins.module_utils._client import TextileError
from ansible_collections.textileio.textile.plugins.module_utils._textile_module import ModuleFailure, TextileModule
from ansible_collections.textileio.textile.plugins.module_utils._token_plan import (
    PlanError,
    normalize_ids,
    normalize_tokens,
)

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    ids=dict(type='list', elements='str', aliases=['id']),
    tokens=dict(type='list', elements='str', no_log=True, aliases=['token']),
)


def read_node(module: TextileModule) -> dict[str, str]:
    """``GET /``: the node's versions, or an empty dict when that request fails."""
    try:
        return module.api.node_info()
    except TextileError:
        return {}


def gather(module: TextileModule) -> dict:
    """Read the cafe and return the facts."""
    try:
        ids = normalize_ids(module.params['ids'])
        tokens = normalize_tokens(module.params['tokens'], merge=False)
    except PlanError as err:
        raise ModuleFailure(str(err)) from None

    try:
        entries = module.tokens.entries()
    except TextileError as err:
        raise ModuleFailure('Listing the tokens failed', err) from None
    node = read_node(module)
    try:
        checked = [
            dict(
                id=token.id,
                stored=token.id in entries,
                valid=token.id in entries and module.secret_matches(token, entries[token.id]),
            )
            for token in tokens
        ]
    except TextileError as err:
        raise ModuleFailure('Checking a token secret failed', err) from None

    shown = sorted(set(ids) & set(entries)) if ids else sorted(entries)
    stored = [dict(id=token_id) for token_id in shown]
    return dict(
        changed=False,
        stored=stored,
        tokens=stored,  # deprecated name of stored (documented in RETURN), to be removed in 2.0.0
        count=len(stored),
        missing_ids=sorted(set(ids) - set(entries)),
        node=node,
        checked=checked,
    )


def main() -> None:
    module = TextileModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(lambda: gather(module))


if __name__ == '__main__':
    main()
