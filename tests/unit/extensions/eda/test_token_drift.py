# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source textileio.textile.token_drift, loaded as ansible-rulebook loads it (``runpy.run_path``), with
a queue, against in-process simulators.

Every state and transition of a cafe, the first poll, silence while nothing changes, a recovery, a cafe that hangs,
bad args (one message naming the arg, no request), the environment fallbacks, and property tests over generated
args and list answers: never a traceback, never a token or a password in an event, an error or a log line.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import os
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.textileio.textile.plugins.module_utils import _client
from ansible_collections.textileio.textile.plugins.module_utils._token_format import TOKEN_RUN, b58encode
from ansible_collections.textileio.textile.tests.simulator.pytest_plugin import make_token

textile_sim = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')

ROOT = Path(__file__).resolve().parents[4]
SOURCE = ROOT / 'extensions' / 'eda' / 'plugins' / 'event_source' / 'token_drift.py'
UTILS = 'ansible_collections.textileio.textile.plugins.module_utils'
NAME = 'textileio.textile.token_drift'
EXAMPLES = int(os.environ.get('TEXTILE_PROPERTY_EXAMPLES', '60'))
BOUND = 60  # seconds: a bound on a wait for something that happens much sooner, never a timing assertion


def id_of(token):
    from ansible_collections.textileio.textile.plugins.module_utils._token_format import token_id

    return token_id(token)


def load_source(path):
    """The source's globals, as ``runpy.run_path`` gives them to ansible-rulebook. Where ansible's collection loader
    is active (ansible-test units), its path hook claims every file under the collection path and run_path fails
    before running anything; the file is then executed by its file loader, which gives the same globals."""
    try:
        return runpy.run_path(str(path))
    except ImportError:
        spec = importlib.util.spec_from_file_location('token_drift_under_test', str(path))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return vars(module)


@pytest.fixture(scope='module')
def drift():
    return SimpleNamespace(**load_source(SOURCE))


@pytest.fixture
def tokens():
    return SimpleNamespace(a=make_token(), b=make_token(), c=make_token())


def run(coroutine):
    return asyncio.run(coroutine)


def drain(queue):
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


def once(drift, args):
    queue = asyncio.Queue()
    run(drift.main(queue, dict(args, once=True)))
    return drain(queue)


def event(cafe, url, state, previous=None, missing=(), unexpected=(), count=None, error=None):
    return {
        'textile_drift': {
            'cafe': cafe,
            'api_url': url,
            'state': state,
            'previous_state': previous,
            'missing_ids': sorted(missing),
            'unexpected_ids': sorted(unexpected),
            'count': count,
            'error': error,
        },
        'meta': {'hosts': cafe},
    }


def list_requests(sim):
    return [r for r in sim.control.requests() if r['method'] == 'GET' and r['path'] == '/api/v0/tokens']


# ---- the file as ansible-rulebook and the docs see it -----------------------------------------------------------


def test_documentation_names_every_arg_with_its_default(drift):
    doc = yaml.safe_load(drift.DOCUMENTATION)
    assert set(doc['options']) == set(drift.ARGS)
    assert doc['options']['cafes']['required'] is True
    for name, default in drift.DEFAULTS.items():
        option = doc['options'][name]
        assert option.get('default', None) == (default if default != [] else []), name
        assert option['type'] in ('str', 'bool', 'int', 'float', 'list', 'dict', 'path'), name
    assert doc['short_description'] and all(isinstance(line, str) for line in doc['description'])


def test_every_example_is_accepted(drift, monkeypatch):
    monkeypatch.delenv('TEXTILE_API_URL', raising=False)
    examples = yaml.safe_load(drift.EXAMPLES)
    assert len(examples) == 2
    for example in examples:
        args = example[NAME]
        args['expected_ids'] = [a if '{{' not in a else 'a7d0589658d9f2a58c647400' for a in args['expected_ids']]
        settings_, _utils = drift.configure(args, {})
        assert list(settings_.cafes) == list(args['cafes'])


def test_the_source_uses_the_collections_own_client(drift):
    """One client: the module_utils the source loaded are the very modules the modules import."""
    _settings, utils = drift.configure({'cafes': {'cafe': None}}, {})
    assert utils['_client'] is _client
    assert utils['_client'] is sys.modules[f'{UTILS}._client']
    assert Path(utils['_connection'].__file__).resolve() == ROOT / 'plugins' / 'module_utils' / '_connection.py'


