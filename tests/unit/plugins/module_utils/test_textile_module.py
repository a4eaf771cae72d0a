# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module glue: connection options, their checks before any request, warnings, bcrypt, error diagnosis."""

from __future__ import annotations

import json
import os
import sys
from urllib.parse import urlsplit

import pytest
from ansible.module_utils.common.parameters import PASS_VARS

from ansible_collections.textileio.textile.plugins.module_utils import _textile_module as _module
from ansible_collections.textileio.textile.plugins.module_utils._client import TextileError
from ansible_collections.textileio.textile.plugins.module_utils._connection import connection_problem, is_loopback
from ansible_collections.textileio.textile.plugins.module_utils._textile_module import (
    TextileModule,
    connection_argument_spec,
)
from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58decode, check_secret
from ansible_collections.textileio.textile.tests.simulator.pytest_plugin import make_token
from ansible_collections.textileio.textile.tests.unit.plugins.modules.helpers import run_main

bcrypt = pytest.importorskip('bcrypt')


def probe():
    """A module that only builds the TextileModule and reports the client it configured."""
    module = TextileModule(
        argument_spec=dict(tokens=dict(type='list', elements='str', no_log=True)), supports_check_mode=True
    )
    api = module.api
    module.exit_json(
        changed=False,
        api_url=api.api_url,
        username=api.username,
        timeout=api.timeout,
        retries=api.retries,
        verify=api.session.verify,
        count=api.request_count,
    )


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


@pytest.mark.parametrize(
    'args, expected',
    [
        (dict(api_url='http://user:s3cr3t@127.0.0.1:40600'), 'api_url must not contain user info'),
        (dict(api_url='ftp://127.0.0.1'), 'http:// or https://'),
        (dict(api_url='127.0.0.1:40600'), 'http:// or https://'),
        (dict(headers={'X-Textile-Opts': 'store=true'}), 'X-Textile-Opts'),
        (dict(headers={'authorization': 'Bearer s3cr3t'}, api_username='P1'), 'authorization'),
        (dict(timeout=0), 'timeout'),
        (dict(retries=-1), 'retries'),
    ],
)
def test_bad_connection_options_fail_without_echoing(run, args, expected):
    result = run(**args)
    assert result['failed'] and expected in result['msg'] and 's3cr3t' not in result['msg']


def test_authorization_header_allowed_without_username(run):
    assert not run(headers={'Authorization': 'Bearer x'})['failed']


@pytest.mark.parametrize(
    'url, args, warned',
    [
        ('http://10.1.2.3:40600', dict(api_username='P1', api_password='pin'), True),
        ('http://cafe.example.com:40600', dict(tokens=['t']), True),
        ('http://10.1.2.3:40600', dict(headers={'Authorization': 'Bearer pin'}), True),
        ('http://10.1.2.3:40600', dict(headers={'X-Proxy': 'a'}), False),
        ('http://10.1.2.3:40600', dict(), False),
        ('https://10.1.2.3:40600', dict(api_password='pin'), False),
        ('http://127.0.0.1:40600', dict(api_password='pin', tokens=['t']), False),
        ('http://[::1]:40600', dict(api_password='pin'), False),
        ('http://localhost:40600', dict(api_password='pin'), False),
    ],
)
def test_plain_http_warning(run, url, args, warned):
    result = run(api_url=url, **args)
    assert any('plain http' in warning for warning in result['warnings']) is warned
    assert all('pin' not in warning for warning in result['warnings'])


def test_missing_requests_is_a_clean_failure(run, monkeypatch):
    monkeypatch.setattr(_module, 'HAS_REQUESTS', False)
    result = run()
    assert result['failed'] and 'requests' in result['msg'] and 'Failed to import' in result['msg']


def test_a_urllib3_without_what_the_client_needs_is_its_own_failure(run, monkeypatch):
    problem = "requests is installed, but the urllib3 it uses (0.9) lacks urllib3.connectionpool that ..."
    monkeypatch.setattr(_module, 'URLLIB3_PROBLEM', problem)
    result = run()
    assert result['failed'] and result['msg'] == problem and 'Failed to import' not in result['msg']


