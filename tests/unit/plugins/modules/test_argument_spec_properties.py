# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests: each module's whole argument spec driven with generated values through its real entry point.

For every example (wrong types, huge, empty, control characters, non-latin-1, NaN, negative, token-shaped strings
in every option, URLs built from good and bad parts) the module must end in ``exit_json`` or a clean
``fail_json`` printed as JSON: never a traceback, never "Internal error". A failure before any request names an
option, and the simulator sees no request. No token-shaped input string appears anywhere in what the module
prints (its invocation included), and values the contract refuses never lead to a request.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.textileio.textile.plugins.module_utils import _textile_module as _module
from ansible_collections.textileio.textile.plugins.module_utils._connection import MAX_RETRIES, MAX_TIMEOUT
from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58decode, b58encode
from ansible_collections.textileio.textile.plugins.module_utils._token_plan import MAX_CONCURRENCY
from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token, textile_cafe_token_info
from ansible_collections.textileio.textile.tests.unit.plugins.modules.helpers import run_entry_point

requests = pytest.importorskip('requests')

PROPERTY_EXAMPLES = int(os.environ.get('TEXTILE_PROPERTY_EXAMPLES', '150'))
BASE58_RUN = re.compile(r'[1-9A-HJ-NP-Za-km-z]{40,}')
LOOPBACK_NAMES = ('127.0.0.1', 'localhost', '::1')
MASK = '********'

# Every figure the closing note of the hardening work quotes comes from here (printed with -s).
TALLY = {'examples': 0, 'rejected_without_request': 0, 'with_requests': 0, 'succeeded': 0}

TOKENS = st.binary(min_size=44, max_size=44).map(b58encode)
SHORT_TEXT = st.text(st.characters(exclude_categories=('Cs',)), max_size=12)
NASTY_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=('Cs',)), max_size=40),
    st.sampled_from(
        [
            '',
            ' ',
            '\r\n',
            '\x00',
            '\t',
            'nan',
            'inf',
            '-inf',
            '-1',
            '0',
            '1e300',
            '99999',
            'v0',
            'V0',
            'v0\r\nX-Injected: 1',
            '../../x',
            'v0/../../x',
            'true',
            'None',
            '{{ lookup("env", "HOME") }}',
            '\u2603',
            'caf\u00e9',
            '\u202e',
            'a' * 5000,
        ]
    ),
    TOKENS,
    st.builds(lambda before, token, after: before + token + after, SHORT_TEXT, TOKENS, SHORT_TEXT),
)
SCALARS = st.one_of(
    NASTY_TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NASTY_TEXT, inner, max_size=3), max_leaves=6
)


def urls(port):
    parts = st.tuples(
        st.sampled_from(['http', 'https', 'HTTP', 'ftp', '']),
        st.sampled_from(['', '', '', 'user:pw@', 'user:ab@S3cretPart@', 'u@']),
        st.sampled_from(
            [
                '127.0.0.1',
                '127.0.0.1',
                'localhost',
                '[::1]',
                '[::1',
                'exa mple',
                'ex%41mple',
                'cafe.example',
                '10.0.0.1',
                '',
            ]
        ),
        st.sampled_from([f':{port}', f':{port}', f':{port}', '', ':0', ':99999', ':abc', ':', ':-1']),
        st.sampled_from(['', '', '/', '/prefix', '/a/../b', '/%0d%0a', '/\r\n', '/\x00']),
        st.sampled_from(['', '', '', '?q=1', '#frag', '\r\nHost: x', ' ', '\n']),
    )
    return st.one_of(parts.map(lambda p: f'{p[0]}://{p[1]}{p[2]}{p[3]}{p[4]}{p[5]}'), NASTY_TEXT, VALUES)


HEADER_NAMES = st.one_of(
    st.sampled_from(
        ['X-Proxy', 'Authorization', 'X-Textile-Opts', 'Content-Length', 'Host', 'Bad Name', 'Bad:Name', '', 'X\r\nY']
    ),
    NASTY_TEXT,
)
VALID_IDS = st.binary(min_size=12, max_size=12).map(bytes.hex)
ID_VALUES = st.one_of(VALID_IDS, st.just('AB' * 12), TOKENS, NASTY_TEXT, VALUES)
TOKEN_VALUES = st.one_of(TOKENS, TOKENS, NASTY_TEXT, VALUES)
TOKEN_LISTS = (st.lists(TOKENS, max_size=3), st.lists(TOKEN_VALUES, max_size=3) | VALUES)
ID_LISTS = (st.lists(VALID_IDS, max_size=3), st.lists(ID_VALUES, max_size=3) | VALUES)
FLAGS = (st.booleans(), VALUES)


