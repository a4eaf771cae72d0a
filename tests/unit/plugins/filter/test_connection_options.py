# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The textileio.textile.connection_options filter: the one mapping of role and inventory variables to options."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from jinja2 import Environment, StrictUndefined

from ansible_collections.textileio.textile.plugins.filter.connection_options import (
    OPTIONS,
    FilterModule,
    build_connection,
    variable_names,
)
from ansible_collections.textileio.textile.plugins.module_utils._textile_module import connection_argument_spec


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


def test_every_option_has_its_two_variables():
    names = {option: variable_names('cafe_tokens', option) for option in OPTIONS}
    assert names['api_url'] == ('cafe_tokens_api_url', 'textile_api_url')
    assert names['api_password'] == ('cafe_tokens_api_password', 'textile_api_password')
    assert names['validate_certs'] == ('cafe_tokens_api_validate_certs', 'textile_validate_certs')
    assert names['client_key'] == ('cafe_tokens_api_client_key', 'textile_client_key')
    assert names['use_proxy'] == ('cafe_tokens_api_use_proxy', 'textile_use_proxy')
    variables = {name: 'value of %s' % name for pair in names.values() for name in pair}
    assert build_connection(variables.get, 'cafe_tokens') == {
        option: 'value of %s' % names[option][0] for option in OPTIONS
    }


def test_the_options_are_the_connection_options_of_the_modules():
    assert sorted(OPTIONS) == sorted(connection_argument_spec())


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