def test_the_urllib3_problem_names_the_version_and_the_fix():
    # In a process of its own: a urllib3 without connectionpool, a requests that imported before it went missing.
    import subprocess

    code = (
        "import sys, requests; sys.modules['urllib3.connectionpool'] = None; "
        "from ansible_collections.textileio.textile.plugins.module_utils import _client as c, _transport as t; "
        "print(c.HAS_REQUESTS); print(t.URLLIB3_PROBLEM)"
    )
    from ansible_collections.textileio.textile.plugins.module_utils import _client

    root = _client.__file__.split(os.sep + 'ansible_collections' + os.sep, maxsplit=1)[
        0
    ]  # ansible-test's path is not inherited
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root] + sys.path))
    out = subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True, check=True, env=env
    ).stdout.splitlines()
    assert out[0] == 'True' and out[1].startswith('requests is installed, but the urllib3 it uses (')
    assert "lacks urllib3.connectionpool" in out[1] and "pip install 'urllib3>=1.26,<3'" in out[1]


@pytest.mark.parametrize(
    'host, loopback',
    [
        ('127.0.0.1', True),
        ('127.8.9.1', True),
        ('::1', True),
        ('localhost', True),
        ('LOCALHOST', True),
        ('10.0.0.1', False),
        ('example.com', False),
        ('::ffff:10.0.0.1', False),
    ],
)
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


class TestCheckSecret:
    def entry_hash(self, secret):
        return bcrypt.hashpw(secret, bcrypt.gensalt(4)).replace(b'$2b$', b'$2a$')

    @pytest.mark.parametrize(
        'secret',
        [os.urandom(32), b'\0' + os.urandom(31), os.urandom(16) + b'\0' * 16],
        ids=['random', 'leading-zero', 'trailing-zeros'],
    )
    def test_matches_go_style_hash(self, secret):
        stored = self.entry_hash(secret)
        assert check_secret(secret, stored) is True
        assert check_secret(bytes([secret[0] ^ 1]) + secret[1:], stored) is False

    def test_garbage_hash_is_a_mismatch(self):
        assert check_secret(os.urandom(32).replace(b'\0', b'x'), b'not a bcrypt hash') is False

    def test_a_bcrypt_that_refuses_nul_bytes_leaves_the_decision_to_the_cafe(self, monkeypatch):
        def checkpw(password, hashed):  # what bcrypt 3.x does
            if b'\0' in password:
                raise ValueError('password may not contain NUL bytes')
            return bcrypt_checkpw(password, hashed)

        bcrypt_checkpw = bcrypt.checkpw
        monkeypatch.setattr(bcrypt, 'checkpw', checkpw)
        secret = b'\0' + os.urandom(31)
        assert check_secret(secret, self.entry_hash(secret)) is None
        plain = os.urandom(32).replace(b'\0', b'x')
        assert check_secret(plain, self.entry_hash(plain)) is True

    def test_none_without_bcrypt(self, monkeypatch):
        monkeypatch.setitem(sys.modules, 'bcrypt', None)  # import bcrypt now raises ImportError
        assert check_secret(os.urandom(32), self.entry_hash(b'x' * 32)) is None

    def test_same_answer_as_the_simulator(self):
        sim_module = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')
        token = make_token()
        with sim_module.SimServer(bcrypt_cost=4) as server:
            server.control.seed([token])
            entry = b58decode(server.list_entries()[0])
        raw = b58decode(token)
        assert check_secret(raw[12:], entry[12:]) is True
        assert check_secret(os.urandom(32), entry[12:]) is False


def test_a_failure_carries_the_progress_and_names_the_work_done(monkeypatch):
    class Writer:
        def result(self):
            return dict(created_ids=['a' * 24])

        def note(self):
            return 'Work was done.'

    result = run_main(
        monkeypatch,
        lambda: TextileModule(argument_spec={}, progress=Writer()).fail_json('Something broke.', removed_ids=[]),
        {},
    )
    assert result['msg'] == 'Something broke. Work was done.'
    assert result['created_ids'] == ['a' * 24] and result['removed_ids'] == []


def test_a_failure_from_an_error_keeps_the_cause_and_structure(monkeypatch):
    err = TextileError(
        'GET /api/v0/tokens: Basic Auth failed (HTTP 401): set api_username.',
        kind='basic_auth',
        method='GET',
        path='/api/v0/tokens',
        status=401,
    )

    def main():
        TextileModule(argument_spec={}).fail_json('Listing the tokens failed', error=err)

    result = run_main(monkeypatch, main, {})
    assert (
        result['msg']
        == 'Listing the tokens failed: GET /api/v0/tokens: Basic Auth failed (HTTP 401): set api_username.'
    )
    assert result['error'] == {
        'method': 'GET',
        'path': '/api/v0/tokens',
        'status': 401,
        'kind': 'basic_auth',
        'exception': None,
    }


