# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""textile_cafe_token main() against the in-process simulator: results, request counts, failures, secrets."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import types

import pytest

from ansible_collections.textileio.textile.plugins.module_utils import _secrets
from ansible_collections.textileio.textile.plugins.module_utils import _textile_module as _module
from ansible_collections.textileio.textile.plugins.module_utils._client import TextileError, Tokens
from ansible_collections.textileio.textile.plugins.module_utils._token_format import token_id
from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token as module
from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token_info as info_module
from ansible_collections.textileio.textile.tests.simulator.pytest_plugin import make_token
from ansible_collections.textileio.textile.tests.unit.plugins.modules.helpers import (
    MASK,
    api_requests,
    assert_no_secret,
    run_entry_point,
)


@pytest.fixture
def run(run_module, sim):
    """Run the module against the simulator; every result is checked for leaked secrets."""

    def call(tokens_used=(), allowed_key=None, **args):
        result = run_module(module, dict({'api_url': sim.url, 'retries': 0}, **args))
        assert_no_secret(result, list(tokens_used) + list(args.get('tokens') or []), allowed_key)
        return result

    return call


def ids(*tokens):
    return sorted(token_id(token) for token in tokens)


def answer_lost():
    """The client's error for an import that was sent and whose answer was lost (the connection reset)."""
    return TextileError('POST /api/v0/tokens: reset', kind='connection', method='POST', sent=True)


class TestDeclare:
    def test_first_converge_then_noop(self, run, sim):
        tokens = [make_token() for index in range(5)]
        first = run(tokens=tokens)
        assert first['changed'] is True and not first['failed']
        assert first['created_ids'] == ids(*tokens) == first['ids'] == sim.control.state_ids()
        assert first['removed_ids'] == [] and first['replaced_ids'] == []
        assert [r['method'] for r in api_requests(sim)] == ['GET'] + ['POST'] * 5
        assert all(r['headers']['X-Textile-Opts'].endswith('store=true') for r in api_requests(sim, 'POST'))

        sim.control.clear_requests()
        second = run(tokens=list(reversed(tokens)))
        assert second['changed'] is False and second['created_ids'] == []
        assert second['ids'] == ids(*tokens)
        assert len(api_requests(sim)) == 1

    def test_noop_is_one_request_for_many_tokens(self, run, sim):
        tokens = [make_token() for index in range(60)]
        sim.control.seed(tokens)
        result = run(tokens=tokens, verify_secret=True)
        assert result['changed'] is False and result['replaced_ids'] == []
        assert [(r['method'], r['path']) for r in api_requests(sim)] == [('GET', '/api/v0/tokens')]

    def test_already_stored_are_not_created(self, run, sim):
        stored, fresh = make_token(), make_token()
        sim.control.seed([stored, make_token()])
        result = run(tokens=[stored, f'  {fresh} '])
        assert result['created_ids'] == [token_id(fresh)]
        assert len(api_requests(sim)) == 2

    def test_input_fixtures(self, run, sim):
        tokens = [
            make_token(b'\0' + os.urandom(11)),
            make_token(b'\x01' + os.urandom(11)),
            make_token(secret=b'\0' + os.urandom(31)),
        ]
        result = run(tokens=tokens)
        assert result['created_ids'] == ids(*tokens) == sim.control.state_ids()
        assert all(sim.validate_token(token) for token in tokens)
        assert run(tokens=tokens, verify_secret=True)['changed'] is False

    def test_check_mode_predicts_and_writes_nothing(self, run, sim):
        keep, extra = make_token(), make_token()
        sim.control.seed([keep, extra])
        tokens = [keep, make_token(), make_token()]
        args = dict(tokens=tokens, exclusive=True)
        predicted = run(_ansible_check_mode=True, _ansible_diff=True, **args)
        assert [r['method'] for r in api_requests(sim)] == ['GET']
        assert sim.control.state_ids() == ids(keep, extra)
        sim.control.clear_requests()
        real = run(_ansible_diff=True, **args)
        for key in ('changed', 'ids', 'created_ids', 'removed_ids', 'replaced_ids', 'diff'):
            assert predicted[key] == real[key], key
        assert real['removed_ids'] == ids(extra) and real['ids'] == sim.control.state_ids()
        assert [r['method'] for r in api_requests(sim)] == ['GET', 'DELETE', 'GET', 'POST', 'POST']

    def test_exclusive_with_keep_ids_and_confirming_list(self, run, sim):
        declared, kept, dropped = make_token(), make_token(), make_token()
        sim.control.seed([declared, kept, dropped])
        result = run(tokens=[declared], exclusive=True, keep_ids=[token_id(kept).upper()])
        assert result['removed_ids'] == ids(dropped) and result['changed'] is True
        assert sim.control.state_ids() == result['ids'] == ids(declared, kept)
        assert [r['method'] for r in api_requests(sim)] == ['GET', 'DELETE', 'GET']
        assert not any(r['secret_in_path'] for r in api_requests(sim))

    def test_exclusive_empty_list_removes_all(self, run, sim):
        tokens = [make_token() for index in range(3)]
        sim.control.seed(tokens)
        result = run(tokens=[], exclusive=True, _ansible_diff=True)
        assert result['removed_ids'] == ids(*tokens) and result['ids'] == [] == sim.control.state_ids()
        assert result['diff'] == {'before': '\n'.join(ids(*tokens)), 'after': ''}

    def test_empty_list_never_mints(self, run, sim):
        result = run(tokens=[])
        assert result['changed'] is False and 'token' not in result
        assert [r['method'] for r in api_requests(sim)] == ['GET']


