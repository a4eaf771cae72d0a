# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""textile_cafe_token_info main() against the in-process simulator."""

from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.textileio.textile.plugins.module_utils._token_format import token_id
from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token_info as module
from ansible_collections.textileio.textile.tests.simulator.pytest_plugin import make_token
from ansible_collections.textileio.textile.tests.unit.plugins.modules.helpers import (
    api_requests,
    assert_no_secret,
)


@pytest.fixture
def run(run_module, sim):
    def call(**args):
        result = run_module(module, dict({'api_url': sim.url, 'retries': 0}, **args))
        assert_no_secret(result, args.get('tokens') or [])
        assert result['failed'] or result['changed'] is False
        return result

    return call


def test_reports_ids_count_and_node(run, sim):
    tokens = [make_token() for index in range(4)]
    sim.control.seed(tokens)
    result = run(_ansible_check_mode=True)
    assert result['stored'] == [{'id': i} for i in sorted(map(token_id, tokens))]
    assert result['tokens'] == result['stored']  # the deprecated name of the same list
    assert result['count'] == 4 and result['missing_ids'] == [] and result['checked'] == []
    assert result['node'] == {'node_version': '0.7.8', 'cafe_version': 'v0'}
    assert [(r['method'], r['path']) for r in api_requests(sim)] == [('GET', '/api/v0/tokens'), ('GET', '/')]


def test_filter_by_ids_and_missing_ids(run, sim):
    a, b = make_token(), make_token()
    sim.control.seed([a, b])
    absent = 'ab' * 12
    result = run(ids=[f' {token_id(a).upper()} ', absent])
    assert result['stored'] == [{'id': token_id(a)}] and result['count'] == 1
    assert result['missing_ids'] == [absent]


def test_given_tokens_are_checked_and_never_filter_the_stored_list(run, sim):
    """tokens (the option) are checked; stored (the result) lists the cafe's tokens, filtered by ids only."""
    a, b, c = make_token(), make_token(), make_token()
    sim.control.seed([a, b, c])
    result = run(tokens=[a, b], ids=[token_id(b), token_id(c)])
    assert result['checked'] == [
        {'id': token_id(a), 'stored': True, 'valid': True},
        {'id': token_id(b), 'stored': True, 'valid': True},
    ]
    assert result['stored'] == result['tokens'] == [{'id': i} for i in sorted([token_id(b), token_id(c)])]
    assert result['count'] == 2 and result['missing_ids'] == []


def test_checked_with_bcrypt_makes_no_extra_request(run, sim):
    ident = os.urandom(12)
    good, wrong_secret, unknown = make_token(), make_token(ident), make_token()
    sim.control.seed([good, make_token(ident)])
    result = run(tokens=[unknown, good, wrong_secret, good])
    assert result['checked'] == [
        {'id': token_id(unknown), 'stored': False, 'valid': False},
        {'id': token_id(good), 'stored': True, 'valid': True},
        {'id': ident.hex(), 'stored': True, 'valid': False},
        {'id': token_id(good), 'stored': True, 'valid': True},
    ]
    assert len(api_requests(sim)) == 2 and result['warnings'] == []


def test_checked_without_bcrypt_validates_stored_tokens_and_warns(run, sim, monkeypatch):
    monkeypatch.setitem(sys.modules, 'bcrypt', None)  # import bcrypt now raises ImportError
    ident = os.urandom(12)
    good, wrong_secret, unknown = make_token(), make_token(ident), make_token()
    sim.control.seed([good, make_token(ident)])
    result = run(tokens=[good, wrong_secret, unknown])
    assert [c['valid'] for c in result['checked']] == [True, False, False]
    assert [r['method'] for r in api_requests(sim)] == ['GET'] * 4
    assert len(result['warnings']) == 1 and "go-textile's log" in result['warnings'][0]


def test_failed_root_leaves_node_empty(run, sim):
    sim.control.add_fault(method='GET', path='/', action='status', status=500)
    result = run()
    assert not result['failed'] and result['node'] == {}


def test_failed_list_fails(run, sim):
    sim.control.add_fault(method='GET', path='/api/v0/tokens', action='status', status=500, body='db error')
    result = run()
    assert result['failed'] and 'db error' in result['msg'] and result['msg'].startswith('Listing the tokens failed: ')


@pytest.mark.parametrize(
    'args, expected',
    [
        (dict(ids=['ab' * 12, 'xyz']), 'ids[1]'),
        (dict(tokens=['nope']), 'tokens[0]'),
    ],
)
def test_bad_input_fails_before_any_request(run, sim, args, expected):
    result = run(**args)
    assert result['failed'] and expected in result['msg'] and api_requests(sim) == []


def test_a_failed_secret_check_fails_naming_it(run, sim, monkeypatch):
    monkeypatch.setitem(sys.modules, 'bcrypt', None)  # the secret is checked with the validate endpoint
    token = make_token()
    sim.control.seed([token])
    sim.control.add_fault(method='GET', path=f'/api/v0/tokens/{token}', action='status', status=500, body='db error')
    result = run(tokens=[token])
    assert result['failed'] and result['msg'].startswith('Checking a token secret failed: ')
    assert 'db error' in result['msg'] and result['error']['status'] == 500