def test_an_unexpected_exception_fails_cleanly_without_its_text(monkeypatch):
    secret = make_token()

    def work():
        raise UnicodeEncodeError('latin-1', secret, 3, 4, 'ordinal not in range')

    result = run_main(monkeypatch, lambda: TextileModule(argument_spec={}).run(work), {})
    assert result['failed'] and result['msg'].startswith('Internal error (UnicodeEncodeError): this is a bug')
    assert secret not in str(result)


def test_run_exits_with_the_result_and_turns_an_error_into_a_failure(monkeypatch):
    assert (
        run_main(monkeypatch, lambda: TextileModule(argument_spec={}).run(lambda: dict(changed=False, x=1)), {})['x']
        == 1
    )

    def work():
        raise TextileError('GET /: boom.', kind='server_error', method='GET', path='/', status=500)

    result = run_main(monkeypatch, lambda: TextileModule(argument_spec={}).run(work), {})
    assert result['failed'] and result['msg'] == 'The request failed: GET /: boom.' and result['error']['status'] == 500


# Trust at the edges: every connection option is checked before any request (design.md), through the real
# entry point of a module, against the simulator, which must then have seen no request.


@pytest.fixture
def refused(sim, monkeypatch):
    """``refused(args)``: the printed result of textile_cafe_token_info, which must fail before any request."""
    from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token_info
    from ansible_collections.textileio.textile.tests.unit.plugins.modules.helpers import run_entry_point

    for name in _module.FALLBACK_ENV:
        monkeypatch.delenv(name, raising=False)

    def check(**args):
        args.setdefault('api_url', sim.url)
        result, printed = run_entry_point(textile_cafe_token_info.main, args)
        assert result['failed'], result
        assert not result['msg'].startswith('Internal error')
        assert sim.control.requests() == []
        return result, printed

    return check


@pytest.mark.parametrize(
    'url, expected',
    [
        ('http://127.0.0.1:99999', 'port'),
        ('http://127.0.0.1:abc', 'port'),
        ('http://127.0.0.1:0', 'port'),
        ('http://127.0.0.1:', 'port'),
        ('http://127.0.0.1:1/x\r\nX-Injected: 1', 'whitespace or control characters'),
        ('http://127.0.0.1:1/?query=1', 'query'),
        ('http://127.0.0.1:1/#fragment', 'fragment'),
        ('http://user:ab@S3cretPart@127.0.0.1:1', 'user info'),
        ('http://user:cd/S3cretPart@127.0.0.1:1', 'user info'),
        ('http://[::1:1', 'not a valid URL'),
        ('http://[1.2.3]:1', 'IPv6'),  # the message depends on the Python: see bracket_problem()
        ('http://ex%41mple:1', 'host name'),
        ('http://caf\u00e9.example:1', 'host name'),
        ('http:///path', 'with a host'),
        ('file:///etc/passwd', 'http:// or https://'),
    ],
)
def test_a_bad_api_url_fails_naming_it_before_any_request(refused, sim, url, expected):
    if expected == 'IPv6':
        expected = bracket_problem()
    result, printed = refused(api_url=url.replace('127.0.0.1:1', f'127.0.0.1:{sim.port}'))
    assert 'api_url' in result['msg'] and expected in result['msg']
    assert '\r' not in result['msg'] and 'S3cretPart' not in printed


def bracket_problem():
    """What a bracketed host that is not IPv6 fails with: Python 3.11.4 and later refuse it while parsing the URL,
    older ones parse it and leave it to the module's own IPv6 check."""
    try:
        urlsplit('http://[1.2.3]:1').port
    except ValueError:
        return 'api_url is not a valid URL'
    return 'api_url has an IPv6 address in brackets that is not valid'


def test_an_api_url_with_surrounding_whitespace_is_used_stripped(sim):
    from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token_info
    from ansible_collections.textileio.textile.tests.unit.plugins.modules.helpers import run_entry_point

    result, dummy = run_entry_point(textile_cafe_token_info.main, dict(api_url=f' http://127.0.0.1:{sim.port}\n'))
    assert not result.get('failed') and result['count'] == 0
    assert [entry['path'] for entry in sim.control.requests()] == ['/api/v0/tokens', '/']


