# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The textileio.textile.connection_options filter: the one mapping of role and inventory variables to options."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from jinja2 import Environment, StrictUndefined

from ansible_collections.textileio.textile.plugins.filter.connection_options import (
    OPTIONS,
    FilterModule,
    build_connection,
    variable_names,
)
from ansible_collections.textileio.textile.plugins.module_utils._textile_module import connection_argument_spec

ROOT = Path(__file__).resolve().parents[4]


def render(prefix, variables, template='{{ prefix | connection_options | tojson }}'):
    """The filter run by Jinja itself, with ``variables`` as the template's context."""
    env = Environment(undefined=StrictUndefined)
    env.filters.update(FilterModule().filters())
    return env.from_string(template).render(prefix=prefix, **variables)


def test_role_variable_wins_then_inventory_variable_then_nothing():
    variables = {
        'cafe_tokens_api_url': 'http://role:1',
        'textile_api_url': 'http://inventory:2',
        'textile_api_version': 'v0',
        'cafe_tokens_api_validate_certs': False,
        'textile_validate_certs': True,
        'textile_retries': 0,
        'cafe_tokens_api_timeout': None,
        'textile_timeout': 5.0,  # null on the role falls back
        'cafe_token_report_api_password': 'other-role',  # another role's variable is not read
        'textile_cafe_hosts': 'all',
        'textile_api_other': 'x',  # not connection variables
    }
    assert build_connection(variables.get, 'cafe_tokens') == {
        'api_url': 'http://role:1',
        'api_version': 'v0',
        'validate_certs': False,
        'retries': 0,
        'timeout': 5.0,
    }


def test_nothing_set_gives_an_empty_dict_so_module_defaults_apply():
    assert build_connection({}.get, 'cafe_token_report') == {}


# Every connection option of the modules, with the role variable and then the inventory variable that set it.
VARIABLES = {
    'api_url': ('cafe_tokens_api_url', 'textile_api_url'),
    'api_version': ('cafe_tokens_api_version', 'textile_api_version'),
    'api_username': ('cafe_tokens_api_username', 'textile_api_username'),
    'api_password': ('cafe_tokens_api_password', 'textile_api_password'),
    'validate_certs': ('cafe_tokens_api_validate_certs', 'textile_validate_certs'),
    'ca_path': ('cafe_tokens_api_ca_path', 'textile_ca_path'),
    'client_cert': ('cafe_tokens_api_client_cert', 'textile_client_cert'),
    'client_key': ('cafe_tokens_api_client_key', 'textile_client_key'),
    'timeout': ('cafe_tokens_api_timeout', 'textile_timeout'),
    'retries': ('cafe_tokens_api_retries', 'textile_retries'),
    'headers': ('cafe_tokens_api_headers', 'textile_headers'),
    'use_proxy': ('cafe_tokens_api_use_proxy', 'textile_use_proxy'),
}


def test_every_connection_option_of_the_modules_has_its_two_variables():
    assert set(VARIABLES) == set(connection_argument_spec()) == set(OPTIONS)
    assert {option: variable_names('cafe_tokens', option) for option in OPTIONS} == VARIABLES
    both = {name: f'value of {name}' for pair in VARIABLES.values() for name in pair}
    assert build_connection(both.get, 'cafe_tokens') == {
        option: f'value of {role}' for option, (role, dummy) in VARIABLES.items()
    }
    inventory_only = {inventory: f'value of {inventory}' for dummy, inventory in VARIABLES.values()}
    assert build_connection(inventory_only.get, 'cafe_tokens') == {
        option: f'value of {inventory}' for option, (dummy, inventory) in VARIABLES.items()
    }


def test_the_role_documents_every_role_variable():
    specs = yaml.safe_load((ROOT / 'roles' / 'cafe_tokens' / 'meta' / 'argument_specs.yml').read_text())
    documented = set(specs['argument_specs']['main']['options'])
    assert {role for role, dummy in VARIABLES.values()} <= documented


def test_the_filter_reads_the_template_context():
    assert (
        render('cafe_token_report', {'textile_api_url': 'http://a:1', 'cafe_token_report_api_retries': 2})
        == '{"api_url": "http://a:1", "retries": 2}'
    )


def test_the_filter_reads_a_given_mapping_instead_of_the_context():
    other = {'textile_api_url': 'http://other:3', 'cafe_tokens_api_password': None}
    assert (
        render(
            'cafe_tokens',
            {'textile_api_url': 'http://mine:1', 'other': other},
            '{{ prefix | connection_options(other) | tojson }}',
        )
        == '{"api_url": "http://other:3"}'
    )
    with pytest.raises(AnsibleFilterError, match='mapping'):
        render('cafe_tokens', {'other': ['a']}, '{{ prefix | connection_options(other) }}')


@pytest.mark.parametrize('prefix', ['', 'not a prefix', None, 3])
def test_a_bad_prefix_fails(prefix):
    with pytest.raises(AnsibleFilterError, match='prefix'):
        build_connection({}.get, prefix)
