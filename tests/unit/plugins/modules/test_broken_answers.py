# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cafe acts, and its answer is broken on the way back: the result still tells what the cafe did.

A fault proxy in front of the simulator (tests/simulator/proxies.py) forwards each request whole and breaks the
answer of the one a test picks (two different Content-Length headers, a bad status line, an over-long header
line, a cut answer, a reset, broken chunked framing, an endless body). The modules then act as for any sent
request whose answer was lost: a mint looks for its orphan, an import re-lists, a removal is confirmed by the
list; the simulator's state is the judge.
"""

from __future__ import annotations

import pytest

from ansible_collections.textileio.textile.plugins.module_utils import _client
from ansible_collections.textileio.textile.plugins.module_utils._token_format import id_path_segment, token_id
from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token as module
from ansible_collections.textileio.textile.tests.simulator.proxies import MODES
from ansible_collections.textileio.textile.tests.simulator.pytest_plugin import make_token
from ansible_collections.textileio.textile.tests.unit.plugins.modules.helpers import assert_no_secret

TOKENS = '/api/v0/tokens'


@pytest.fixture(autouse=True)
def small_bodies(monkeypatch):
    """An endless answer is cut at a bound: a small one keeps the test fast."""
    monkeypatch.setattr(_client, 'MAX_BODY', 100_000)


@pytest.fixture
def run(run_module, fault_proxy):
    def call(tokens_used=(), allowed_key=None, **args):
        result = run_module(module, dict({'api_url': fault_proxy.url, 'retries': 0}, **args))
        assert_no_secret(result, list(tokens_used) + list(args.get('tokens') or []), allowed_key)
        assert 'Internal error' not in result.get('msg', '') and 'could not be built' not in result.get('msg', '')
        return result

    return call


def methods(sim):
    return [entry['method'] for entry in sim.control.requests()]


@pytest.mark.parametrize('mode', MODES)
def test_a_stored_mint_whose_answer_broke_names_its_orphan(run, sim, fault_proxy, mode):
    existing = make_token()
    sim.control.seed([existing])
    fault_proxy.break_answers('POST', TOKENS, mode)
    result = run()
    minted = sorted(set(sim.control.state_ids()) - {token_id(existing)})
    assert len(minted) == 1  # the cafe stored it
    assert result['failed'] and result['orphaned_ids'] == minted and minted[0] in result['msg']
    assert 'token' not in result and methods(sim) == ['GET', 'POST', 'GET']


@pytest.mark.parametrize('mode', MODES)
def test_an_import_whose_answer_broke_is_found_by_the_list(run, sim, fault_proxy, mode):
    stored, imported = make_token(), make_token()
    sim.control.seed([stored])
    fault_proxy.break_answers('POST', TOKENS, mode)
    result = run(tokens=[stored, imported])
    assert not result['failed'], result['msg']
    assert result['created_ids'] == [token_id(imported)] and result['changed'] is True
    assert result['ids'] == sim.control.state_ids() == sorted(token_id(t) for t in (stored, imported))
    assert methods(sim) == ['GET', 'POST', 'GET']  # imported once, then listed, never re-sent


@pytest.mark.parametrize('mode', MODES)
def test_a_removal_whose_answer_broke_is_confirmed_by_the_list(run, sim, fault_proxy, mode):
    kept, removed, also_removed = make_token(), make_token(), make_token()
    sim.control.seed([kept, removed, also_removed])
    fault_proxy.break_answers('DELETE', TOKENS, mode)
    result = run(state='absent', tokens=[removed], ids=[token_id(also_removed)], concurrency=1)
    assert not result['failed'], result['msg']
    assert result['removed_ids'] == sorted(token_id(t) for t in (removed, also_removed)) and result['changed']
    assert result['ids'] == sim.control.state_ids() == [token_id(kept)]
    assert methods(sim) == ['GET', 'DELETE', 'DELETE', 'GET']


def test_a_removal_whose_answer_broke_is_retried_within_the_budget(run, sim, fault_proxy):
    removed = make_token()
    sim.control.seed([removed])
    fault_proxy.break_answers('DELETE', TOKENS, 'reset')
    result = run(state='absent', tokens=[removed], retries=1)
    assert not result['failed'] and result['removed_ids'] == [token_id(removed)]
    assert methods(sim) == ['GET', 'DELETE', 'DELETE', 'GET'] and sim.control.state_ids() == []


def test_a_removal_whose_answer_broke_and_that_the_list_still_shows_fails_naming_it(run, sim, fault_proxy):
    kept, removed, stuck = make_token(), make_token(), make_token()
    sim.control.seed([kept, removed, stuck])
    # The cafe answers without removing (a status fault acts on nothing), and that answer breaks on the way.
    sim.control.add_fault(
        method='DELETE', path=f'{TOKENS}/{id_path_segment(token_id(stuck))}', action='status', status=204
    )
    fault_proxy.break_answers('DELETE', f'{TOKENS}/{id_path_segment(token_id(stuck))}', 'reset')
    result = run(state='absent', tokens=[removed, stuck], concurrency=1)
    assert result['failed'] and token_id(stuck) in result['msg'] and 'still lists' in result['msg']
    assert result['removed_ids'] == [token_id(removed)] and token_id(removed) in result['msg']
    assert result['error']['method'] == 'DELETE'
    assert sim.control.state_ids() == sorted(token_id(t) for t in (kept, stuck))


def test_a_removal_whose_answer_broke_and_whose_list_failed_says_it_is_unknown(run, sim, fault_proxy):
    removed = make_token()
    sim.control.seed([removed])
    fault_proxy.break_answers('DELETE', TOKENS, 'reset')
    fault_proxy.break_answers('GET', TOKENS, 'reset', after=1)  # the list that would confirm the removal
    result = run(state='absent', tokens=[removed])
    assert result['failed'] and result['removed_ids'] == []
    assert 'unknown' in result['msg'] and token_id(removed) in result['msg']
