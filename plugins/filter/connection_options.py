# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The textileio.textile.connection_options filter (documented in connection_options.yml).

The one place that maps the roles' connection variables to the modules' connection options.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from jinja2 import Undefined, pass_context
from jinja2.utils import missing

# The modules' connection options (plugins/doc_fragments/connection.py), in the order the docs give them.
OPTIONS = (
    'api_url',
    'api_version',
    'api_username',
    'api_password',
    'validate_certs',
    'ca_path',
    'client_cert',
    'client_key',
    'timeout',
    'retries',
    'headers',
    'use_proxy',
)


def variable_names(prefix: str, option: str) -> tuple[str, str]:
    """The role variable and the inventory variable that set ``option``, in the order they are tried.

    ``<prefix>_api_<option>`` with the option's own ``api_`` dropped (``cafe_tokens_api_url``,
    ``cafe_tokens_api_validate_certs``), then ``textile_<option>`` (``textile_api_url``, ``textile_validate_certs``).
    """
    short = option[len('api_') :] if option.startswith('api_') else option
    return f'{prefix}_api_{short}', f'textile_{option}'


def build_connection(lookup: Callable[[str], object], prefix: str) -> dict:
    """The connection options that ``lookup(name)`` sets; a variable that is missing or null sets nothing."""
    if not isinstance(prefix, str) or not prefix.isidentifier():
        raise AnsibleFilterError('connection_options: the input must be a role variable prefix such as cafe_tokens.')
    options = {}
    for option in OPTIONS:
        for name in variable_names(prefix, option):
            value = lookup(name)
            if value is not None:
                options[option] = value
                break
    return options


@pass_context
def connection_options(context: Any, prefix: str, variables: Mapping | None = None) -> dict:
    """The connection options set by ``<prefix>_api_*`` or ``textile_*`` variables of the current task, or of
    ``variables`` when given (for example ``hostvars[host]``, for another host's connection)."""
    if variables is not None and not isinstance(variables, Mapping):
        raise AnsibleFilterError('connection_options: variables must be a mapping such as hostvars[host].')

    def lookup(name: str) -> object:
        if variables is not None:
            value = variables[name] if name in variables else missing
        else:
            value = context.resolve_or_missing(name)
        return None if value is missing or isinstance(value, Undefined) else value

    return build_connection(lookup, prefix)


class FilterModule:
    """Filters of textileio.textile."""

    def filters(self) -> dict:
        return {'connection_options': connection_options}
