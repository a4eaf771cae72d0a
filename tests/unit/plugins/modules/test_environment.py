# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a module is given besides its options configures nothing but the TEXTILE_* fallbacks.

Proxy variables (both cases), a ``~/.netrc`` and the CA bundle variables of requests and curl are set in the
environment of the module's process, as on a corporate machine; a recording proxy on loopback must see nothing
and the cafe must see only the credentials the task gave. ``use_proxy`` is the one way in to a proxy, for a host
that is not loopback: the tests reach such a host (``cafe.invalid``, which resolves nowhere) only through the
recording proxy, which maps it to the simulator.
"""

from __future__ import annotations

import base64

import pytest

from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token as module
from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token_info as info_module
from ansible_collections.textileio.textile.tests.simulator.pytest_plugin import make_token
from ansible_collections.textileio.textile.tests.unit.plugins.modules.helpers import (
    api_requests,
    assert_no_secret,
)

PROXY_VARIABLES = ('HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy')
NO_PROXY_VARIABLES = ('NO_PROXY', 'no_proxy')
REMOTE = 'cafe.invalid'  # resolves nowhere: only the recording proxy knows it


@pytest.fixture
def home(tmp_path, monkeypatch):
    """HOME (and NETRC) pointed at a temporary directory whose .netrc gives credentials for every host."""
    directory = tmp_path / 'home'
    directory.mkdir()
    netrc = directory / '.netrc'
    netrc.write_text('machine 127.0.0.1 login intruder password netrc-pin\ndefault login intruder password netrc-pin\n')
    netrc.chmod(0o600)
    monkeypatch.setenv('HOME', str(directory))
    monkeypatch.setenv('NETRC', str(netrc))
    return directory


def set_proxies(monkeypatch, url, names=PROXY_VARIABLES, no_proxy=None):
    for name in PROXY_VARIABLES + NO_PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in names:
        monkeypatch.setenv(name, url)
    for name in NO_PROXY_VARIABLES if no_proxy is not None else ():
        monkeypatch.setenv(name, no_proxy)


def credentials_seen(sim):
    """The Authorization and Proxy-Authorization headers the simulator received (redacted: only their names)."""
    return [
        name
        for entry in api_requests(sim)
        for name, dummy in entry['header_lines']
        if name.lower() in ('authorization', 'proxy-authorization')
    ]


@pytest.mark.parametrize('use_proxy', [False, True])
def test_proxy_variables_and_netrc_reach_nothing_but_a_loopback_cafe(
    run_module, sim, forward_proxy, home, monkeypatch, use_proxy
):
    proxy = forward_proxy()
    set_proxies(monkeypatch, proxy.url)
    kept, added, removed = make_token(), make_token(), make_token()
    sim.control.seed([kept, removed])
    base = {'api_url': sim.url, 'retries': 0, 'use_proxy': use_proxy}

    declared = run_module(module, dict(base, tokens=[kept, added]))
    gone = run_module(module, dict(base, state='absent', tokens=[removed]))
    listed = run_module(info_module, dict(base, tokens=[kept]))

    assert not declared['failed'] and declared['created_ids'] == [module.token_id(added)]
    assert not gone['failed'] and gone['removed_ids'] == [module.token_id(removed)]
    assert not listed['failed'] and listed['checked'][0]['valid'] is True
    assert sim.control.state_ids() == sorted(module.token_id(t) for t in (kept, added))
    assert proxy.requests == []  # the import's token and the removal never went to the proxy
    assert credentials_seen(sim) == []  # ~/.netrc added no Basic Auth
    for result in (declared, gone, listed):
        assert_no_secret(result, [kept, added, removed])


def test_netrc_never_replaces_an_authorization_header(run_module, home, monkeypatch):
    textile_sim = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')
    set_proxies(monkeypatch, '', names=())
    header = 'Basic ' + base64.b64encode(b'P4account:the-pin').decode()
    with textile_sim.SimServer(bcrypt_cost=4, username='P4account', password='the-pin') as guarded:
        result = run_module(info_module, {'api_url': guarded.url, 'headers': {'Authorization': header}, 'retries': 0})
    assert not result['failed'], result['msg']


def test_ca_bundle_variables_of_requests_and_curl_are_not_read(run_module, monkeypatch, tmp_path):
    textile_sim = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')
    tlsutil = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.tlsutil')
    ca = tlsutil.make_test_ca(str(tmp_path / 'tls'))
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'SSL_CERT_FILE'):
        monkeypatch.setenv(name, ca.ca_cert)
    with textile_sim.SimServer(bcrypt_cost=4, tls_cert=ca.server_cert, tls_key=ca.server_key) as tls_sim:
        refused = run_module(info_module, {'api_url': tls_sim.url, 'retries': 0})
        trusted = run_module(info_module, {'api_url': tls_sim.url, 'retries': 0, 'ca_path': ca.ca_cert})
    assert refused['failed'] and refused['error']['kind'] == 'tls'
    assert not trusted['failed']


@pytest.mark.parametrize('names', [('HTTP_PROXY',), ('http_proxy',)], ids=['upper', 'lower'])
def test_use_proxy_sends_a_remote_cafe_through_the_proxy(run_module, sim, forward_proxy, home, monkeypatch, names):
    proxy = forward_proxy({REMOTE: sim.port})
    set_proxies(monkeypatch, proxy.url, names)
    token = make_token()
    result = run_module(
        module, {'api_url': f'http://{REMOTE}:{sim.port}', 'use_proxy': True, 'tokens': [token], 'retries': 0}
    )
    assert not result['failed'], result['msg']
    assert result['created_ids'] == [module.token_id(token)] == sim.control.state_ids()
    assert [(r['method'], r['target']) for r in proxy.requests] == [
        ('GET', f'http://{REMOTE}:{sim.port}/api/v0/tokens'),
        ('POST', f'http://{REMOTE}:{sim.port}/api/v0/tokens'),
    ]
    assert all('authorization' not in r['headers'] for r in proxy.requests)  # ~/.netrc is not read either
    assert any('plain http' in warning and 'proxy' in warning for warning in result['warnings'])
    assert_no_secret(result, [token])


@pytest.mark.parametrize('use_proxy, no_proxy', [(False, None), (True, REMOTE), (True, f'.invalid,{REMOTE}')])
def test_a_remote_cafe_goes_through_no_proxy_unless_use_proxy_and_not_excluded(
    run_module, sim, forward_proxy, monkeypatch, use_proxy, no_proxy
):
    proxy = forward_proxy({REMOTE: sim.port})
    set_proxies(monkeypatch, proxy.url, no_proxy=no_proxy)
    result = run_module(info_module, {'api_url': f'http://{REMOTE}:{sim.port}', 'use_proxy': use_proxy, 'retries': 0})
    assert result['failed'] and result['error']['kind'] == 'dns'  # straight to a name that resolves nowhere
    assert proxy.requests == [] and api_requests(sim) == []


@pytest.mark.parametrize('host', ['127.0.0.1', 'localhost', '[::1]', '127.8.9.10'])
def test_use_proxy_never_applies_to_loopback(run_module, forward_proxy, monkeypatch, closed_port, host):
    proxy = forward_proxy()
    set_proxies(monkeypatch, proxy.url)
    result = run_module(info_module, {'api_url': f'http://{host}:{closed_port}', 'use_proxy': True, 'retries': 0})
    assert result['failed'] and result['error']['kind'] == 'connection'
    assert proxy.requests == []


def test_a_proxy_variable_that_is_not_a_proxy_url_fails_naming_use_proxy_before_any_request(
    run_module, sim, monkeypatch
):
    set_proxies(monkeypatch, 'http://user:proxy-secret@[not-an-address]:3128')
    token = make_token()
    result = run_module(module, {'api_url': f'http://{REMOTE}:1', 'use_proxy': True, 'tokens': [token]})
    assert result['failed'] and result['msg'].startswith('use_proxy: the proxy the environment names for http')
    assert 'proxy-secret' not in result['msg'] and api_requests(sim) == []
    ignored = run_module(module, {'api_url': sim.url, 'use_proxy': True, 'tokens': [token], 'retries': 0})
    assert not ignored['failed'] and ignored['created_ids'] == [module.token_id(token)]  # loopback: never read


@pytest.mark.parametrize('given', ['option', 'TEXTILE_PASSWORD'])
def test_a_pin_with_an_umlaut_authenticates_as_an_option_and_from_the_environment(run_module, monkeypatch, given):
    textile_sim = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')
    pin = 'p\u00e4ss-\u00df\u2603'
    args = {'api_username': 'P4account', 'retries': 0}
    if given == 'option':
        args['api_password'] = pin
    else:
        monkeypatch.setenv('TEXTILE_PASSWORD', pin)
    with textile_sim.SimServer(bcrypt_cost=4, username='P4account', password=pin) as guarded:
        result = run_module(info_module, dict(args, api_url=guarded.url))
    assert not result['failed'], result['msg']
    assert pin not in str(result)