@pytest.mark.parametrize(
    'args, expected',
    [
        (dict(api_version='v0\r\nX-Injected: 1'), 'api_version must be v followed by digits'),
        (dict(api_version='../../x'), 'api_version must be v followed by digits'),
        (dict(api_version='v0/../../x'), 'api_version must be v followed by digits'),
        (dict(api_version='v0\n'), 'api_version must be v followed by digits'),
        (dict(timeout='nan'), 'timeout must be'),
        (dict(timeout='inf'), 'timeout must be'),
        (dict(timeout=1e300), 'timeout must be'),
        (dict(timeout=0), 'timeout must be'),
        (dict(timeout=3600.5), 'timeout must be'),
        (dict(retries=1000000), 'retries must be from 0 to 10'),
        (dict(retries=-1), 'retries must be from 0 to 10'),
        (dict(retries='inf'), 'retries must be a whole number'),
        (dict(retries=float('-inf')), 'retries must be a whole number'),
        (dict(headers={'X-Proxy': 'caf\u00e9 \u2603'}), 'headers[X-Proxy] must be a string of printable latin-1'),
        (dict(headers={'X-Proxy': 'a\r\nX-Injected: 1'}), 'headers[X-Proxy]'),
        (dict(headers={'X-Proxy': ['proxy-value']}), 'headers[X-Proxy]'),
        (dict(headers={'X Proxy': 'proxy-value'}), 'headers has a name that is not a valid HTTP header name'),
        (dict(headers={'Content-Length': '5'}), 'headers may not set Content-Length'),
        (dict(headers={'X-Textile-Opts': 'store=true'}), 'headers may not set X-Textile-Opts'),
        (dict(api_password='pin\r\n'), 'api_password must be text without line breaks'),
        (dict(api_password='pin\rX'), 'api_password must be text without line breaks'),
        (dict(api_username='P\nX'), 'api_username must be text without line breaks'),
        (dict(api_username='user:name'), 'api_username must not contain ":"'),
        (dict(ca_path='/nonexistent/ca.pem'), 'ca_path: there is no readable file at /nonexistent/ca.pem'),
        (dict(client_cert='/nonexistent/cert.pem'), 'client_cert: there is no readable file'),
        (dict(client_key='/nonexistent/key.pem', client_cert=__file__), 'client_key: there is no readable file'),
        (dict(client_key=__file__), 'client_key needs client_cert'),
        (dict(ids=['\0' * 24]), 'ids[0] contains a NUL character'),
        (dict(headers={'X-Proxy': 'a\0b'}), "headers['X-Proxy'] contains a NUL character"),
        # a NUL in a key, and options given through an alias: the option is named
        (dict(headers={'X-Pro\0xy': 'proxy-value'}), 'headers contains a NUL character.'),
        (dict(id=['\0' * 24]), 'ids[0] contains a NUL character'),
        (dict(token={make_token(): 'x'}), 'tokens has a key (a header name) that could be a token'),
        # a string that Ansible's checks turn into a dict (key=value): the second look at the keys
        (dict(headers=f'{make_token()}=x'), 'headers has a key (a header name) that could be a token'),
    ],
)
def test_a_bad_connection_option_fails_naming_it_before_any_request(refused, args, expected):
    result, printed = refused(**args)
    assert expected in result['msg'], result['msg']
    assert '\u2603' not in printed and 'X-Injected' not in result['msg']


@pytest.mark.parametrize('option', ['api_username', 'api_password'])
@pytest.mark.parametrize('value', ['pin\udce4', 'a\0b', 'a\rb', 'a\nb'])
def test_credentials_are_text_that_utf8_can_encode_without_line_breaks_or_nul(option, value):
    # Ansible itself refuses a lone surrogate before a module runs; the client's other callers reach the check.
    params = {name: spec.get('default') for name, spec in connection_argument_spec().items()}
    params[option] = value
    assert connection_problem(params).startswith(f'{option} must be text without line breaks or NUL characters')
    params[option] = 'p\u00e4ss \u2603 \U0001f600 \t'
    assert connection_problem(params) is None