def test_sibling_imports_find_every_module_utils_import(drift):
    directory = ROOT / 'plugins' / 'module_utils'
    assert drift.sibling_imports((directory / '_connection.py').read_text()) == []
    assert sorted(drift.sibling_imports((directory / '_client.py').read_text())) == [
        '_connection',
        '_failures',
        '_server_text',
        '_token_format',
        '_transport',
    ]
    assert drift.sibling_imports('import ansible_collections.textileio.textile.plugins.module_utils._x as x\n') == [
        '_x'
    ]
    assert drift.sibling_imports('from ansible_collections.textileio.textile.plugins.module_utils import _y\n') == [
        '_y'
    ]
    assert drift.sibling_imports('def f():\n    from os import path\n') == []


# ---- every state and transition ----------------------------------------------------------------------------------


def make_state(sim, tokens, state):
    """Put the cafe into ``state``: in_sync holds a and b, drift only a, unreachable answers 503."""
    sim.control.reset()
    if state == 'unreachable':
        sim.control.add_fault(method='GET', path='/api/v0/tokens', action='status', status=503, body='down for a bit')
    else:
        sim.control.seed([tokens.a, tokens.b] if state == 'in_sync' else [tokens.a])


def fleet_for(drift, sim, tokens, **extra):
    args = dict(
        {'cafes': {'cafe-1': sim.url}, 'expected_ids': [id_of(tokens.a), id_of(tokens.b)], 'retries': 0}, **extra
    )
    settings_, utils = drift.configure(args, {})
    return drift.Fleet(settings_, utils)


def expected_event(sim, tokens, state, previous):
    if state == 'in_sync':
        return event('cafe-1', sim.url, 'in_sync', previous, count=2)
    if state == 'drift':
        return event('cafe-1', sim.url, 'drift', previous, missing=[id_of(tokens.b)], count=1)
    return event(
        'cafe-1',
        sim.url,
        'unreachable',
        previous,
        error='GET /api/v0/tokens: The node failed (HTTP 503): "down for a bit"; check the daemon and its log.',
    )


@pytest.mark.parametrize('before', [None, 'in_sync', 'drift', 'unreachable'])
@pytest.mark.parametrize('after', ['in_sync', 'drift', 'unreachable'])
def test_every_transition(drift, sim_factory, tokens, before, after):
    """The first poll puts an event unless in sync; later polls put one exactly when the state changed."""
    sim = sim_factory()
    fleet = fleet_for(drift, sim, tokens)

    async def scenario():
        if before is not None:
            make_state(sim, tokens, before)
            first = await fleet.poll('cafe-1')
            assert first == (None if before == 'in_sync' else expected_event(sim, tokens, before, None))
        make_state(sim, tokens, after)
        return await fleet.poll('cafe-1')

    try:
        got = run(scenario())
    finally:
        fleet.close()
    if before == after or (before is None and after == 'in_sync'):
        assert got is None
    else:
        assert got == expected_event(sim, tokens, after, before)


def test_drift_whose_ids_change_puts_an_event_and_unchanged_drift_none(drift, sim_factory, tokens):
    sim = sim_factory()
    fleet = fleet_for(drift, sim, tokens, exclusive=True)

    async def scenario():
        sim.control.seed([tokens.a])
        first = await fleet.poll('cafe-1')
        again = await fleet.poll('cafe-1')
        sim.control.seed([tokens.c])  # an unexpected ID as well: the same state, other IDs
        more = await fleet.poll('cafe-1')
        sim.control.reset()
        sim.control.add_fault(method='GET', path='/api/v0/tokens', action='drop')
        down = await fleet.poll('cafe-1')
        sim.control.reset()
        sim.control.add_fault(method='GET', path='/api/v0/tokens', action='status', status=502)
        other_error = await fleet.poll('cafe-1')  # still unreachable, for another reason: nothing new
        return first, again, more, down, other_error

    try:
        first, again, more, down, other_error = run(scenario())
    finally:
        fleet.close()
    url, b, c = sim.url, id_of(tokens.b), id_of(tokens.c)
    assert first == event('cafe-1', url, 'drift', None, missing=[b], count=1)
    assert again is None
    assert more == event('cafe-1', url, 'drift', 'drift', missing=[b], unexpected=[c], count=2)
    assert down['textile_drift']['state'] == 'unreachable' and down['textile_drift']['previous_state'] == 'drift'
    assert 'its answer was cut off or malformed, after the request was sent' in down['textile_drift']['error']
    assert other_error is None