class TestVerifySecret:
    def test_mismatched_secret_is_replaced(self, run, sim):
        ident = os.urandom(12)
        old, new = make_token(ident), make_token(ident)
        other = make_token()
        sim.control.seed([old, other])
        result = run(tokens=[new, other], verify_secret=True, _ansible_diff=True, tokens_used=[old])
        assert result['replaced_ids'] == [ident.hex()] and result['changed'] is True
        assert result['created_ids'] == [] and result['removed_ids'] == []
        assert sim.validate_token(new) and not sim.validate_token(old)
        assert f'{ident.hex()} (secret replaced)' in result['diff']['after'].split('\n')
        assert [r['method'] for r in api_requests(sim)] == ['GET', 'DELETE', 'GET', 'POST']

    def test_without_verify_secret_mismatch_is_ignored(self, run, sim):
        ident = os.urandom(12)
        sim.control.seed([make_token(ident)])
        assert run(tokens=[make_token(ident)])['changed'] is False

    def test_without_bcrypt_uses_validate_and_warns(self, run, sim, monkeypatch):
        monkeypatch.setitem(sys.modules, 'bcrypt', None)  # import bcrypt now raises ImportError
        ident = os.urandom(12)
        good, old, new = make_token(), make_token(ident), make_token(ident)
        sim.control.seed([good, old])
        result = run(tokens=[good, new, make_token()], verify_secret=True, tokens_used=[old])
        assert result['replaced_ids'] == [ident.hex()]
        assert any("go-textile's log" in warning for warning in result['warnings'])
        methods = [r['method'] for r in api_requests(sim)]
        assert methods == ['GET', 'GET', 'GET', 'DELETE', 'GET', 'POST', 'POST']

    def test_an_old_bcrypt_that_refuses_nul_bytes_never_replaces_a_good_token(self, run, sim, monkeypatch):
        bcrypt = pytest.importorskip('bcrypt')

        def checkpw(password, hashed):  # bcrypt before 4.0
            if b'\0' in password:
                raise ValueError('password may not contain NUL bytes')
            return bcrypt.checkpw(password, hashed)

        # The module imports bcrypt when it checks a secret; the simulator keeps the real one it imported.
        monkeypatch.setitem(sys.modules, 'bcrypt', types.SimpleNamespace(checkpw=checkpw))
        token = make_token(secret=b'\0' + os.urandom(31))
        sim.control.seed([token])
        result = run(tokens=[token], verify_secret=True)
        assert not result['failed'] and result['changed'] is False and result['replaced_ids'] == []
        assert [r['method'] for r in api_requests(sim)] == ['GET', 'GET']  # the list, then the cafe's check
        assert any("go-textile's log" in warning for warning in result['warnings'])

    def test_replacement_import_failure_says_the_id_is_missing(self, run, sim):
        ident = os.urandom(12)
        sim.control.seed([make_token(ident)])
        new = make_token(ident)
        sim.control.add_fault(method='POST', path='/api/v0/tokens', action='status', status=500, body='boom')
        result = run(tokens=[new], verify_secret=True)
        assert result['failed'] and result['replaced_ids'] == []
        assert ident.hex() in result['msg'] and 'now missing' in result['msg'] and 'boom' in result['msg']
        assert sim.control.state_ids() == []
        sim.control.clear_faults()
        assert run(tokens=[new], verify_secret=True)['created_ids'] == [ident.hex()]
        assert sim.validate_token(new)