def options(module, port, existing):
    """Every option of the module: (a strategy of good values, a strategy of nasty ones)."""
    connection = {
        'api_url': (
            st.sampled_from([f'http://127.0.0.1:{port}', f'http://localhost:{port}/', f'http://[::1]:{port}']),
            urls(port),
        ),
        'api_version': (st.just('v0'), VALUES),
        'api_username': (st.sampled_from(['Puser', 'caf\u00e9']), VALUES),
        'api_password': (st.sampled_from(['pin', '\u00e9\u00e9-secret-pin-value']), VALUES),
        'validate_certs': FLAGS,
        'ca_path': (st.just(existing), st.sampled_from([existing + '.missing', os.path.dirname(existing)]) | VALUES),
        'client_cert': (st.just(existing), st.sampled_from([existing + '.missing']) | VALUES),
        'client_key': (st.nothing(), st.sampled_from([existing, existing + '.missing']) | VALUES),
        'timeout': (
            st.sampled_from([1, 5.5, 30, '2']),
            st.sampled_from([0, -1, MAX_TIMEOUT + 1, 1e300, float('nan'), float('inf'), 'nan', '-inf', 1e-300])
            | VALUES,
        ),
        'retries': (st.sampled_from([0, 1, '2']), st.sampled_from([MAX_RETRIES + 1, -1, 1000000]) | VALUES),
        'headers': (
            st.dictionaries(
                st.sampled_from(['X-Proxy', 'X-Forwarded-Prefix']),
                st.sampled_from(['proxy-value-1', 'Bearer proxy-key-2']),
                max_size=2,
            ),
            st.dictionaries(HEADER_NAMES, VALUES, max_size=3) | VALUES,
        ),
    }
    own = {
        textile_cafe_token: {
            'state': (st.sampled_from(['present', 'absent']), VALUES),
            'tokens': TOKEN_LISTS,
            'token': TOKEN_LISTS,
            'ids': ID_LISTS,
            'id': ID_LISTS,
            'exclusive': FLAGS,
            'keep_ids': ID_LISTS,
            'verify_secret': FLAGS,
            'store': FLAGS,
            'concurrency': (
                st.integers(min_value=1, max_value=MAX_CONCURRENCY),
                st.sampled_from([0, MAX_CONCURRENCY + 1, -1, 2**63, 'inf', float('nan'), '4']) | VALUES,
            ),
        },
        textile_cafe_token_info: {'ids': ID_LISTS, 'id': ID_LISTS, 'tokens': TOKEN_LISTS, 'token': TOKEN_LISTS},
    }[module]
    return dict(connection, **own, unknown_option=(st.nothing(), VALUES))


def arguments(module, port, existing):
    """Arguments of three shapes: only good values (which reach the cafe), good values but one nasty option, and
    any mixture. Options are mostly left out; the api_url is always given (or it would be the default)."""
    specs = options(module, port, existing)

    def pick(strategy):
        return st.one_of(st.just(None), st.just(None), strategy)

    def drop_none(args):
        return {name: value for name, value in args.items() if value is not None}

    good = st.fixed_dictionaries({name: pick(good) for name, (good, nasty) in specs.items()}).map(
        lambda args: dict(args, api_url=args['api_url'] or f'http://127.0.0.1:{port}')
    )
    one_bad = st.tuples(
        good, st.sampled_from(sorted(specs)).flatmap(lambda name: st.tuples(st.just(name), specs[name][1]))
    ).map(lambda pair: dict(pair[0], **dict([pair[1]])))
    mixed = st.fixed_dictionaries({name: pick(st.one_of(good, good, nasty)) for name, (good, nasty) in specs.items()})
    return st.one_of(good, one_bad, mixed).map(drop_none)


def token_windows(args):
    """Every substring of the input that is a token: 59 to 61 base58 characters that decode to 44 bytes."""
    text = json.dumps(args)
    found = set()
    for run in BASE58_RUN.findall(text):
        for size in (59, 60, 61):
            for start in range(len(run) - size + 1):
                window = run[start : start + size]
                if len(b58decode(window)) == 44:
                    found.add(window)
    return found