def test_without_exclusive_an_unexpected_id_is_no_drift(drift, sim_factory, tokens):
    sim = sim_factory()
    sim.control.seed([tokens.a, tokens.b, tokens.c])
    args = {'cafes': {'cafe-1': sim.url}, 'expected_ids': [id_of(tokens.a).upper(), ' ' + id_of(tokens.b)]}
    assert once(drift, args) == []
    assert once(drift, dict(args, exclusive=True)) == [
        event('cafe-1', sim.url, 'drift', None, unexpected=[id_of(tokens.c)], count=3)
    ]
    # no expected IDs and exclusive: a cafe that should hold no token at all
    assert once(drift, {'cafes': {'cafe-1': sim.url}, 'exclusive': 'yes'})[0]['textile_drift']['unexpected_ids'] == (
        sorted(id_of(t) for t in (tokens.a, tokens.b, tokens.c))
    )


def test_an_auth_failure_is_unreachable_and_says_so(drift, sim_factory, tokens):
    sim = sim_factory(username='P4drift', password='drift-pin-123456')
    sim.control.seed([tokens.a])
    [got] = once(drift, {'cafes': {'cafe-1': sim.url}, 'api_username': 'P4drift', 'api_password': 'wrong-pin-123456'})
    assert got['textile_drift']['state'] == 'unreachable'
    assert 'Basic Auth failed (HTTP 401)' in got['textile_drift']['error']
    assert (
        once(drift, {'cafes': {'cafe-1': sim.url}, 'api_username': 'P4drift', 'api_password': 'drift-pin-123456'}) == []
    )


# ---- the queue: once, the first poll, silence, a recovery --------------------------------------------------------


def test_once_puts_the_first_polls_events_in_fleet_order_and_ends(drift, sim_factory, tokens):
    in_sync, drifted = sim_factory(), sim_factory()
    in_sync.control.seed([tokens.a, tokens.b])
    drifted.control.seed([tokens.b, tokens.c])
    down = f'http://127.0.0.1:{textile_sim.closed_port()}'
    args = {
        'cafes': {'cafe-down': down, 'cafe-ok': in_sync.url, 'cafe-drift': drifted.url},
        'expected_ids': [id_of(tokens.a), id_of(tokens.b)],
        'exclusive': True,
        'retries': 0,
    }
    events = once(drift, args)
    refused = (
        f'GET /api/v0/tokens: Connection refused by {down[7:]}: is the Textile daemon running, and is api_url right?'
    )
    assert events == [
        event('cafe-down', down, 'unreachable', error=refused),
        event('cafe-drift', drifted.url, 'drift', missing=[id_of(tokens.a)], unexpected=[id_of(tokens.c)], count=2),
    ]
    for sim in (in_sync, drifted):
        assert [(r['method'], r['path']) for r in sim.control.requests()] == [('GET', '/api/v0/tokens')]


def test_watching_puts_the_drift_then_the_recovery_then_nothing(drift, sim_factory, tokens):
    sim = sim_factory()
    sim.control.seed([tokens.a])
    args = {'cafes': {'cafe-1': sim.url}, 'expected_ids': [id_of(tokens.a), id_of(tokens.b)], 'interval': 1}

    async def scenario():
        queue = asyncio.Queue()
        source = asyncio.create_task(drift.main(queue, args))
        try:
            first = await asyncio.wait_for(queue.get(), BOUND)
            sim.control.seed([tokens.b])  # restored, as the rulebook's playbook would
            recovery = await asyncio.wait_for(queue.get(), BOUND)
            seen = len(list_requests(sim))
            while len(list_requests(sim)) < seen + 2:  # two more polls of an unchanged cafe
                await asyncio.sleep(0.1)
            silent = queue.empty()
        finally:
            source.cancel()
        with pytest.raises(asyncio.CancelledError):
            await source
        return first, recovery, silent

    first, recovery, silent = run(asyncio.wait_for(scenario(), 4 * BOUND))
    assert first == event('cafe-1', sim.url, 'drift', None, missing=[id_of(tokens.b)], count=1)
    assert recovery == event('cafe-1', sim.url, 'in_sync', 'drift', count=2)
    assert silent