class TestAbsent:
    def test_by_token_and_by_id(self, run, sim):
        a, b, c = make_token(), make_token(), make_token()
        sim.control.seed([a, b, c])
        result = run(state='absent', tokens=[a, make_token()], ids=[token_id(b).upper(), 'ab' * 12])
        assert result['removed_ids'] == ids(a, b) == sorted(result['removed_ids'])
        assert result['ids'] == ids(c) == sim.control.state_ids()
        requests = api_requests(sim)
        assert [r['method'] for r in requests] == ['GET', 'DELETE', 'DELETE', 'GET']
        assert not any(r['secret_in_path'] for r in requests)

    def test_absent_things_are_no_change(self, run, sim):
        sim.control.seed([make_token()])
        result = run(state='absent', tokens=[make_token()], ids=[])
        assert result['changed'] is False and result['removed_ids'] == []
        assert len(api_requests(sim)) == 1

    def test_removed_id_still_listed_fails(self, run, sim):
        token = make_token()
        sim.control.seed([token])
        sim.control.add_fault(method='DELETE', action='status', status=204)
        result = run(state='absent', ids=[token_id(token)])
        assert result['failed'] and result['removed_ids'] == []
        assert token_id(token) in result['msg'] and 'still lists' in result['msg']

    def test_check_mode_removal_makes_only_the_list_request(self, run, sim):
        token = make_token()
        sim.control.seed([token])
        result = run(state='absent', tokens=[token], _ansible_check_mode=True)
        assert result['changed'] is True and result['removed_ids'] == ids(token) and result['ids'] == []
        assert sim.control.state_ids() == ids(token) and len(api_requests(sim)) == 1