@pytest.mark.parametrize(
    'option, value',
    [
        ('api_username', 'PX4 \u00e4ccount'),
        ('api_password', 'XX \u2603'),
        ('timeout', 0.5),
        ('timeout', 3600),
        ('retries', 0),
        ('retries', 10),
    ],
)
def test_connection_options_at_their_bounds_are_accepted(option, value):
    params = {name: spec.get('default') for name, spec in connection_argument_spec().items()}
    params[option] = value
    assert connection_problem(params) is None


def test_a_ca_path_that_is_a_directory_is_refused(tmp_path):
    params = {name: spec.get('default') for name, spec in connection_argument_spec().items()}
    params['ca_path'] = str(tmp_path)
    assert connection_problem(params) == f'ca_path: there is no readable file at {tmp_path}.'


def test_a_password_that_basic_auth_cannot_carry_is_not_named_by_character_or_position(refused):
    result, printed = refused(api_password='pin-\n-S3cretPart')
    assert result['msg'] == (
        'api_password must be text without line breaks or NUL characters that UTF-8 can encode '
        '(HTTP Basic Auth sends it as UTF-8).'
    )
    assert 'S3cretPart' not in printed


@pytest.mark.parametrize('option', ['ids', 'keep_ids', 'api_username', 'api_version', 'headers-name', 'api_url'])
def test_a_token_given_where_none_belongs_is_never_echoed(sim, option):
    from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token
    from ansible_collections.textileio.textile.tests.unit.plugins.modules.helpers import run_entry_point

    token = make_token()
    args = {
        'ids': dict(state='absent', ids=[token]),
        'keep_ids': dict(tokens=[], exclusive=True, keep_ids=[token]),
        'api_username': dict(tokens=[], api_username=token),  # accepted: Basic Auth takes any text without line breaks
        'api_version': dict(tokens=[], api_version=token),
        'headers-name': dict(tokens=[], headers={token: 'proxy-value'}),
        'api_url': dict(tokens=[], api_url=f'{sim.url}/{token}'),  # a valid path prefix
    }[option]
    result, printed = run_entry_point(textile_cafe_token.main, dict(dict(api_url=sim.url), **args))
    assert token not in printed
    if option in ('ids', 'keep_ids', 'api_version', 'headers-name'):
        assert result['failed'] and sim.control.requests() == []


class TestTheModulesOwnMaskingReturnsWhatAnsiblesWould:
    """Masking the result in one pass (``_masked``) before Ansible searches it returns what Ansible's masking of
    every no_log value returns (before ansible-core 2.22; from 2.22 the module masks nothing itself)."""

    @pytest.fixture
    def both_ways(self, sim, monkeypatch):
        from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token
        from ansible_collections.textileio.textile.tests.unit.plugins.modules.helpers import run_entry_point

        def run(args, inject=None, prepare=lambda: None):
            args = dict(dict(api_url=sim.url, retries=0), **args)
            if inject is not None:
                args['_ansible_inject_invocation'] = inject
            printed = []
            for own in (True, False):
                sim.control.reset()
                prepare()
                if not own:  # Ansible alone masks, searching every string for every no_log value
                    monkeypatch.setattr(TextileModule, '_masked', lambda self, result: result)
                result, text = run_entry_point(textile_cafe_token.main, args)
                printed.append((result, text))
            monkeypatch.undo()
            return printed

        return run

    @pytest.mark.parametrize('inject', [None, True, False])
    def test_a_secret_the_server_echoes_is_masked_either_way(self, both_ways, sim, inject):
        if inject is not None and 'inject_invocation' not in PASS_VARS:
            pytest.skip('ansible-core before 2.20 always adds the invocation')
        pin = 'S3cret-Pin-Echoed'
        (ours, ours_text), (full, full_text) = both_ways(
            dict(tokens=[make_token()], api_username='P1', api_password=pin),
            inject,
            lambda: sim.control.add_fault(method='GET', action='status', status=500, body=f'wrong pin {pin}'),
        )
        # the client hides its own credentials from the server's words before Ansible could mask them
        assert ours == full and pin not in ours_text and '"wrong pin [redacted]"' in ours['msg']

    def test_a_large_declaration_prints_the_same_either_way(self, both_ways, sim):
        tokens = [make_token() for index in range(30)]
        (ours, ours_text), (full, full_text) = both_ways(
            dict(tokens=tokens), None, lambda: sim.control.seed(tokens[:10])
        )
        assert not ours.get('failed') and len(ours['created_ids']) == 20 and ours == full
        assert all(token not in ours_text for token in tokens)

    def test_ansible_is_left_nothing_to_search_and_the_invocation_only_when_it_is_returned(self, monkeypatch):
        tokens = [make_token() for index in range(3)]
        seen = {}

        def main():
            module = TextileModule(argument_spec=dict(tokens=dict(type='list', elements='str', no_log=True)))
            for inject in (True, False):
                module.module._inject_invocation = inject  # pylint: disable=protected-access
                module.module.no_log_values = set(tokens)
                seen[inject] = module._masked({'msg': f'x{tokens[1]}y', 'count': 3})  # pylint: disable=protected-access
                seen[inject, 'left'] = module.module.no_log_values
            module.exit_json(changed=False)

        run_main(monkeypatch, main, dict(tokens=tokens))
        if _module.HAS_SECRETS_API:  # 2.22: the controller masks; the module returns its result as it is
            assert seen[True] == seen[False] == {'msg': f'x{tokens[1]}y', 'count': 3}
            return
        assert seen[False] == {'msg': 'x********y', 'count': 3} and seen[False, 'left'] == set()
        assert seen[True]['invocation']['module_args']['tokens'] == ['VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'] * 3
        assert seen[True]['msg'] == 'x********y' and seen[True, 'left'] == set()


