# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests beyond the argument spec: what the module is given besides its options.

1. Generated environments: proxy variables of both cases (the recording proxy, hostile text, scheme-less
   values), NO_PROXY, a ``~/.netrc`` of generated content, and TEXTILE_* values with non-ASCII and control
   characters; the cafe is the loopback simulator, or a host only the recording proxy reaches. Whatever the
   environment: no traceback, nothing reaches the proxy unless use_proxy is set for that remote host (and then
   the module warns that plain http carries the token), the cafe gets Basic Auth only from TEXTILE_USERNAME and
   TEXTILE_PASSWORD, and no token or password shows in the result.
2. Generated corrupt answers after a sent request (a fault proxy lets the cafe act, then breaks its answer):
   a mint, an import and a removal end in a result that names the work the cafe did, read from its state.
3. Generated secrets given by every route (options, an alias, a header, a URL's user info, TEXTILE_* variables)
   with a failure at every stage (the module's hook, Ansible's checks, the module's checks): never shown.
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.textileio.textile.plugins.module_utils import _client
from ansible_collections.textileio.textile.plugins.module_utils._connection import FALLBACK_ENV
from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58encode, token_id
from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token as module
from ansible_collections.textileio.textile.tests.simulator.pytest_plugin import make_token
from ansible_collections.textileio.textile.tests.unit.plugins.modules.helpers import assert_no_secret, run_entry_point

EXAMPLES = int(os.environ.get('TEXTILE_PROPERTY_EXAMPLES', '40'))
SETTINGS = settings(
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
REMOTE = 'cafe.invalid'
PROXY_NAMES = ('HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy')
NO_PROXY_NAMES = ('NO_PROXY', 'no_proxy')
ENV_NAMES = PROXY_NAMES + NO_PROXY_NAMES + FALLBACK_ENV + ('NETRC',)

# Text an environment variable can hold: anything but NUL (and lone surrogates).
ENV_TEXT = st.text(st.characters(exclude_categories=('Cs',), exclude_characters='\0'), max_size=40)
PROXY = 'the recording proxy'


def proxy_values():
    return st.one_of(
        st.just(PROXY),
        ENV_TEXT,
        st.sampled_from(
            [
                'proxy.invalid:3128',
                'http://[::1',
                'http://u:secret-pw@proxy.invalid:99999',
                'socks5://127.0.0.1:1080',
                'http://',
                ' http://127.0.0.1:9 ',
                'http://127.0.0.1:9\r\nX-Injected: 1',
            ]
        ),
    )


ENVIRONMENTS = st.fixed_dictionaries(
    {},
    optional={
        **{name: proxy_values() for name in PROXY_NAMES},
        **{
            name: st.one_of(ENV_TEXT, st.sampled_from([REMOTE, '.invalid', '*', '127.0.0.1', '']))
            for name in NO_PROXY_NAMES
        },
        'TEXTILE_API_URL': st.one_of(ENV_TEXT, st.just('the cafe')),
        'TEXTILE_USERNAME': st.builds(lambda text: 'P' + text, ENV_TEXT),
        'TEXTILE_PASSWORD': st.builds(lambda text: 'pw-\u00e4' + text, ENV_TEXT),
    },
)
NETRC = st.one_of(
    st.just('default login intruder password netrc-secret\n'),
    st.just(
        'machine 127.0.0.1 login intruder password netrc-secret\nmachine cafe.invalid login i password netrc-secret\n'
    ),
    st.text(max_size=200),
)


@SETTINGS
@given(
    environment=ENVIRONMENTS,
    netrc=NETRC,
    use_proxy=st.booleans(),
    remote=st.booleans(),
    key=st.binary(min_size=44, max_size=44),
)
def test_a_generated_environment_configures_nothing_but_the_textile_fallbacks(
    run_module, sim, forward_proxy, tmp_path_factory, environment, netrc, use_proxy, remote, key
):
    sim.control.reset()
    proxy = forward_proxy({REMOTE: sim.port})
    token = b58encode(key)
    cafe = f'http://{REMOTE}:{sim.port}' if remote else sim.url
    home = tmp_path_factory.mktemp('home')
    (home / '.netrc').write_text(netrc, encoding='utf-8')
    (home / '.netrc').chmod(0o600)
    values = {name: cafe if value == 'the cafe' else value for name, value in environment.items()}
    values = {name: proxy.url if value == PROXY else value for name, value in values.items()}
    with pytest.MonkeyPatch.context() as patch:
        for name in ENV_NAMES + ('REQUEST_METHOD',):
            patch.delenv(name, raising=False)
        for name, value in dict(values, HOME=str(home), NETRC=str(home / '.netrc')).items():
            patch.setenv(name, value)
        args = {'tokens': [token], 'use_proxy': use_proxy, 'retries': 0, 'timeout': 10}
        if 'TEXTILE_API_URL' not in values:
            args['api_url'] = cafe
        result = run_module(module, args)

    assert 'Internal error' not in result.get('msg', '') and 'Traceback' not in json.dumps(result)
    assert result['failed'] or result['created_ids'] == [token_id(token)] == sim.control.state_ids()
    if not (use_proxy and remote):
        assert proxy.requests == []  # a loopback cafe, or no use_proxy: the environment's proxies are not used
    assert all(r['target'].startswith(f'http://{REMOTE}:{sim.port}/') for r in proxy.requests)
    if proxy.requests:
        assert any('plain http' in warning and 'proxy' in warning for warning in result['warnings'])
    seen = [name for entry in sim.control.requests() for name, dummy in entry['header_lines']]
    if 'TEXTILE_USERNAME' not in values:
        assert 'Authorization' not in seen  # ~/.netrc gave nothing
    assert 'Proxy-Authorization' not in seen
    assert_no_secret(result, [token])
    text = json.dumps(result)
    assert 'netrc-secret' not in text and 'secret-pw' not in text
    if 'TEXTILE_PASSWORD' in values and len(values['TEXTILE_PASSWORD'].strip()) > 4:
        assert values['TEXTILE_PASSWORD'] not in text


# A corruption of the cafe's answer, applied after the cafe acted: (what, how).
STATUS_TEXT = st.text(alphabet='ABCDEFGHTPabcdefxyz /.-:', max_size=30)  # no digit: never a valid status line
CORRUPTIONS = st.one_of(
    st.tuples(st.just('cut'), st.floats(min_value=0.0, max_value=0.999)),
    st.tuples(st.just('header'), st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)),
    st.tuples(st.just('length'), st.integers(min_value=0, max_value=10**12)),
    st.tuples(st.just('status'), STATUS_TEXT),
    st.tuples(st.just('chunked'), st.text(alphabet='0123456789abcdefxz; -', max_size=10)),
    st.tuples(st.just('reset'), st.none()),
    st.tuples(st.just('endless'), st.none()),
)


def corrupt(plan):
    """``corrupt(head, body)`` for the fault proxy: the cafe's answer broken as each step of ``plan`` says."""

    def apply(head, body):
        lines = head.split(b'\r\n')
        for what, how in plan:
            if what == 'reset':
                return None
            if what == 'cut':
                whole = b'\r\n'.join(lines) + b'\r\n\r\n' + body
                return whole[: max(1, int(len(whole) * how))]
            if what == 'header':
                lines.insert(1 + len(how) % len(lines), how.encode('latin-1'))
            elif what == 'length':
                lines.append(b'Content-Length: %d' % how)
            elif what == 'status':
                lines[0] = how.encode('latin-1')
            elif what == 'chunked':
                lines = [line for line in lines if not line.lower().startswith(b'content-length:')]
                lines.append(b'Transfer-Encoding: chunked')
                body = how.encode() + b'\r\n' + body + b'\r\n0\r\n\r\n'
            elif what == 'endless':
                lines = [line for line in lines if not line.lower().startswith(b'content-length:')]
                lines.append(b'Content-Length: %d' % (2 * _client.MAX_BODY))
                body += b'\0' * (_client.MAX_BODY + 1)
        return b'\r\n'.join(lines) + b'\r\n\r\n' + body

    return apply


@SETTINGS
@given(
    action=st.sampled_from(['mint', 'import', 'remove']),
    plan=st.lists(CORRUPTIONS, min_size=1, max_size=2),
)
def test_after_a_generated_corrupt_answer_the_result_names_the_work_the_cafe_did(
    run_module, sim, fault_proxy, monkeypatch, action, plan
):
    monkeypatch.setattr(_client, 'MAX_BODY', 50_000)
    sim.control.reset()
    fault_proxy.rules.clear()
    fault_proxy.broken.clear()
    kept, target = make_token(), make_token()
    sim.control.seed([kept] + ([target] if action == 'remove' else []))
    before = set(sim.control.state_ids())
    method = 'DELETE' if action == 'remove' else 'POST'
    fault_proxy.break_answers(method, '/api/v0/tokens', corrupt=corrupt(plan))
    args = {'api_url': fault_proxy.url, 'retries': 0, 'timeout': 10}
    if action == 'import':
        args['tokens'] = [kept, target]
    elif action == 'remove':
        args.update(state='absent', tokens=[target])

    result = run_module(module, args)

    after = set(sim.control.state_ids())
    assert 'Internal error' not in result.get('msg', '') and 'could not be built' not in result.get('msg', '')
    assert fault_proxy.broken == [(method, fault_proxy.broken[0][1])]  # the request reached the cafe
    assert_no_secret(result, [kept, target], allowed_key='token' if action == 'mint' and not result['failed'] else None)
    if action == 'mint':
        (minted,) = after - before
        if result['failed']:
            assert result['orphaned_ids'] == [minted] and minted in result['msg']
        else:
            assert result['token_id'] == minted and result['created_ids'] == [minted]
    elif action == 'import':
        assert not result['failed'], result['msg']
        assert result['created_ids'] == [token_id(target)] and after - before == {token_id(target)}
    else:
        assert not result['failed'], result['msg']
        assert result['removed_ids'] == [token_id(target)] and before - after == {token_id(target)}


# 3. A secret given by any route (an option, its alias, a header value, the user info of a URL, a TEXTILE_* variable)
#    with a run that fails at any stage: in the module's hook before Ansible's checks (a NUL), in Ansible's checks
#    (a type, an unknown option), in the module's own checks (a key that could be a token), or before any request
#    (a bad option value). Failures before Ansible's checks are the ones where only the module's hook hides values.
SECRET = st.builds(
    lambda text: 'S3cret-' + text,
    st.text(alphabet='ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijk23456789', min_size=4, max_size=30),
)
ROUTES = {
    'tokens': lambda secret: ({'tokens': [secret]}, {}),
    'token (the alias of tokens)': lambda secret: ({'token': [secret]}, {}),
    'api_password': lambda secret: ({'api_password': secret}, {}),
    'headers': lambda secret: ({'headers': {'Authorization': secret}}, {}),
    'api_url': lambda secret: ({'api_url': f'http://u:{secret}@127.0.0.1:1'}, {}),
    'TEXTILE_PASSWORD': lambda secret: ({}, {'TEXTILE_PASSWORD': secret}),
    'TEXTILE_API_URL': lambda secret: ({}, {'TEXTILE_API_URL': f'http://u:{secret}@127.0.0.1:1'}),
    'TEXTILE_USERNAME (a token)': lambda token: ({}, {'TEXTILE_USERNAME': token}),
    'api_username (a token)': lambda token: ({'api_username': token}, {}),
}
FAILURES = {
    'hook (NUL)': {'ids': ['a\0b']},
    'Ansible (type)': {'timeout': 'soon'},
    'Ansible (unknown option)': {'bogus': 1},
    'module (a header name that is a token)': {'headers': {make_token(): 'x'}},
    'module (a bad option value)': {'retries': 11},
}


@pytest.mark.parametrize('failure', sorted(FAILURES))
@pytest.mark.parametrize('route', sorted(ROUTES))
@settings(SETTINGS, max_examples=max(EXAMPLES // 8, 2))  # each of the 45 pairs, with a few generated secrets
@given(secret=SECRET, key=st.binary(min_size=44, max_size=44))
def test_a_secret_given_by_any_route_is_hidden_in_a_failure_at_any_stage(sim, route, failure, secret, key):
    if '(a token)' in route:
        secret = b58encode(key)
    route_args, environment = ROUTES[route](secret)
    args = dict(route_args, **FAILURES[failure])
    if 'headers' in route_args and 'headers' in FAILURES[failure]:
        args['headers'] = dict(route_args['headers'], **FAILURES[failure]['headers'])
    if 'TEXTILE_API_URL' not in environment:
        args.setdefault('api_url', sim.url)
    with pytest.MonkeyPatch.context() as patch:
        for name in FALLBACK_ENV:
            patch.delenv(name, raising=False)
        for name, value in environment.items():
            patch.setenv(name, value)
        result, printed = run_entry_point(module.main, args)
    assert result['failed'] and 'Internal error' not in result['msg'] and 'Traceback' not in printed
    assert secret not in printed, (route, failure)
    if route == 'token (the alias of tokens)' and failure.startswith('module (a header'):
        assert result['msg'].startswith('headers has a key')