class TestMint:
    def test_stored_mint_returns_the_token_once(self, run, sim):
        existing = make_token()
        sim.control.seed([existing])
        result = run(allowed_key='token', _ansible_diff=True)
        token = result['token']
        assert result['changed'] is True and result['token_id'] == token_id(token)
        assert result['created_ids'] == [result['token_id']]
        assert result['ids'] == sorted(ids(existing) + [result['token_id']]) == sim.control.state_ids()
        assert sim.validate_token(token)
        assert_no_secret(result, [token], allowed_key='token')
        posts = api_requests(sim, 'POST')
        assert len(posts) == 1 and posts[0]['headers']['X-Textile-Opts'] == 'store=true'

    def test_unstored_mint_changes_nothing_and_runs_in_check_mode(self, run, sim):
        result = run(store=False, _ansible_check_mode=True, allowed_key='token')
        assert result['changed'] is False and result['created_ids'] == []
        assert sim.control.state_ids() == [] and not sim.validate_token(result['token'])
        assert api_requests(sim, 'POST')[0]['headers']['X-Textile-Opts'] == 'store=false'

    def test_stored_mint_in_check_mode_makes_no_post(self, run, sim):
        result = run(_ansible_check_mode=True)
        assert result['changed'] is True and 'token' not in result and 'token_id' not in result
        assert [r['method'] for r in api_requests(sim)] == ['GET'] and sim.control.state_ids() == []

    def test_minted_token_is_marked_secret_on_core_2_22(self, run, sim, secrets_api):
        dummy, marked, marked_class = secrets_api
        result = run(allowed_key='token')
        assert marked == [result['token']] and isinstance(result['token'], marked_class)
        assert sim.validate_token(result['token'])

    def test_without_secrets_api_the_token_is_plain(self, run, monkeypatch):
        monkeypatch.setattr(_secrets, 'HAS_SECRETS_API', False)  # ansible-core before 2.22
        result = run(store=False, allowed_key='token')
        assert result['token'].__class__ is str

    def test_failed_stored_mint_reports_orphaned_ids(self, run, sim, monkeypatch):
        def create(self, token=None, store=True):
            sim.control.seed([make_token()])
            raise TextileError('POST /api/v0/tokens: no answer', kind='timeout', method='POST', sent=True)

        monkeypatch.setattr(Tokens, 'create', create)
        result = run()
        assert result['failed'] and result['orphaned_ids'] == sim.control.state_ids()
        assert result['orphaned_ids'][0] in result['msg'] and 'ids' in result['msg']
        assert len(api_requests(sim, 'GET')) == 2

    def test_unstored_mint_reports_the_stored_ids_unchanged(self, run, sim):
        existing = make_token()
        sim.control.seed([existing])
        result = run(store=False, _ansible_diff=True, allowed_key='token')
        assert result['changed'] is False and result['token_id'] == token_id(result['token'])
        assert result['ids'] == ids(existing)
        assert result['created_ids'] == result['removed_ids'] == result['replaced_ids'] == []
        assert result['diff'] == {'before': token_id(existing), 'after': token_id(existing)}

    def test_stored_mint_in_check_mode_shows_the_id_to_come_in_the_diff(self, run, sim):
        existing = make_token()
        sim.control.seed([existing])
        result = run(_ansible_check_mode=True, _ansible_diff=True)
        assert result['ids'] == ids(existing) and result['created_ids'] == []
        assert result['diff'] == {
            'before': token_id(existing),  # the after list is sorted, like every ID list
            'after': f'(the ID of the minted token)\n{token_id(existing)}',
        }

    def test_a_failed_stored_mint_that_stored_nothing_says_so(self, run, sim, monkeypatch):
        def create(self, token=None, store=True):
            raise TextileError('POST /api/v0/tokens: no answer', kind='timeout', method='POST', sent=True)

        monkeypatch.setattr(Tokens, 'create', create)
        result = run()
        assert result['failed'] and result['orphaned_ids'] == [] and 'No new ID appeared' in result['msg']
        assert result['msg'].startswith('Minting a token failed after the request may have reached the cafe')
        assert result['error']['kind'] == 'timeout'

    def test_a_failed_stored_mint_names_every_new_id_and_a_failed_second_list(self, run, sim, monkeypatch):
        new = sorted([make_token(), make_token()], key=token_id)

        def create(self, token=None, store=True):
            sim.control.seed(new)
            raise TextileError('POST /api/v0/tokens: no answer', kind='timeout', method='POST', sent=True)

        monkeypatch.setattr(Tokens, 'create', create)
        result = run()
        assert result['orphaned_ids'] == ids(*new) and f"{token_id(new[0])}, {token_id(new[1])};" in result['msg']

        def create_then_fail_the_list(self, token=None, store=True):
            sim.control.add_fault(method='GET', path='/api/v0/tokens', action='status', status=500, count=1)
            raise TextileError('POST /api/v0/tokens: no answer', kind='timeout', method='POST', sent=True)

        monkeypatch.setattr(Tokens, 'create', create_then_fail_the_list)
        result = run()
        assert result['failed'] and result['msg'].startswith(
            'Minting a token failed (POST /api/v0/tokens: no answer); listing the tokens to look for an orphaned '
            'token failed: '
        )

    def test_a_failed_unstored_mint_looks_for_no_orphan(self, run, sim, monkeypatch):
        def create(self, token=None, store=True):
            raise TextileError('POST /api/v0/tokens: no answer', kind='timeout', method='POST', sent=True)

        monkeypatch.setattr(Tokens, 'create', create)
        result = run(store=False)
        assert result['failed'] and result['msg'].startswith('Minting a token failed: ')
        assert 'orphaned_ids' not in result and [r['method'] for r in api_requests(sim)] == ['GET']