def test_a_cafe_that_hangs_is_bounded_by_timeout_and_holds_no_other_back(drift, sim_factory, tokens):
    hung, other = sim_factory(), sim_factory()
    hung.control.add_fault(method='GET', path='/api/v0/tokens', action='delay', delay=BOUND)
    other.control.seed([tokens.a])
    args = {
        'cafes': {'hung': hung.url, 'other': other.url},
        'expected_ids': [id_of(tokens.a), id_of(tokens.b)],
        'timeout': 3.0,  # the healthy cafe shares this process's CPU: a busy machine must not time it out
        'retries': 0,
    }
    # once: the hung cafe ends in a timeout, named as such
    events = {e['meta']['hosts']: e['textile_drift'] for e in once(drift, args)}
    assert events['hung']['state'] == 'unreachable'
    assert events['hung']['error'].startswith(
        f'GET /api/v0/tokens: No complete answer from {hung.url[7:]} within 3.0 s'
    )
    assert events['other']['state'] == 'drift'

    # watching: the other cafe's drift and recovery arrive while the hung cafe's request is still unanswered
    hung.control.clear_requests()
    watch_args = dict(args, timeout=BOUND * 2, interval=1)

    async def scenario():
        queue = asyncio.Queue()
        source = asyncio.create_task(drift.main(queue, watch_args))
        try:
            first = await asyncio.wait_for(queue.get(), BOUND)
            other.control.seed([tokens.b])
            second = await asyncio.wait_for(queue.get(), BOUND)
            pending = [r['status'] for r in hung.control.requests()]
        finally:
            source.cancel()
        with pytest.raises(asyncio.CancelledError):
            await source
        return first, second, pending

    first, second, pending = run(scenario())
    assert (first['meta']['hosts'], first['textile_drift']['state']) == ('other', 'drift')
    assert (second['meta']['hosts'], second['textile_drift']['state']) == ('other', 'in_sync')
    assert pending == [None]  # one request to the hung cafe, not answered yet


def test_the_environment_gives_the_credentials_and_a_null_url(drift, sim_factory, tokens, monkeypatch):
    sim = sim_factory(username='P4drift', password='env-pin-7654321')
    sim.control.seed([tokens.a])
    args = {'cafes': {'cafe-1': None}, 'expected_ids': [id_of(tokens.a)], 'retries': 0}
    monkeypatch.setenv('TEXTILE_API_URL', sim.url)
    monkeypatch.delenv('TEXTILE_USERNAME', raising=False)
    monkeypatch.delenv('TEXTILE_PASSWORD', raising=False)
    [refused] = once(drift, args)
    assert refused['textile_drift']['api_url'] == sim.url
    assert 'set api_username and api_password' in refused['textile_drift']['error']
    monkeypatch.setenv('TEXTILE_USERNAME', 'P4drift')
    monkeypatch.setenv('TEXTILE_PASSWORD', 'env-pin-7654321')
    assert once(drift, args) == []
    # an arg wins over the environment
    [wrong] = once(drift, dict(args, api_password='arg-pin-1234567'))
    assert 'Basic Auth failed' in wrong['textile_drift']['error']


def test_a_failure_that_is_not_the_clients_shows_its_class_only(drift):
    class Broken:
        def entries(self):
            raise RuntimeError('http://user:pw@host/ and a token ' + make_token())

    settings_, utils = drift.configure({'cafes': {'cafe': None}}, {})
    seen = drift.observe(Broken(), settings_, utils)
    assert seen == drift.Observation('unreachable', (), (), None, 'The list request failed (RuntimeError).')


def test_plain_http_with_credentials_to_another_host_warns(drift, caplog):
    settings_, utils = drift.configure(
        {'cafes': {'far': 'http://cafe.example.org:40600', 'near': 'http://127.0.0.1:40600'}, 'api_username': 'P4u'}, {}
    )
    with caplog.at_level(logging.WARNING, logger=NAME):
        drift.warn_plain_http(settings_, utils)
    assert [r.getMessage().split(':')[0] for r in caplog.records] == ['far']
    caplog.clear()
    settings_, utils = drift.configure({'cafes': {'far': 'http://cafe.example.org:40600'}}, {})
    drift.warn_plain_http(settings_, utils)  # no credentials to leak: no warning
    assert caplog.records == []