def short_secret(args):
    """Whether a value that Ansible hides (no_log: the password, header values, tokens) is short enough to
    mask parts of ordinary words."""
    hidden = [args.get('api_password'), args.get('headers'), args.get('tokens'), args.get('token')]
    return any(len(text) < 8 for text in strings(hidden))


def strings(value):
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings(item)]
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in strings(item)]
    return [str(value)] if value is not None else []


def must_be_refused(args):
    """Values that the contract refuses whatever else is given (an independent statement of it, with the limits
    the plugins define: a limit changed there is changed here)."""
    url = args.get('api_url')
    if isinstance(url, str) and any(char in url.strip() for char in '\r\n\t ?#@\x00'):
        return 'api_url'
    version = args.get('api_version')
    if isinstance(version, str) and not re.fullmatch(r'v[0-9]+', version):
        return 'api_version'
    timeout = args.get('timeout')
    if (
        isinstance(timeout, (int, float))
        and not isinstance(timeout, bool)
        and not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT)
    ):
        return 'timeout'
    retries = args.get('retries')
    if isinstance(retries, int) and not isinstance(retries, bool) and not 0 <= retries <= MAX_RETRIES:
        return 'retries'
    concurrency = args.get('concurrency')
    if isinstance(concurrency, int) and not isinstance(concurrency, bool) and not 1 <= concurrency <= MAX_CONCURRENCY:
        return 'concurrency'
    return None


@pytest.fixture(scope='module')
def cafe(tmp_path_factory):
    textile_sim = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')
    existing = tmp_path_factory.mktemp('files') / 'ca.pem'
    existing.write_text('not a certificate\n')
    with textile_sim.SimServer(bcrypt_cost=4) as server:
        yield server, str(existing)


@pytest.fixture(scope='module')
def offline(cafe):
    """No name but loopback resolves, so no example reaches beyond this machine; attempts are counted; the
    client's backoff does not sleep."""
    attempts = []
    real_getaddrinfo, real_send, real_sleep = socket.getaddrinfo, requests.adapters.HTTPAdapter.send, time.sleep

    def getaddrinfo(host, *args, **kwargs):
        if host not in LOOPBACK_NAMES:
            raise socket.gaierror(socket.EAI_NONAME, 'not resolved in this test')
        return real_getaddrinfo(host, *args, **kwargs)

    def send(self, request, *args, **kwargs):
        attempts.append(request.url)
        return real_send(self, request, *args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(socket, 'getaddrinfo', getaddrinfo)
    mp.setattr(requests.adapters.HTTPAdapter, 'send', send)
    mp.setattr(time, 'sleep', lambda seconds: real_sleep(0))
    for name in _module.FALLBACK_ENV:
        mp.delenv(name, raising=False)
    yield attempts
    mp.undo()
    print(f'\nargument-spec properties: {TALLY}')


@pytest.mark.parametrize('module', [textile_cafe_token, textile_cafe_token_info], ids=['token', 'info'])
def test_every_argument_is_handled_cleanly(module, cafe, offline):
    server, existing = cafe
    # Options a message can name, as words (the alias token is a word of almost every message: it proves nothing).
    names = re.compile(r'\b(%s)\b' % '|'.join(sorted(set(options(module, server.port, existing)) - {'token'})))

    @settings(
        max_examples=PROPERTY_EXAMPLES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(arguments(module, server.port, existing))
    def check(args):
        server.control.reset()
        del offline[:]
        result, printed = run_entry_point(module.main, args)
        TALLY['examples'] += 1
        assert not result.get('msg', '').startswith('Internal error'), result['msg']
        for window in token_windows(args):
            assert window not in printed, 'a token-shaped input string was printed'
        password = args.get('api_password')
        if isinstance(password, str) and len(password) >= 16:
            assert password not in printed
        if offline:
            TALLY['with_requests'] += 1
            refused = must_be_refused(args)
            assert refused is None, f'{refused} should have been refused before any request'
        else:
            assert server.control.requests() == []
            if result.get('failed'):
                TALLY['rejected_without_request'] += 1
                if not names.search(result['msg']):
                    # Ansible hides every no_log value wherever it stands: a short password or header value masks
                    # the same letters in the message. Only such a value may explain a message that names nothing.
                    assert MASK in result['msg'] and short_secret(args), result['msg'][:500]
        if not result.get('failed'):
            TALLY['succeeded'] += 1

    check()