class TestImportFailures:
    def test_duplicate_answer_is_decided_by_the_list(self, run, sim, monkeypatch):
        token = make_token()
        real_create = Tokens.create

        def create(self, token=None, store=True):
            sim.control.seed([token])  # another play stores it first
            return real_create(self, token, store)

        monkeypatch.setattr(Tokens, 'create', create)
        result = run(tokens=[token])
        assert not result['failed'] and result['created_ids'] == [] and result['ids'] == ids(token)
        assert [r['status'] for r in api_requests(sim)] == [200, 400, 200]

    def test_400_with_id_absent_fails_quoting_the_server(self, run, sim):
        sim.control.add_fault(method='POST', action='status', status=400, body='invalid token format')
        result = run(tokens=[make_token()], retries=3)
        assert result['failed'] and 'invalid token format' in result['msg'] and 'tokens[0]' in result['msg']
        assert len(api_requests(sim, 'POST')) == 1

    def test_sent_failure_with_token_stored_counts_as_imported(self, run, sim, monkeypatch):
        def create(self, token=None, store=True):
            sim.control.seed([token])
            raise answer_lost()

        monkeypatch.setattr(Tokens, 'create', create)
        token = make_token()
        result = run(tokens=[token])
        assert not result['failed'] and result['created_ids'] == ids(token)

    def test_sent_failure_with_token_absent_is_retried_within_budget(self, run, sim, monkeypatch):
        slept = []
        monkeypatch.setattr(time, 'sleep', slept.append)
        sim.control.add_fault(method='POST', action='status', status=503, count=2)
        token = make_token()
        result = run(tokens=[token], retries=2)
        assert not result['failed'] and result['created_ids'] == ids(token)
        assert [r['method'] for r in api_requests(sim)] == ['GET', 'POST', 'GET', 'POST', 'GET', 'POST']
        assert slept == [0.5, 1.0]

    @pytest.mark.parametrize('concurrency', [1, 4])
    def test_partial_failure_names_work_done_and_rerun_converges(self, run, sim, concurrency):
        tokens = sorted((make_token() for index in range(3)), key=token_id)
        stale = make_token()
        sim.control.seed([stale])
        # The failing answer comes late, so that in parallel the other imports are surely in flight by then.
        sim.control.add_fault(method='POST', action='status', status=500, body='disk full', count=1, delay=1.0)
        result = run(tokens=tokens, exclusive=True, concurrency=concurrency)
        assert result['failed'] and result['removed_ids'] == ids(stale)
        # One at a time, the first failure stops the rest; in parallel, the imports in flight end first.
        assert result['created_ids'] == sim.control.state_ids()
        assert len(result['created_ids']) == (0 if concurrency == 1 else 2)
        assert all(created in result['msg'] for created in result['created_ids'])
        assert ids(stale)[0] in result['msg'] and 'disk full' in result['msg']
        sim.control.clear_faults()
        again = run(tokens=tokens, exclusive=True)
        assert sorted(again['created_ids'] + result['created_ids']) == ids(*tokens) == sim.control.state_ids()

    def test_failure_after_an_import_lists_created_ids(self, run, sim, monkeypatch):
        tokens = sorted((make_token() for index in range(2)), key=token_id)
        real_create = Tokens.create

        def create(self, token=None, store=True):
            if token == tokens[1]:  # by token, not by call: the two imports run in parallel
                sim.control.add_fault(method='GET', action='status', status=500, body='db locked')
                raise answer_lost()
            return real_create(self, token, store)

        monkeypatch.setattr(Tokens, 'create', create)
        result = run(tokens=tokens)
        assert result['failed'] and result['created_ids'] == ids(tokens[0])
        assert f'created {token_id(tokens[0])}' in result['msg']


class TestInputAndConnection:
    @pytest.mark.parametrize(
        'args, expected',
        [
            (dict(tokens=['good', 'not-a-token']), 'tokens[0]'),
            (dict(tokens=['GOOD', '']), 'tokens[1]'),
            (dict(state='absent', ids=['abc']), 'ids[0]'),
            (dict(tokens=['GOOD'], exclusive=True, keep_ids=['GOOD', 'zz']), 'keep_ids[0]'),
            (dict(ids=['ab' * 12]), 'ids can only be used with state=absent'),
            (dict(state='absent', tokens=['GOOD'], exclusive=True), 'exclusive cannot be used with state=absent'),
            (dict(tokens=['GOOD'], store=True), 'store only applies to minting'),
            (dict(state='absent'), 'needs tokens, ids'),
        ],
    )
    def test_bad_input_fails_before_any_request(self, run, sim, args, expected):
        good = make_token()
        args = {
            key: [good if value == 'GOOD' else value for value in values] if isinstance(values, list) else values
            for key, values in args.items()
        }
        result = run(**args)
        assert result['failed'] and expected in result['msg']
        assert result['created_ids'] == result['removed_ids'] == result['replaced_ids'] == []
        assert api_requests(sim) == []

    def test_a_malformed_token_is_not_echoed(self, run, sim):
        bad = make_token()[:-3] + '0OI'
        result = run(tokens=[bad])
        assert result['failed'] and bad not in result['msg'] and 'tokens[0]' in result['msg']

    def test_conflicting_secrets_name_both_positions(self, run, sim):
        ident = os.urandom(12)
        first, second = make_token(ident), make_token(ident)
        result = run(tokens=[first, make_token(), second])
        assert 'tokens[0] and tokens[2]' in result['msg'] and api_requests(sim) == []

    def test_wrong_api_version_is_diagnosed(self, run, sim):
        result = run(api_version='v1')
        assert result['failed'] and 'version 0.7.8' in result['msg'] and 'api_version' in result['msg']
        assert [r['path'] for r in api_requests(sim)] == ['/api/v1/tokens', '/']

    def test_not_a_node_api_is_diagnosed(self, run, sim):
        result = run(api_url=f'{sim.url}/proxy', tokens=[])
        assert result['failed'] and '40600' in result['msg'] and 'not answer like a go-textile node' in result['msg']

    def test_unreachable_daemon(self, run_module, closed_port):
        result = run_module(module, dict(api_url=f'http://127.0.0.1:{closed_port}', retries=0, tokens=[]))
        assert result['failed'] and 'Connection refused' in result['msg']
        assert 'default' not in result['msg'] and '40600' not in result['msg']  # api_url was set
        assert result['created_ids'] == []

    def test_unreachable_default_url_says_the_default_was_used(self, run_module, monkeypatch, closed_port):
        from ansible_collections.textileio.textile.plugins.module_utils import _textile_module

        monkeypatch.setattr(_textile_module, 'DEFAULT_API_URL', f'http://127.0.0.1:{closed_port}')
        monkeypatch.delenv('TEXTILE_API_URL', raising=False)
        result = run_module(module, dict(retries=0, tokens=[]))
        assert result['failed'] and 'Connection refused' in result['msg']
        assert f'api_url was not set, so the default http://127.0.0.1:{closed_port} was used' in result['msg']

    @pytest.mark.parametrize(
        'args',
        [dict(api_url='http://u:p@127.0.0.1:1'), dict(state='gone'), dict(nope=1)],
        ids=['connection-option', 'argument-spec', 'unknown-option'],
    )
    def test_every_failure_carries_the_id_lists(self, run_module, args):
        result = run_module(module, args)
        assert result['failed'] and result['changed'] is False
        assert result['created_ids'] == result['removed_ids'] == result['replaced_ids'] == []

    def test_env_fallback_for_api_url(self, run_module, sim, monkeypatch):
        monkeypatch.setenv('TEXTILE_API_URL', sim.url)
        token = make_token()
        result = run_module(module, dict(tokens=[token]))
        assert result['created_ids'] == ids(token) == sim.control.state_ids()