# How a TextileError is explained (explain, _diagnose_404)


def explained(monkeypatch, err, environment=None, **args):
    """The message of a module failing with ``err``, the environment fallbacks unset but for ``environment``."""
    for name in _module.FALLBACK_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in (environment or {}).items():
        monkeypatch.setenv(name, value)
    return run_main(monkeypatch, lambda: TextileModule(argument_spec={}).fail_json('It failed', error=err), args)['msg']


@pytest.mark.parametrize(
    'kind, hinted',
    [
        ('connection', True),
        ('dns', True),
        ('timeout', True),
        ('tls', False),
        ('server_error', False),
        ('not_found', False),
    ],
)
def test_only_a_node_not_reached_at_the_default_api_url_gets_the_default_hint(monkeypatch, kind, hinted):
    err = TextileError('GET /health: failed.', kind=kind, method='GET', path='/health')
    msg = explained(monkeypatch, err)
    assert msg.startswith('It failed: GET /health: failed.')
    assert ('the default http://127.0.0.1:40600 was used' in msg) is hinted
    assert 'the default' not in explained(monkeypatch, err, api_url='http://127.0.0.1:40600')
    # set in the environment: not the default either
    assert 'the default' not in explained(monkeypatch, err, environment={'TEXTILE_API_URL': 'http://127.0.0.1:40600'})


def test_only_a_404_of_the_tokens_list_asks_the_node_what_it_is(monkeypatch, sim):
    for path in (f'/api/v0/tokens/{"ab" * 12}', '/api/v0/tokens/x/y', '/api/v0/other'):
        msg = explained(monkeypatch, TextileError('Not found.', kind='not_found', path=path), api_url=sim.url)
        assert msg == 'It failed: Not found.'
    assert sim.control.requests() == []
    msg = explained(monkeypatch, TextileError('Not found.', kind='not_found', path='/api/v0/tokens'), api_url=sim.url)
    assert msg.startswith(f'It failed: Not found. {sim.url} is a go-textile node API, version 0.7.8 (API v0)')
    assert [entry['path'] for entry in sim.control.requests()] == ['/']


def test_the_404_diagnosis_names_the_node_and_the_api_version_asked_for(monkeypatch, sim):
    sim.control.add_fault(
        method='GET', path='/', action='status', status=200, body=json.dumps({'node_version': '0.9.1'})
    )
    err = TextileError('Not found.', kind='not_found', path='/api/v3/tokens')
    msg = explained(monkeypatch, err, api_url=sim.url, api_version='v3')
    assert f'{sim.url} is a go-textile node API, version 0.9.1 (API unknown)' in msg
    assert 'no tokens API under /api/v3: check api_version' in msg


def test_a_node_root_without_a_version_is_not_taken_for_a_node(monkeypatch, sim):
    sim.control.add_fault(method='GET', path='/', action='status', status=200, body=json.dumps({'cafe_version': 'v0'}))
    err = TextileError('Not found.', kind='not_found', path='/api/v0/tokens')
    msg = explained(monkeypatch, err, api_url=sim.url)
    assert f'{sim.url} does not answer like a go-textile node API' in msg and 'listens on 40600' in msg
