# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client and the environment: a proxy only with use_proxy, for a host that is not loopback, as the
environment's HTTPS_PROXY/HTTP_PROXY/NO_PROXY (either case) say; nothing else of the environment is read.
(The modules' side, with ~/.netrc and the CA bundle variables, is tests/unit/plugins/modules/test_environment.py.)"""

from __future__ import annotations

import pytest

from ansible_collections.textileio.textile.plugins.module_utils._client import TextileAPI, TextileError, Tokens
from ansible_collections.textileio.textile.plugins.module_utils._connection import environment_proxy

VARIABLES = ('HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy')
REMOTE = 'cafe.invalid'


@pytest.fixture
def environ(monkeypatch):
    """Set the proxy variables given (every other one unset)."""
    for name in VARIABLES + ('REQUEST_METHOD',):
        monkeypatch.delenv(name, raising=False)

    def set_variables(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_variables


@pytest.mark.parametrize(
    'variables, url, expected',
    [
        ({'HTTP_PROXY': 'http://p:1'}, 'http://cafe.example:40600', 'http://p:1'),
        ({'http_proxy': 'http://p:2'}, 'http://cafe.example:40600', 'http://p:2'),
        ({'HTTPS_PROXY': 'http://p:3'}, 'https://cafe.example', 'http://p:3'),
        ({'HTTPS_PROXY': 'https://p:5'}, 'https://cafe.example', 'https://p:5'),  # a proxy reached over TLS
        ({'https_proxy': 'http://p:4'}, 'https://cafe.example', 'http://p:4'),
        ({'HTTP_PROXY': 'http://p:1'}, 'https://cafe.example', None),  # the scheme's own variable only
        ({'HTTPS_PROXY': 'http://p:3'}, 'http://cafe.example', None),
        ({'HTTP_PROXY': 'http://p:1', 'NO_PROXY': 'cafe.example'}, 'http://cafe.example:40600', None),
        ({'HTTP_PROXY': 'http://p:1', 'no_proxy': '.example'}, 'http://cafe.example:40600', None),
        ({'HTTP_PROXY': 'http://p:1', 'NO_PROXY': '10.0.0.0/8'}, 'http://10.1.2.3:40600', None),
        ({'HTTP_PROXY': 'http://p:1', 'NO_PROXY': 'other.example'}, 'http://cafe.example:40600', 'http://p:1'),
        ({'HTTP_PROXY': 'http://p:1'}, 'http://127.0.0.1:40600', None),
        ({'HTTP_PROXY': 'http://p:1'}, 'http://localhost:40600', None),
        ({'HTTP_PROXY': 'http://p:1'}, 'http://[::1]:40600', None),
        ({'HTTP_PROXY': 'http://p:1'}, 'http://cafe.localhost:40600', None),
        ({}, 'http://cafe.example:40600', None),
    ],
)
def test_the_proxy_of_the_environment(environ, variables, url, expected):
    environ(**variables)
    assert environment_proxy(url) == expected


def test_without_use_proxy_no_proxy_is_used_whatever_the_environment(environ):
    environ(HTTP_PROXY='http://p:1', HTTPS_PROXY='http://p:2', ALL_PROXY='http://p:3')
    api = TextileAPI(f'http://{REMOTE}:40600')
    assert api.proxy is None and api.session.proxies == {} and api.session.trust_env is False


def test_https_through_the_proxy_is_tunnelled_and_the_proxy_sees_no_credential(
    environ, forward_proxy, test_ca, tmp_path
):
    textile_sim = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')
    with textile_sim.SimServer(
        bcrypt_cost=4,
        username='P4account',
        password='the-pin',
        tls_cert=test_ca['server'],
        tls_key=test_ca['server_key'],
    ) as tls_sim:
        port = tls_sim.port
        proxy = forward_proxy({REMOTE: port})
        environ(HTTPS_PROXY=proxy.url)
        api = TextileAPI(
            f'https://{REMOTE}:{port}',
            username='P4account',
            password='the-pin',
            validate_certs=False,
            use_proxy=True,
        )
        assert api.proxy == proxy.url
        assert Tokens(api).list() == []
    assert [(r['method'], r['target']) for r in proxy.requests] == [('CONNECT', f'{REMOTE}:{port}')]
    assert not any('authorization' in r['headers'] for r in proxy.requests)


@pytest.mark.parametrize(
    'proxy',
    [
        'http://[::1',
        'http://proxy:99999',
        'http://proxy:0',
        'not a url at all',
        'ftp://proxy:21',
        'http://:8080',
        '://x',
        'http://u:p@',
        'http://proxy\x7f:1',
    ],
)
def test_a_proxy_variable_that_is_not_a_proxy_url_is_refused_naming_the_variables(environ, proxy):
    environ(HTTP_PROXY=proxy)
    with pytest.raises(ValueError) as info:
        TextileAPI(f'http://{REMOTE}:40600', use_proxy=True)
    assert str(info.value) == (
        'use_proxy: the proxy the environment names for http (HTTP_PROXY or http_proxy) is not an http:// or '
        'https:// URL with a host and a port from 1 to 65535; fix it, or set use_proxy to false.'
    )
    assert proxy not in str(info.value) and 'u:p' not in str(info.value)
    assert TextileAPI(f'http://{REMOTE}:40600').proxy is None  # without use_proxy the variable is not read


def test_a_proxy_without_a_scheme_is_an_http_proxy(environ):
    environ(https_proxy='proxy.example:3128')
    assert TextileAPI('https://cafe.example', use_proxy=True).proxy == 'http://proxy.example:3128'


def test_a_proxy_whose_name_does_not_resolve_is_named_as_the_proxy(environ):
    environ(HTTP_PROXY='http://proxy.invalid:3128')
    with pytest.raises(TextileError) as info:
        Tokens(TextileAPI(f'http://{REMOTE}:40600', use_proxy=True, retries=0)).list()
    assert info.value.kind == 'dns' and info.value.sent is False
    assert str(info.value) == (
        'GET /api/v0/tokens: The host name of the proxy the environment names (use_proxy) does not resolve: check '
        'it and DNS.'
    )
    assert 'proxy.invalid' not in str(info.value)