class TestBasicAuth:
    @pytest.fixture
    def auth_sim(self):
        from ansible_collections.textileio.textile.tests.simulator.textile_sim import SimServer

        with SimServer(bcrypt_cost=4, username='Paddress', password='pin1234') as server:
            yield server

    def test_without_credentials_says_basic_auth(self, run_module, auth_sim):
        result = run_module(module, dict(api_url=auth_sim.url, tokens=[]))
        assert result['failed'] and 'Basic Auth' in result['msg'] and 'api_username' in result['msg']

    def test_with_credentials_from_the_environment(self, run_module, auth_sim, monkeypatch):
        monkeypatch.setenv('TEXTILE_USERNAME', 'Paddress')
        monkeypatch.setenv('TEXTILE_PASSWORD', 'pin1234')
        token = make_token()
        result = run_module(module, dict(api_url=auth_sim.url, tokens=[token]))
        assert result['created_ids'] == ids(token)
        assert 'pin1234' not in str(result)


class TestFaultsAReviewPlanted:
    """Each test fails when one fault of the adversarial review is planted back into the module."""

    @pytest.mark.parametrize('main', [module.main, info_module.main], ids=['token', 'info'])
    def test_tokens_are_no_log_in_both_modules(self, sim, main, monkeypatch):
        # Not token-shaped, so only the option's own no_log hides it (not the masking of token-shaped values).
        secret = 'not-a-token-but-still-a-secret-0042'
        for name in _module.FALLBACK_ENV:
            monkeypatch.delenv(name, raising=False)
        result, printed = run_entry_point(main, dict(api_url=sim.url, tokens=[secret]))
        assert result['failed'] and 'tokens[0]' in result['msg']
        # Masked by the module before ansible-core 2.22, by the controller (as a registered secret) from 2.22.
        assert result['invocation']['module_args']['tokens'] in (['VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'], [MASK])
        assert secret not in printed

    def test_an_import_sends_no_body_and_no_content_type(self, run, sim):
        run(tokens=[make_token()])
        post = api_requests(sim, 'POST')[0]
        names = {name.lower(): value for name, value in post['header_lines']}
        assert 'content-type' not in names and names['content-length'] == '0'
        assert post['headers'] == {'X-Textile-Args': '', 'X-Textile-Opts': 'token=<redacted>,store=true'}

    def test_an_unsent_mint_is_not_taken_for_an_orphan(self, run, sim, monkeypatch):
        def create(self, token=None, store=True):
            raise TextileError('POST /api/v0/tokens: refused', kind='connection', method='POST', sent=False)

        monkeypatch.setattr(Tokens, 'create', create)
        result = run()
        assert result['failed'] and result['msg'].startswith('Minting a token failed: ')
        assert 'orphaned_ids' not in result and 'may have reached' not in result['msg']
        assert [r['method'] for r in api_requests(sim)] == ['GET']  # no second list looking for an orphan

    def test_a_replaced_id_is_not_called_missing_when_a_later_import_fails(self, run, sim):
        ident = os.urandom(12)
        sim.control.seed([make_token(ident)])
        replacement, fresh = make_token(ident), make_token(b'\xff' * 12)  # fresh sorts after, imported last
        real_create = Tokens.create

        def create(self, token=None, store=True):
            if token == fresh:
                sim.control.add_fault(method='GET', action='status', status=500, body='db locked')
                raise answer_lost()
            return real_create(self, token, store)

        monkeypatch = pytest.MonkeyPatch()
        monkeypatch.setattr(Tokens, 'create', create)
        try:
            result = run(tokens=[replacement, fresh], verify_secret=True)
        finally:
            monkeypatch.undo()
        assert result['failed'] and result['replaced_ids'] == [ident.hex()]
        assert 'now missing' not in result['msg'] and f'replaced the secret of {ident.hex()}' in result['msg']

    def test_the_confirming_list_covers_ids_removed_for_a_replacement(self, run, sim):
        ident = os.urandom(12)
        sim.control.seed([make_token(ident)])
        # The cafe answers 204 to the removal without removing anything.
        sim.control.add_fault(method='DELETE', action='status', status=204, count=1)
        result = run(tokens=[make_token(ident)], verify_secret=True)
        assert result['failed'] and 'still lists them' in result['msg'] and ident.hex() in result['msg']
        assert result['replaced_ids'] == [] and 'POST' not in [r['method'] for r in api_requests(sim)]

    def test_a_mint_over_plain_http_to_a_remote_name_warns(self, run_module, sim, monkeypatch):
        real = socket.getaddrinfo
        monkeypatch.setattr(
            socket,
            'getaddrinfo',
            lambda host, *args, **kwargs: real('127.0.0.1' if host == 'cafe.example' else host, *args, **kwargs),
        )
        result = run_module(module, dict(api_url=f'http://cafe.example:{sim.port}', store=False, retries=0))
        assert not result['failed'] and result['token']
        assert any('plain http to cafe.example' in warning for warning in result['warnings'])

    @pytest.mark.parametrize('same_secret', [True, False], ids=['same-secret', 'other-secret'])
    def test_another_writer_storing_a_replaced_id_first(self, run, sim, monkeypatch, same_secret):
        ident = os.urandom(12)
        old, declared = make_token(ident), make_token(ident)
        sim.control.seed([old])
        real_create = Tokens.create

        def create(self, token=None, store=True):
            sim.control.seed([declared if same_secret else make_token(ident)])  # stored between removal and import
            return real_create(self, token, store)

        monkeypatch.setattr(Tokens, 'create', create)
        result = run(tokens=[declared], verify_secret=True, tokens_used=[old])
        if same_secret:
            assert not result['failed'] and result['replaced_ids'] == [ident.hex()]
        else:
            assert result['failed'] and 'Another writer stored the token' in result['msg']
            assert result['replaced_ids'] == [] and 'now missing' not in result['msg']


