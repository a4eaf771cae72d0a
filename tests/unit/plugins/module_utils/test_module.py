# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module glue: connection options, their checks before any request, warnings, bcrypt, error diagnosis."""

from __future__ import annotations

import os

import pytest

from ansible_collections.textileio.textile.plugins.module_utils import _module
from ansible_collections.textileio.textile.plugins.module_utils._client import TextileError
from ansible_collections.textileio.textile.plugins.module_utils._module import TextileModule, check_secret, is_loopback
from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58decode
from ansible_collections.textileio.textile.tests.unit.plugins.modules.helpers import new_token, run_main

bcrypt = pytest.importorskip('bcrypt')


def probe():
    """A module that only builds the TextileModule and reports the client it configured."""
    module = TextileModule(argument_spec=dict(tokens=dict(type='list', elements='str', no_log=True)),
                           supports_check_mode=True)
    api = module.api
    module.exit_json(changed=False, api_url=api.api_url, username=api.username, timeout=api.timeout,
                     retries=api.retries, verify=api.session.verify, count=api.request_count)


@pytest.fixture
def run(monkeypatch):
    for name in ('TEXTILE_API_URL', 'TEXTILE_USERNAME', 'TEXTILE_PASSWORD'):
        monkeypatch.delenv(name, raising=False)
    return lambda **args: run_main(monkeypatch, probe, args)


def test_defaults(run):
    result = run()
    assert not result['failed']
    assert result['api_url'] == 'http://127.0.0.1:40600' and result['username'] is None
    assert result['timeout'] == 30.0 and result['retries'] == 3 and result['verify'] is True
    assert result['warnings'] == [] and result['count'] == 0


def test_environment_fallbacks(run, monkeypatch):
    monkeypatch.setenv('TEXTILE_API_URL', 'http://localhost:41000')
    monkeypatch.setenv('TEXTILE_USERNAME', 'Pabc')
    monkeypatch.setenv('TEXTILE_PASSWORD', 'pin')
    result = run()
    assert result['api_url'] == 'http://localhost:41000' and result['username'] == 'Pabc'
    assert run(api_url='http://127.0.0.2:1')['api_url'] == 'http://127.0.0.2:1'


def test_ca_path_is_used_for_verification(run, tmp_path):
    bundle = tmp_path / 'ca.pem'
    bundle.write_text('x')
    assert run(api_url='https://127.0.0.1:1', ca_path=str(bundle))['verify'] == str(bundle)
    assert run(api_url='https://127.0.0.1:1', ca_path=str(bundle), validate_certs=False)['verify'] is False


@pytest.mark.parametrize('args, expected', [
    (dict(api_url='http://user:s3cr3t@127.0.0.1:40600'), 'api_url must not contain user info'),
    (dict(api_url='ftp://127.0.0.1'), 'http:// or https://'),
    (dict(api_url='127.0.0.1:40600'), 'http:// or https://'),
    (dict(headers={'X-Textile-Opts': 'store=true'}), 'X-Textile-Opts'),
    (dict(headers={'authorization': 'Bearer s3cr3t'}, api_username='P1'), 'authorization'),
    (dict(timeout=0), 'timeout'),
    (dict(retries=-1), 'retries'),
])
def test_bad_connection_options_fail_without_echoing(run, args, expected):
    result = run(**args)
    assert result['failed'] and expected in result['msg'] and 's3cr3t' not in result['msg']


def test_authorization_header_allowed_without_username(run):
    assert not run(headers={'Authorization': 'Bearer x'})['failed']


@pytest.mark.parametrize('url, args, warned', [
    ('http://10.1.2.3:40600', dict(api_username='P1', api_password='pin'), True),
    ('http://cafe.example.com:40600', dict(tokens=['t']), True),
    ('http://10.1.2.3:40600', dict(headers={'Authorization': 'Bearer pin'}), True),
    ('http://10.1.2.3:40600', dict(headers={'X-Proxy': 'a'}), False),
    ('http://10.1.2.3:40600', dict(), False),
    ('https://10.1.2.3:40600', dict(api_password='pin'), False),
    ('http://127.0.0.1:40600', dict(api_password='pin', tokens=['t']), False),
    ('http://[::1]:40600', dict(api_password='pin'), False),
    ('http://localhost:40600', dict(api_password='pin'), False),
])
def test_plain_http_warning(run, url, args, warned):
    result = run(api_url=url, **args)
    assert any('plain http' in warning for warning in result['warnings']) is warned
    assert all('pin' not in warning for warning in result['warnings'])


def test_missing_requests_is_a_clean_failure(run, monkeypatch):
    monkeypatch.setattr(_module, 'HAS_REQUESTS', False)
    result = run()
    assert result['failed'] and 'requests' in result['msg'] and 'Failed to import' in result['msg']


@pytest.mark.parametrize('host, loopback', [
    ('127.0.0.1', True), ('127.8.9.1', True), ('::1', True), ('localhost', True), ('LOCALHOST', True),
    ('10.0.0.1', False), ('example.com', False), ('::ffff:10.0.0.1', False),
])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


class TestCheckSecret:
    def entry_hash(self, secret):
        return bcrypt.hashpw(secret, bcrypt.gensalt(4)).replace(b'$2b$', b'$2a$')

    @pytest.mark.parametrize('secret', [os.urandom(32), b'\0' + os.urandom(31), os.urandom(16) + b'\0' * 16],
                             ids=['random', 'leading-zero', 'trailing-zeros'])
    def test_matches_go_style_hash(self, secret):
        stored = self.entry_hash(secret)
        assert check_secret(secret, stored) is True
        assert check_secret(bytes([secret[0] ^ 1]) + secret[1:], stored) is False

    def test_garbage_hash_is_a_mismatch(self):
        assert check_secret(os.urandom(32), b'not a bcrypt hash') is False

    def test_none_without_bcrypt(self, monkeypatch):
        monkeypatch.setattr(_module, 'HAS_BCRYPT', False)
        assert check_secret(os.urandom(32), self.entry_hash(b'x' * 32)) is None

    def test_same_answer_as_the_simulator(self):
        sim_module = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')
        token = new_token()
        with sim_module.SimServer(bcrypt_cost=4) as server:
            sim_module.SimControl(server.url).seed([token])
            entry = b58decode(server.list_entries()[0])
        raw = b58decode(token)
        assert check_secret(raw[12:], entry[12:]) is True
        assert check_secret(os.urandom(32), entry[12:]) is False


def test_fail_names_work_done(monkeypatch):
    def main():
        module = TextileModule(argument_spec={})
        module.fail('Something broke.', created_ids=['a' * 24], removed_ids=[], replaced_ids=['b' * 24])

    result = run_main(monkeypatch, main, {})
    assert result['msg'] == (f"Something broke. Before this failure the run had already created {'a' * 24}; "
                             f"replaced the secret of {'b' * 24}.")
    assert result['created_ids'] == ['a' * 24]


def test_fail_from_error_keeps_the_cause_and_structure(monkeypatch):
    err = TextileError('GET /api/v0/tokens: Basic Auth failed (HTTP 401): set api_username.', kind='basic_auth',
                       method='GET', path='/api/v0/tokens', status=401)

    def main():
        TextileModule(argument_spec={}).fail_from_error(err, 'Listing the tokens failed', created_ids=[])

    result = run_main(monkeypatch, main, {})
    assert result['msg'] == 'Listing the tokens failed: GET /api/v0/tokens: Basic Auth failed (HTTP 401): set api_username.'
    assert result['error'] == {'method': 'GET', 'path': '/api/v0/tokens', 'status': 401, 'kind': 'basic_auth',
                               'exception': None}