def test_use_proxy_reaches_the_client(drift, monkeypatch):
    """use_proxy is the one way to the environment's proxy, as for the modules; off by default, never loopback."""
    monkeypatch.setenv('HTTP_PROXY', 'http://proxy.example.org:3128')
    monkeypatch.delenv('NO_PROXY', raising=False)
    monkeypatch.delenv('no_proxy', raising=False)
    cafes = {'cafe': 'http://cafe.example.org:40600', 'here': 'http://127.0.0.1:40600'}
    for use_proxy, proxy in ((True, 'http://proxy.example.org:3128'), ('no', None), (None, None)):
        args = {'cafes': cafes} if use_proxy is None else {'cafes': cafes, 'use_proxy': use_proxy}
        settings_, utils = drift.configure(args, {})
        apis = {name: utils['_client'].TextileAPI(url, **settings_.client) for name, url in cafes.items()}
        assert (apis['cafe'].proxy, apis['here'].proxy) == (proxy, None)
        for api in apis.values():
            api.session.close()


def test_the_file_runs_as_a_script_with_a_fake_queue():
    """``python token_drift.py``: one poll of the cafe of TEXTILE_API_URL (here nobody listens), printed."""
    env = dict(os.environ, TEXTILE_API_URL=f'http://127.0.0.1:{textile_sim.closed_port()}')
    env.pop('TEXTILE_USERNAME', None)
    done = subprocess.run(
        [sys.executable, str(SOURCE)], env=env, capture_output=True, text=True, timeout=BOUND, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "'state': 'unreachable'" in done.stdout and "'hosts': 'localhost'" in done.stdout


# ---- bad args: one message naming the arg, before any request -----------------------------------------------------

SECRET_TOKEN = make_token()
PASSWORD = 'pw-should-never-show-4711'
BAD_ARGS = [
    ({}, 'cafes is required'),
    ({'cafes': []}, 'cafes must be a mapping'),
    ({'cafes': {}}, 'cafes must be a mapping'),
    ({'cafes': {'a b': None}}, 'cafes: the name of the cafe at position 0'),
    ({'cafes': {'ok': None, SECRET_TOKEN: None}}, 'cafes: the name of the cafe at position 1'),
    ({'cafes': {'web*': None}}, 'cafes: the name of the cafe at position 0'),
    ({'cafes': {'all': None}}, 'cafes: all names every host'),
    ({'cafes': {'c': f'http://u:{PASSWORD}@127.0.0.1:1'}}, 'cafes[c]: api_url must not contain user info'),
    ({'cafes': {'c': f'http://127.0.0.1:1/{SECRET_TOKEN}'}}, 'cafes[c]: api_url holds a base58 run'),
    ({'cafes': {'c': 'ftp://127.0.0.1'}}, 'cafes[c]: api_url must be an http:// or https:// URL'),
    ({'cafes': {'c': 5}}, 'cafes[c]: api_url must be an http:// or https:// URL'),
    (
        {'cafes': {'c': None}, 'expected_ids': 'a7d0589658d9f2a58c647400'},
        'expected_ids must be a list of token IDs, not a string',
    ),
    (
        {'cafes': {'c': None}, 'expected_ids': ['a7d0589658d9f2a58c647400', SECRET_TOKEN]},
        'expected_ids[1] is not a token ID',
    ),
    ({'cafes': {'c': None}, 'exclusive': 'maybe'}, 'exclusive must be true or false'),
    ({'cafes': {'c': None}, 'interval': 0}, 'interval must be a number of seconds from 1 to 86400'),
    ({'cafes': {'c': None}, 'interval': 86401}, 'interval must be'),
    ({'cafes': {'c': None}, 'interval': float('nan')}, 'interval must be'),
    ({'cafes': {'c': None}, 'interval': True}, 'interval must be'),
    ({'cafes': {'c': None}, 'interval': 'soon'}, 'interval must be'),
    ({'cafes': {'c': None}, 'once': 2}, 'once must be true or false'),
    ({'cafes': {'c': None}, 'concurrency': 0}, 'concurrency must be a whole number from 1 to 64'),
    ({'cafes': {'c': None}, 'concurrency': 2.5}, 'concurrency must be'),
    ({'cafes': {'c': None}, 'api_version': 'x1'}, 'api_version must be v followed by digits'),
    ({'cafes': {'c': None}, 'api_version': 0}, 'api_version must be a string'),
    ({'cafes': {'c': None}, 'api_username': 'a:b'}, 'api_username must not contain ":"'),
    (
        {'cafes': {'c': None}, 'api_password': PASSWORD + '\n'},
        'api_password must be text without line breaks or NUL characters that UTF-8 can encode',
    ),
    ({'cafes': {'c': None}, 'api_password': PASSWORD + '\0'}, 'api_password contains a NUL character'),
    ({'cafes': {'c': None}, 'timeout': 0}, 'timeout must be a number of seconds above 0 and at most 3600'),
    ({'cafes': {'c': None}, 'timeout': 10**400}, 'timeout must be'),
    ({'cafes': {'c': None}, 'timeout': float('inf')}, 'timeout must be'),
    ({'cafes': {'c': None}, 'retries': 11}, 'retries must be a whole number from 0 to 10'),
    ({'cafes': {'c': None}, 'retries': -1}, 'retries must be'),
    ({'cafes': {'c': None}, 'headers': 'X-A: 1'}, 'headers must be a mapping'),
    ({'cafes': {'c': None}, 'headers': {'X-Textile-Args': 'x'}}, 'headers may not set X-Textile-Args'),
    ({'cafes': {'c': None}, 'headers': {SECRET_TOKEN: 'x'}}, 'headers has a key (a header name) that'),
    ({'cafes': {'c': None}, 'headers': {'X-A': PASSWORD + '\r\nX-B: 1'}}, 'headers[X-A] must be a string of printable'),
    (
        {'cafes': {'c': None}, 'ca_path': '/nonexistent/ca.pem'},
        'ca_path: there is no readable file at /nonexistent/ca.pem',
    ),
    ({'cafes': {'c': None}, 'ca_path': f'/nonexistent/{SECRET_TOKEN}'}, 'ca_path: there is no readable file at'),
    ({'cafes': {'c': None}, 'use_proxy': 'perhaps'}, 'use_proxy must be true or false'),
    ({'cafes': {'c': None}, 'intervall': 5}, 'unknown arg intervall; the args are cafes, expected_ids'),
    ({'cafes': {'c': None}, SECRET_TOKEN: 5}, 'unknown arg '),
]


@pytest.mark.parametrize('args, message', BAD_ARGS, ids=[m.split()[0] + str(i) for i, (a, m) in enumerate(BAD_ARGS)])
def test_bad_args_end_the_source_at_start_naming_the_arg(drift, sim_factory, args, message):
    sim = sim_factory()
    args = json.loads(json.dumps(args).replace('http://127.0.0.1:1', sim.url)) if 'cafes' in args else args
    queue = asyncio.Queue()
    with pytest.raises(ValueError) as failure:
        run(drift.main(queue, args))
    text = str(failure.value)
    assert text.startswith(f'{NAME}: {message}')
    assert len(text.splitlines()) == 1
    assert SECRET_TOKEN not in text and PASSWORD not in text
    assert queue.empty() and sim.control.requests() == []


def test_args_that_are_no_mapping_and_rulebook_keys(drift):
    with pytest.raises(ValueError, match=f'^{NAME}: the args must be a mapping'):
        drift.configure(['cafes'], {})
    # ansible-rulebook adds eda_* args of its own (eda_feedback_queue): not the user's typo
    settings_, _utils = drift.configure({'cafes': {'c': None}, 'eda_feedback_queue': object()}, {})
    assert list(settings_.cafes) == ['c']


def test_module_utils_loaded_from_another_copy_are_refused(drift, tmp_path, monkeypatch):
    other = tmp_path / 'other' / 'plugins' / 'module_utils'
    other.mkdir(parents=True)
    (other / '_connection.py').write_text('')
    fake = SimpleNamespace(__file__=str(other / '_connection.py'))
    monkeypatch.setitem(sys.modules, f'{UTILS}._connection', fake)
    with pytest.raises(ImportError, match='another copy of textileio.textile'):
        drift.configure({'cafes': {'c': None}}, {})


# ---- how the source finds the collection's files, in a fresh interpreter -------------------------------------------

LOADER_SCRIPT = r'''
import json, runpy, sys
mode, source, base = sys.argv[1:4]
if mode != 'plain':
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
    _AnsibleCollectionFinder(paths=[base])._install()
if mode == 'loader-first':
    from ansible_collections.textileio.textile.plugins.module_utils import _client as first
if mode == 'plain':
    drift = runpy.run_path(source)  # as ansible-rulebook loads it
else:  # the loader's path hook claims the file, so run_path cannot load it; it is imported by its name instead
    from importlib import import_module
    drift = vars(import_module('ansible_collections.textileio.textile.extensions.eda.plugins.event_source.token_drift'))
settings, utils = drift['configure']({'cafes': {'c': None}}, {})
from importlib import import_module
again = import_module('ansible_collections.textileio.textile.plugins.module_utils._client') if mode != 'plain' else None
print(json.dumps({
    'files': {name: module.__file__ for name, module in utils.items()},
    'same_client': again is None or again is utils['_client'],
    'first_reused': mode != 'loader-first' or first is utils['_client'],
    'packages': sorted(name for name in sys.modules if name.count('.') < 5 and name.startswith('ansible_collections')),
}))
'''


@pytest.mark.parametrize('mode', ['plain', 'loader', 'loader-first'])
def test_the_source_finds_its_collection_with_and_without_ansibles_collection_loader(tmp_path, mode):
    """As ansible-rulebook runs it (no ansible_collections package at all), and inside a process where ansible's
    collection loader is active, before or after the module_utils were imported through it: the source's client
    is the collection's own files, one module each."""
    base = tmp_path / 'collections'
    link = base / 'ansible_collections' / 'textileio' / 'textile'
    link.parent.mkdir(parents=True)
    link.symlink_to(ROOT, target_is_directory=True)
    script = tmp_path / 'load.py'
    script.write_text(LOADER_SCRIPT)
    source = link / 'extensions' / 'eda' / 'plugins' / 'event_source' / 'token_drift.py'
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH' and not k.startswith('ANSIBLE_')}
    done = subprocess.run(
        [sys.executable, str(script), mode, str(source), str(base)],
        env=env,
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert {name: Path(path).resolve() for name, path in seen['files'].items()} == {
        name: ROOT / 'plugins' / 'module_utils' / f'{name}.py'
        for name in ('_token_format', '_client', '_connection', '_token_plan', '_transport')
    }
    assert seen['same_client'] and seen['first_reused']
    if mode == 'plain':
        assert seen['packages'] == []  # no package was made up: only the module_utils' own names


# ---- properties: generated args and list answers ------------------------------------------------------------------

TOKENS = st.binary(min_size=44, max_size=44).map(b58encode)
PASSWORDS = st.text(st.characters(exclude_categories=('Cs',)), min_size=12, max_size=30).map(lambda t: 'pw-' + t)
NASTY = st.one_of(
    st.text(st.characters(exclude_categories=('Cs',)), max_size=30),
    st.sampled_from(['', ' ', '\r\n', '\0', 'nan', 'inf', '-1', '0', '1e300', 'true', 'v0', 'x' * 300, '\u202e']),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)


class Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture
def recorder():
    handler = Recorder()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # as ansible-rulebook -vv does
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def assert_no_secret(secrets, *texts):
    for text in texts:
        for secret in secrets:
            assert secret not in text, 'a secret in %r' % text[:200]


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_args_start_cleanly_or_fail_naming_an_arg(drift, sim, recorder, data):
    """Whatever the args hold, configure() accepts them or raises one ValueError naming an arg, never echoing a
    token or a password; accepted args poll the simulator (retries 0) without a secret in an event or a log line."""
    token, password, header_value = data.draw(TOKENS), data.draw(PASSWORDS), data.draw(PASSWORDS)
    secrets = [token, password, header_value]
    closed = f'http://127.0.0.1:{textile_sim.closed_port()}'
    urls = st.one_of(
        st.sampled_from(
            [sim.url, closed, None, f'{sim.url}/{token}', f'http://u:{password}@127.0.0.1:1', f'{sim.url}/prefix']
        ),
        NASTY,
    )
    names = st.one_of(st.sampled_from(['cafe-1', 'cafe.eu', 'all', token, 'a,b']), st.text(max_size=12))
    values = {
        'cafes': st.one_of(st.dictionaries(names, urls, max_size=3), NASTY),
        'expected_ids': st.one_of(st.lists(st.one_of(st.just(id_of(token)), st.just(token), NASTY), max_size=3), NASTY),
        'api_password': st.one_of(st.just(password), st.just(password + '\n'), NASTY),
        'api_username': st.one_of(st.just('P4user'), st.just(token), NASTY),
        'headers': st.one_of(
            st.just({'X-Proxy-Key': header_value}), st.just({token: 'x'}), st.just({'X-A': header_value + '\n'}), NASTY
        ),
        'ca_path': st.one_of(st.just(f'/nonexistent/{token}'), NASTY),
    }
    args = {}
    for name in data.draw(
        st.lists(st.sampled_from(list(drift.ARGS) + ['unknown_arg', token]), unique=True, max_size=8)
    ):
        args[name] = data.draw(values.get(name, NASTY), label=name)
    environ = data.draw(st.sampled_from([{}, {'TEXTILE_API_URL': sim.url, 'TEXTILE_PASSWORD': password}]))
    try:
        settings_, utils = drift.configure(args, environ)
    except ValueError as err:
        text = str(err)
        assert text.startswith(NAME + ': ') and len(text.splitlines()) == 1
        assert any(arg in text for arg in drift.ARGS + ('args', 'unknown arg')), text
        assert_no_secret(secrets, text)
        return
    if not all(urlsplit_host(url) in ('127.0.0.1', 'localhost') for url in settings_.cafes.values()):
        return  # accepted, but a host only DNS could find: never looked up from a test
    quick = settings_._replace(client=dict(settings_.client, retries=0, timeout=min(settings_.client['timeout'], 5)))
    fleet = drift.Fleet(quick, utils)
    try:
        events = run(fleet.poll_all())
    finally:
        fleet.close()
    for got in events:
        assert got['textile_drift']['state'] in drift.STATES and got['meta']['hosts'] in settings_.cafes
    assert_no_secret(secrets, json.dumps(events), *recorder.lines)


def urlsplit_host(url):
    from urllib.parse import urlsplit

    return urlsplit(url).hostname


def list_entry(id_bytes, hash_bytes):
    return b58encode(id_bytes + hash_bytes)


ENTRIES = st.one_of(
    st.builds(list_entry, st.binary(min_size=12, max_size=12), st.binary(min_size=60, max_size=60)),
    TOKENS,
    st.text(max_size=40),
    st.text(alphabet='123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz', min_size=100, max_size=400),
)
ANSWERS = st.one_of(
    st.lists(ENTRIES, max_size=20).map(json.dumps),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4),
        max_leaves=10,
    ).map(json.dumps),
    st.text(max_size=200),
    st.builds(lambda t: '<html><body>' + t + '</body></html>', TOKENS),
)


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=ANSWERS, status=st.sampled_from([200, 200, 200, 401, 404, 500]), exclusive=st.booleans())
def test_generated_list_answers_give_a_state_and_never_a_secret(drift, sim, recorder, answer, status, exclusive):
    """Whatever a cafe answers, a poll gives one of the three states, IDs only: no traceback, no token (a token
    or a long base58 run the answer holds) in the event or any log line."""
    sim.control.clear_faults()
    sim.control.add_fault(method='GET', path='/api/v0/tokens', action='status', status=status, body=answer)
    expected = [id_of(make_token())]
    settings_, utils = drift.configure(
        {'cafes': {'cafe-1': sim.url}, 'expected_ids': expected, 'exclusive': exclusive, 'retries': 0}, {}
    )
    seen = drift.observe(
        utils['_client'].Tokens(utils['_client'].TextileAPI(sim.url, **settings_.client)), settings_, utils
    )
    assert seen.state in drift.STATES
    fleet = drift.Fleet(settings_, utils)
    try:
        got = run(fleet.poll('cafe-1'))
    finally:
        fleet.close()
    text = json.dumps(got) + '\n'.join(recorder.lines) + json.dumps(seen)
    assert TOKEN_RUN.search(text) is None, text[:300]
    if seen.state != 'unreachable':
        assert status == 200 and seen.stored is not None and seen.error is None
        assert set(seen.missing_ids) <= set(expected)
    else:
        assert seen.error and '\n' not in seen.error and seen.stored is None
    recorder.lines.clear()