class TestConcurrency:
    @staticmethod
    def counting(monkeypatch, target, method='create'):
        """Tokens.create (or ``method``, remove_id), recording the most calls in flight at once and the order calls
        start in (by ID).

        Each call waits (up to 10 s) until ``target`` calls are in flight, so a busy machine cannot hide a
        missing thread, and a bound that lets more through shows as more."""
        real, ready = getattr(Tokens, method), threading.Condition()
        state = {'now': 0, 'most': 0, 'order': []}

        def call(self, *args, **kwargs):
            item = kwargs['token'] if method == 'create' else args[0]  # the module imports with token=
            with ready:
                state['now'] += 1
                state['most'] = max(state['most'], state['now'])
                state['order'].append(token_id(item) if method == 'create' else item)
                ready.notify_all()
                ready.wait_for(lambda: state['most'] >= target, timeout=10)
            try:
                return real(self, *args, **kwargs)
            finally:
                with ready:
                    state['now'] -= 1

        monkeypatch.setattr(Tokens, method, call)
        return state

    @pytest.mark.parametrize('concurrency', [1, 3, 16])
    def test_at_most_concurrency_imports_are_in_flight(self, run, sim, monkeypatch, caplog, concurrency):
        tokens = [make_token() for index in range(20)]
        state = self.counting(monkeypatch, min(concurrency, len(tokens)))
        result = run(tokens=tokens, concurrency=concurrency)
        assert not result['failed'] and result['created_ids'] == ids(*tokens) == sim.control.state_ids()
        assert state['most'] == min(concurrency, len(tokens))
        assert [r['method'] for r in api_requests(sim)] == ['GET'] + ['POST'] * len(tokens)
        if concurrency == 1:
            assert state['order'] == ids(*tokens)  # one at a time, in the order of their IDs
        # Every connection in flight is kept for the next request (urllib3 logs each one it has to drop).
        assert not [record for record in caplog.records if 'pool is full' in record.getMessage()]

    def test_removals_run_in_parallel_and_one_list_confirms_them(self, run, sim, monkeypatch):
        state = self.counting(monkeypatch, 4, 'remove_id')
        stored = [make_token() for index in range(6)]
        sim.control.seed(stored)
        result = run(state='absent', tokens=stored, concurrency=4)
        assert result['removed_ids'] == ids(*stored) and sim.control.state_ids() == [] and state['most'] == 4
        assert [r['method'] for r in api_requests(sim)] == ['GET'] + ['DELETE'] * 6 + ['GET']

    @pytest.mark.parametrize('first_answer_lost', [False, True])
    def test_a_list_fetched_before_an_import_and_applied_after_it_keeps_the_import(
        self, run, sim, monkeypatch, first_answer_lost
    ):
        """Two imports in flight: one's answer is lost, and the list that checks it was fetched before the other
        import stored its token and is applied after. The other import is still in ``ids`` (a review found it
        dropped when the list landed between recording the import and counting it as created), also when its
        own answer was lost too and a list of its own found it stored."""
        first, second = sorted((make_token() for index in range(2)), key=token_id)  # imported in this order
        real_create, real_entries, real_store = Tokens.create, Tokens.entries, module.TokenRun.store
        stale_list_fetched, first_stored, stale_list_applied = threading.Event(), threading.Event(), threading.Event()
        lists = []

        def create(self, token=None, store=True):
            if token == second:  # stored, its answer lost
                sim.control.seed([token])
                raise answer_lost()
            assert stale_list_fetched.wait(10)
            created = real_create(self, token, store)
            if first_answer_lost:
                raise answer_lost()
            return created

        def entries(self):
            listed = real_entries(self)
            lists.append(sorted(listed))
            if len(lists) == 2:  # the list that checks the second import, fetched before the first is stored
                stale_list_fetched.set()
                assert first_stored.wait(10)
            return listed

        def store(self, token):
            stored = real_store(self, token)
            if token.text == first:  # recorded, not yet counted as created: the stale list lands now
                first_stored.set()
                assert stale_list_applied.wait(10)
            else:
                stale_list_applied.set()
            return stored

        monkeypatch.setattr(Tokens, 'create', create)
        monkeypatch.setattr(Tokens, 'entries', entries)
        monkeypatch.setattr(module.TokenRun, 'store', store)
        result = run(tokens=[first, second], concurrency=2)
        assert lists[1] == ids(second)  # the stale list did lack the first import
        assert not result['failed'] and result['created_ids'] == ids(first, second)
        assert result['ids'] == ids(first, second) == sim.control.state_ids()

    @pytest.mark.parametrize('value', [0, 17, -1, 'inf', 1e9])
    def test_a_concurrency_out_of_range_fails_before_any_request(self, run, sim, value):
        result = run(tokens=[make_token()], concurrency=value)
        assert result['failed'] and 'concurrency' in result['msg'] and api_requests(sim) == []

    def test_a_bug_in_a_worker_thread_fails_cleanly_after_the_work_in_flight(self, run, sim, monkeypatch):
        real_create, others_started = Tokens.create, threading.Semaphore(0)

        def create(self, token=None, store=True):
            if token_id(token) == first:
                for other in range(3):  # fail only once the three other imports are in flight
                    others_started.acquire(timeout=10)
                raise KeyError(token)  # a bug whose text holds the token
            others_started.release()
            time.sleep(0.05)
            return real_create(self, token, store)

        tokens = [make_token() for index in range(4)]
        first = ids(*tokens)[0]
        monkeypatch.setattr(Tokens, 'create', create)
        result = run(tokens=tokens, concurrency=4)
        assert result['failed'] and result['msg'].startswith('Internal error (KeyError)')
        assert result['created_ids'] == sim.control.state_ids() and len(result['created_ids']) == 3
