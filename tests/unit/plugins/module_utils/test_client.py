# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Textile client over real HTTP: against the go-textile simulator, and a raw loopback server
for what the simulator cannot do (hang, capture raw requests, answer like something that is not a node)."""

from __future__ import annotations

import base64
import errno
import json
import socket
import threading
import time

import pytest
import urllib3.util.connection

from ansible_collections.textileio.textile.plugins.module_utils import _client
from ansible_collections.textileio.textile.plugins.module_utils._client import TextileAPI, TextileError, Tokens
from ansible_collections.textileio.textile.plugins.module_utils._client_extras import ExtendedTextileAPI
from ansible_collections.textileio.textile.plugins.module_utils._token_format import (
    b58encode,
    id_path_segment,
    parse_list_entry,
    token_id,
)
from ansible_collections.textileio.textile.plugins.module_utils._transport import Watch

KEY = bytes(range(1, 45))
TOKEN = b58encode(KEY)  # starts with the ID 0102...0c
TOKEN_ID = KEY[:12].hex()
OTHER = b58encode(b'\x00' + bytes(range(150, 193)))
JSON = 'application/json; charset=utf-8'


def api_for(url, **kwargs):
    """A client (with every send helper) whose backoff sleeps are recorded, not slept."""
    api = ExtendedTextileAPI(url, **kwargs)
    api.sleeps = []
    api.sleep = api.sleeps.append
    return api


def answer(status, body='', content_type='text/plain; charset=utf-8', extra=''):
    """A raw HTTP/1.1 response for RawServer."""
    body = body.encode() if isinstance(body, str) else body
    head = f'HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n{extra}'
    return (head + 'Connection: close\r\n\r\n').encode('latin-1') + body


def json_answer(value):
    return answer(200, json.dumps(value), JSON)


def wait_for(condition, limit=5.0):
    """Poll ``condition`` every 10 ms until it holds or ``limit`` seconds pass."""
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def assert_no_secret(err, *secrets):
    for secret in secrets + (TOKEN, OTHER):
        for text in (str(err), repr(err), err.path or '', err.server_text or ''):
            assert secret not in text


def raises(kind, call, *args, **kwargs):
    with pytest.raises(TextileError) as exc_info:
        call(*args, **kwargs)
    err = exc_info.value
    assert err.kind == kind, repr(err)
    assert_no_secret(err)
    assert '://' not in str(err).replace('(default http://127.0.0.1:40600)', '')
    return err


# URL building and header encoding


@pytest.mark.parametrize(
    'api_url, version, path, expected',
    [
        ('http://127.0.0.1:40600', 'v0', 'tokens', 'http://127.0.0.1:40600/api/v0/tokens'),
        ('http://127.0.0.1:40600///', 'v0', 'tokens/', 'http://127.0.0.1:40600/api/v0/tokens'),
        (
            'https://cafe.example:8443/textile/',
            '/v1/',
            'tokens/abc',
            'https://cafe.example:8443/textile/api/v1/tokens/abc',
        ),
        ('https://cafe.example/textile', 'v0', '/', 'https://cafe.example/textile/'),
        ('http://127.0.0.1:40600/', 'v0', '/health/', 'http://127.0.0.1:40600/health'),
        (' http://[::1]:40600/ ', 'v0', 'tokens', 'http://[::1]:40600/api/v0/tokens'),
    ],
)
def test_url_building(api_url, version, path, expected):
    assert TextileAPI(api_url, api_version=version).url(path) == expected


@pytest.mark.parametrize('bad', ['127.0.0.1:40600', 'ftp://host', 'http://', ''])
def test_api_url_must_be_http_or_https(bad):
    with pytest.raises(ValueError):
        TextileAPI(bad)


def test_header_encoding_is_encode_uri_component_with_comma_and_equals():
    headers = _client.textile_headers(
        ['a b', 'x,y', 'caf\u00e9', 'A-z_0.~'], {'token': 'v=1,2+3', 'store': True, 'n': False}
    )
    assert headers == {
        'X-Textile-Args': 'a%20b,x%2Cy,caf%C3%A9,A-z_0.~',
        'X-Textile-Opts': 'token=v%3D1%2C2%2B3,store=true,n=false',
    }
    assert _client.textile_headers() == {'X-Textile-Args': '', 'X-Textile-Opts': ''}


def test_a_slash_is_encoded_and_none_is_an_empty_value():
    headers = _client.textile_headers(['a/b', None], {'path': '/x/', 'none': None})
    assert headers == {'X-Textile-Args': 'a%2Fb,', 'X-Textile-Opts': 'path=%2Fx%2F,none='}


def test_tls_and_auth_settings_reach_the_session():
    assert TextileAPI(validate_certs=True, ca_path='/ca.pem').session.verify == '/ca.pem'
    assert TextileAPI(validate_certs=False, ca_path='/ca.pem').session.verify is False
    assert TextileAPI().session.verify is True
    assert TextileAPI(client_cert='/c.pem', client_key='/k.pem').session.cert == ('/c.pem', '/k.pem')
    assert TextileAPI(client_cert='/both.pem').session.cert == '/both.pem'
    auth = TextileAPI(username='P1', password='pin').session.auth
    assert (auth.username, auth.password) == (b'P1', b'pin')  # the UTF-8 bytes
    assert TextileAPI().session.auth is None


# What goes on the wire (raw captures)


def test_headers_match_the_captured_javascript_requests(raw_server):
    """textile-cafe-api.md section 8: list, validate, remove send both headers empty; create sends token, store."""
    server = raw_server(json_answer([]))
    tokens = Tokens(api_for(server.url))
    tokens.list()
    server.answer = answer(200, 'ok')
    assert tokens.validate(TOKEN) is True
    server.answer = answer(204, '')
    tokens.remove(TOKEN)
    server.answer = answer(201, TOKEN)
    assert tokens.create(TOKEN, store=True) == TOKEN
    tokens.create(store=False)
    seen = [(seen.line, seen.headers['X-Textile-Args'], seen.headers['X-Textile-Opts']) for seen in server.requests]
    assert seen == [
        ('GET /api/v0/tokens HTTP/1.1', '', ''),
        (f'GET /api/v0/tokens/{TOKEN} HTTP/1.1', '', ''),
        (f'DELETE /api/v0/tokens/{id_path_segment(TOKEN_ID)} HTTP/1.1', '', ''),
        ('POST /api/v0/tokens HTTP/1.1', '', f'token={TOKEN},store=true'),
        ('POST /api/v0/tokens HTTP/1.1', '', 'store=false'),
    ]
    assert all(seen.body == b'' for seen in server.requests)


def test_remove_never_puts_the_secret_in_the_url(raw_server):
    server = raw_server(answer(204, ''))
    Tokens(api_for(server.url)).remove(TOKEN)
    Tokens(api_for(server.url)).remove_id(TOKEN_ID.upper())
    for seen in server.requests:
        segment = seen.line.split()[1].rsplit('/', 1)[1]
        assert segment == id_path_segment(TOKEN_ID) and segment != TOKEN
        assert token_id(segment) == TOKEN_ID


def test_path_prefix_auth_and_extra_headers_on_the_wire(raw_server):
    server = raw_server(json_answer([]))
    api = api_for(server.url + '/textile/', username='P1', password='pin', headers={'X-Proxy': 'yes'})
    Tokens(api).list()
    seen = server.requests[0]
    assert seen.line == 'GET /textile/api/v0/tokens HTTP/1.1'
    assert seen.headers['Authorization'] == 'Basic UDE6cGlu'
    assert seen.headers['X-Proxy'] == 'yes'


def test_send_post_and_put_bodies(raw_server):
    server = raw_server(answer(200, 'ok'))
    api = api_for(server.url)
    api.send_post('things', args=['a'], opts={'k': 'v'}, data={'x': [1]})
    api.send_put('things/1', data=b'raw')
    (post_line, post_headers, post_body), (put_line, put_headers, put_body) = server.requests
    assert post_line == 'POST /api/v0/things HTTP/1.1' and json.loads(post_body) == {'x': [1]}
    assert post_headers['Content-Type'] == 'application/json'
    assert (post_headers['X-Textile-Args'], post_headers['X-Textile-Opts']) == ('a', 'k=v')
    assert put_line == 'PUT /api/v0/things/1 HTTP/1.1' and put_body == b'raw'
    assert (put_headers['X-Textile-Args'], put_headers['X-Textile-Opts']) == ('', '')


def test_send_get_delete_and_put_pass_args_opts_and_headers(raw_server):
    server = raw_server(answer(200, 'ok'))
    api = api_for(server.url)
    api.send_delete('things/1', args=['a b'], opts={'k': 'v'}, headers={'X-Extra': 'd'})
    api.send_put('things/2', args=['c'], opts={'n': 1}, data={'x': 1}, headers={'X-Extra': 'p'})
    api.send_get('things/3', args=['g'], opts={'o': 'w'}, headers={'X-Extra': 'q'})
    (delete_line, delete_headers, dummy), (put_line, put_headers, put_body), get = server.requests
    assert get.line == 'GET /api/v0/things/3 HTTP/1.1'
    assert (get.headers['X-Textile-Args'], get.headers['X-Textile-Opts'], get.headers['X-Extra']) == ('g', 'o=w', 'q')
    assert delete_line == 'DELETE /api/v0/things/1 HTTP/1.1'
    assert (delete_headers['X-Textile-Args'], delete_headers['X-Textile-Opts'], delete_headers['X-Extra']) == (
        'a%20b',
        'k=v',
        'd',
    )
    assert put_line == 'PUT /api/v0/things/2 HTTP/1.1' and json.loads(put_body) == {'x': 1}
    assert (put_headers['X-Textile-Args'], put_headers['X-Textile-Opts'], put_headers['X-Extra']) == ('c', 'n=1', 'p')
    assert put_headers['Content-Type'] == 'application/json'


@pytest.mark.parametrize('method', ['send_post', 'send_put'])
def test_a_post_or_put_is_resent_only_when_unsent_and_allowed(closed_port, method):
    api = api_for(f'http://127.0.0.1:{closed_port}', retries=2)
    raises('connection', getattr(api, method), 'things/1', data=b'x')
    assert api.sleeps == []
    raises('connection', getattr(api, method), 'things/1', data=b'x', retry_unsent=True)
    assert api.sleeps == [0.5, 1.0]


def test_send_post_passes_headers_with_a_json_body(raw_server):
    server = raw_server(answer(200, 'ok'))
    api_for(server.url).send_post('things', data=[1], headers={'X-Extra': 'j'})
    seen = server.requests[0].headers
    assert seen['X-Extra'] == 'j' and seen['Content-Type'] == 'application/json'


def test_send_post_multipart_posts_form_data(raw_server):
    server = raw_server(answer(201, 'done'))
    api = api_for(server.url)
    response = api.send_post_multipart(
        'files', args=['t1'], opts={'o': 'p'}, files={'file': ('a.txt', b'hello')}, data={'note': 'n'}
    )
    assert response.status_code == 201 and response.text == 'done'
    api.send_post_multipart('files', args=['t2'], opts={'q': 'r'}, headers={'X-Extra': 'e'})
    api.send_post_multipart(
        'files', files=[('one', ('1.txt', b'first')), ('two', ('2.txt', b'second'))], headers={'X-Extra': 'f'}
    )
    headers, body = server.requests[0].headers, server.requests[0].body
    empty_headers, empty_body = server.requests[1].headers, server.requests[1].body
    assert headers['Content-Type'].startswith('multipart/form-data; boundary=')
    assert b'name="note"\r\n\r\nn\r\n' in body
    assert b'name="file"; filename="a.txt"' in body and b'hello' in body
    assert (headers['X-Textile-Args'], headers['X-Textile-Opts']) == ('t1', 'o=p')
    assert (empty_headers['X-Textile-Args'], empty_headers['X-Textile-Opts']) == ('t2', 'q=r')
    assert all(seen.line == 'POST /api/v0/files HTTP/1.1' for seen in server.requests)
    assert empty_headers['Content-Type'].startswith('multipart/form-data; boundary=')
    assert empty_body.startswith(b'--') and empty_body.endswith(b'--\r\n') and empty_headers['X-Extra'] == 'e'
    listed = server.requests[2]
    assert listed.headers['X-Extra'] == 'f' and listed.headers['Content-Type'].startswith('multipart/form-data')
    assert b'name="one"; filename="1.txt"' in listed.body and b'first' in listed.body
    assert b'name="two"; filename="2.txt"' in listed.body and b'second' in listed.body


# Answers that are not what a node says


def test_not_a_node_answers(raw_server):
    server = raw_server(answer(200, '<html>hello</html>'))
    api = api_for(server.url)
    err = raises('bad_response', Tokens(api).list)
    assert 'not a JSON list' in str(err) and err.server_text is None and 'hello' not in str(err)
    assert (err.method, err.path, err.status) == ('GET', '/api/v0/tokens', 200)
    err = raises('bad_response', api.node_info)
    assert (err.method, err.path, err.status) == ('GET', '/', 200)
    assert str(err).startswith('GET /: ') and 'not a JSON object' in str(err)
    server.answer = json_answer(['entry', 3])
    raises('bad_response', Tokens(api).list)
    server.answer = json_answer(['entry'])
    err = raises('bad_response', Tokens(api).entries)
    assert (err.method, err.path) == ('GET', '/api/v0/tokens') and 'not a token ID' in str(err)
    server.answer = answer(201, 'garbage-body')
    err = raises('bad_response', Tokens(api).create)
    assert 'garbage-body' not in str(err) and 'is not a token' in str(err)
    assert str(err).startswith('POST /api/v0/tokens: ') and err.status == 201


def test_an_error_answer_that_is_not_utf8_is_quoted_with_replacement_characters(raw_server):
    server = raw_server(answer(500, b'db \xff\xfe failed'))
    err = raises('server_error', Tokens(api_for(server.url, retries=0)).list)
    assert err.server_text == 'db \ufffd\ufffd failed'


def test_header_that_cannot_be_sent_is_reported_as_unsent(raw_server):
    server = raw_server(json_answer([]))
    api = api_for(server.url, headers={'X-Proxy': 'bad\nvalue'}, retries=2)
    err = raises('unbuildable', Tokens(api).list)
    assert 'could not be built' in str(err) and 'value' not in str(err)
    assert err.exc_class == 'InvalidHeader'
    assert err.sent is False and server.requests == [] and api.sleeps == []


def test_header_values_are_sent_as_text(raw_server):
    server = raw_server(json_answer([]))
    Tokens(api_for(server.url, headers={'X-Count': 3})).list()
    assert server.requests[0].headers['X-Count'] == '3'


@pytest.mark.parametrize('status', [300, 301, 308])
def test_redirect_is_reported_not_followed(raw_server, status):
    server = raw_server(answer(status, '', extra='Location: https://elsewhere/api/v0/tokens\r\n'))
    err = raises('http', Tokens(api_for(server.url)).list)
    assert err.status == status and 'redirected' in str(err) and 'api_url' in str(err) and 'elsewhere' not in str(err)
    assert len(server.requests) == 1


def test_an_unexpected_status_is_reported_with_the_server_text(raw_server):
    server = raw_server(answer(418, 'short and stout'))
    err = raises('http', Tokens(api_for(server.url)).list)
    assert err.status == 418 and err.server_text == 'short and stout'
    assert str(err) == 'GET /api/v0/tokens: Unexpected answer (HTTP 418): "short and stout".'


def test_an_empty_answer_quotes_nothing(raw_server):
    server = raw_server(answer(401, ''))
    err = raises('invalid_token', api_for(server.url).send_get, 'tokens')
    assert err.server_text == '' and '(HTTP 401)' in str(err) and 'not valid on this node' in str(err)


def test_a_path_segment_after_tokens_is_shown_only_as_an_id(raw_server):
    server = raw_server(answer(404, 'nothing'))
    api = api_for(server.url)
    assert raises('not_found', api.send_get, 'tokens/not-a-token/x').path == '/api/v0/tokens/<redacted>/x'
    assert raises('not_found', api.send_get, f'tokens/{TOKEN_ID}').path == f'/api/v0/tokens/{TOKEN_ID}'
    assert raises('not_found', api.send_get, 'tokens').path == '/api/v0/tokens'


def test_a_path_segment_after_tokens_that_is_not_a_canonical_id_is_hidden():
    assert _client.redact_path('/api/v0/tokens/0123456789abcdef01234567') == '/api/v0/tokens/0123456789abcdef01234567'
    assert _client.redact_path('/api/v0/tokens/0123456789ABCDEF01234567') == '/api/v0/tokens/<redacted>'


def test_remove_wants_204(raw_server):
    server = raw_server(answer(200, 'ok'))
    err = raises('bad_response', Tokens(api_for(server.url)).remove, TOKEN)
    assert err.path == f'/api/v0/tokens/{TOKEN_ID}'
    assert err.method == 'DELETE' and err.status == 200
    assert str(err).startswith(f'DELETE /api/v0/tokens/{TOKEN_ID}: ') and 'HTTP 200' in str(err) and '204' in str(err)


# Connection-level errors


def test_connection_refused(closed_port):
    api = api_for(f'http://127.0.0.1:{closed_port}', retries=2)
    err = raises('connection', Tokens(api).list)
    assert 'is the Textile daemon running' in str(err) and f'127.0.0.1:{closed_port}' in str(err)
    assert err.sent is False and err.method == 'GET' and err.path == '/api/v0/tokens'
    assert err.exc_class == 'ConnectionError'
    assert api.sleeps == [0.5, 1.0] and api.request_count == 0


def test_an_unreachable_network_is_reported_as_unsent(monkeypatch):
    # The connect is made to fail in process, as a host without a route to the node sees it.
    def unreachable(*args, **kwargs):
        raise OSError(errno.ENETUNREACH, 'Network is unreachable')

    monkeypatch.setattr(urllib3.util.connection, 'create_connection', unreachable)
    api = api_for('http://192.0.2.1:40600', retries=1)
    err = raises('connection', Tokens(api).list)
    assert 'Could not connect to 192.0.2.1:40600' in str(err) and err.sent is False
    assert api.sleeps == [0.5] and api.request_count == 0


def test_a_connection_closed_before_an_answer_is_reported_as_sent(raw_server):
    server = raw_server(lambda conn, stopping: None)  # reads the request, then closes without a word
    api = api_for(server.url, retries=0)
    err = raises('connection', Tokens(api).list)
    assert 'after the request was sent' in str(err) and err.sent is True and api.request_count == 1


def test_dns_failure(monkeypatch):
    # The resolver is made to fail in process: the test sends no DNS query off this machine.
    def no_such_host(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, 'Name or service not known')

    monkeypatch.setattr(socket, 'getaddrinfo', no_such_host)
    api = api_for('http://textile-cafe.invalid:40600', retries=2)
    err = raises('dns', Tokens(api).validate, TOKEN)
    assert '(textile-cafe.invalid) does not resolve' in str(err) and err.sent is False
    assert err.path == f'/api/v0/tokens/{TOKEN_ID}'
    assert api.sleeps == []


def test_unsent_import_is_resent_but_a_mint_is_not(closed_port):
    api = api_for(f'http://127.0.0.1:{closed_port}', retries=3)
    raises('connection', Tokens(api).create, TOKEN)
    assert api.sleeps == [0.5, 1.0, 2.0]
    api.sleeps.clear()
    raises('connection', Tokens(api).create)
    assert api.sleeps == []


@pytest.fixture
def unconnectable_port():
    """A loopback port whose connects hang: a listener that never accepts, its backlog already full."""
    listener = socket.create_server(('127.0.0.1', 0), backlog=0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for dummy in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(('127.0.0.1', port))
            fillers.append(filler)
        probe = socket.socket()
        probe.settimeout(0.5)
        try:
            probe.connect(('127.0.0.1', port))
            pytest.skip('this kernel completes connects to a full backlog')
        except socket.timeout:
            pass
        except OSError:
            pytest.skip('this kernel refuses connects to a full backlog')
        finally:
            probe.close()
        yield port
    finally:
        for sock in fillers + [listener]:
            sock.close()


def test_a_connect_that_times_out_is_reported_as_unsent(unconnectable_port):
    api = api_for(f'http://127.0.0.1:{unconnectable_port}', timeout=1.0, retries=1)
    err = raises('timeout', Tokens(api).list)
    assert err.sent is False and err.exc_class == 'ConnectTimeout' and 'connecting to' in str(err)
    assert api.sleeps == [0.5] and api.request_count == 0
    api.sleeps.clear()
    err = raises('timeout', Tokens(api).create, TOKEN)  # an import never sent is re-sent
    assert err.sent is False and api.sleeps == [0.5]


# The server never answers: each attempt ends at its deadline. One second leaves a busy machine the time to
# connect (a connect that times out is a different failure: nothing sent), and the server's own thread is
# waited for before its request count is read.


def test_read_timeout(raw_server):
    server = raw_server(None)
    api = api_for(server.url, timeout=1.0, retries=1)
    err = raises('timeout', Tokens(api).list)
    assert 'within 1.0 s' in str(err) and err.sent is True
    assert wait_for(lambda: len(server.requests) == 2) and api.request_count == 2 and api.sleeps == [0.5]


def test_a_connection_made_after_the_deadline_is_shut_before_the_request_is_sent(raw_server, monkeypatch):
    server = raw_server(None)
    real, real_stop, deadline_passed = urllib3.util.connection.create_connection, Watch.stop, threading.Event()

    def stop(self, why):
        stopped = real_stop(self, why)
        deadline_passed.set()
        return stopped

    def slow_connect(*args, **kwargs):
        sock = real(*args, **kwargs)
        deadline_passed.wait(10)  # the attempt's Watch is stopped while this connect is still going on
        return sock

    monkeypatch.setattr(Watch, 'stop', stop)
    monkeypatch.setattr(urllib3.util.connection, 'create_connection', slow_connect)
    api = api_for(server.url, timeout=1.0, retries=0)
    err = raises('timeout', Tokens(api).list)
    assert 'No complete answer' in str(err)
    assert wait_for(lambda: server.threads and not any(thread.is_alive() for thread in server.threads))
    assert server.requests == []


def test_post_is_not_resent_after_a_read_timeout(raw_server):
    server = raw_server(None)
    api = api_for(server.url, timeout=1.0, retries=3)
    err = raises('timeout', Tokens(api).create, TOKEN)
    assert err.sent is True and wait_for(lambda: len(server.requests) == 1) and api.sleeps == []
    assert api.request_count == 1


# TLS with a generated CA


def test_tls_verified_with_ca_path(raw_server, tls_context, test_ca):
    server = raw_server(json_answer([]), tls_context)
    assert Tokens(api_for(server.url, ca_path=test_ca['ca'])).list() == []


@pytest.mark.filterwarnings('ignore::urllib3.exceptions.InsecureRequestWarning')
def test_tls_without_verification(raw_server, tls_context):
    server = raw_server(json_answer([]), tls_context)
    assert Tokens(api_for(server.url, validate_certs=False)).list() == []


@pytest.mark.parametrize('which', ['other_ca', None])
def test_tls_verification_failure(raw_server, tls_context, test_ca, which):
    server = raw_server(json_answer([]), tls_context)
    api = api_for(server.url, ca_path=test_ca[which] if which else None, retries=2)
    err = raises('tls', Tokens(api).list)
    assert 'set ca_path' in str(err) and 'validate_certs' in str(err)
    assert err.sent is False and api.sleeps == [] and server.requests == []


def test_client_certificate(raw_server, mtls_context, test_ca):
    server = raw_server(json_answer([]), mtls_context)
    api = api_for(server.url, ca_path=test_ca['ca'], client_cert=test_ca['client'], client_key=test_ca['client_key'])
    assert Tokens(api).list() == []
    err = raises('tls', Tokens(api_for(server.url, ca_path=test_ca['ca'], retries=0)).list)
    assert 'client_cert' in str(err)


def test_https_to_a_plain_http_server(sim):
    err = raises('tls', Tokens(api_for(sim.url.replace('http:', 'https:'), retries=0)).list)
    assert 'speaks https' in str(err)


# Cancellation


def test_cancel_aborts_the_request_in_flight(raw_server):
    server = raw_server(None)
    api = api_for(server.url)
    request = api.send_post_cancelable('tokens', opts={'token': TOKEN, 'store': 'true'})
    assert wait_for(lambda: server.requests), 'the request never reached the server'
    assert not server.hung_up.is_set()
    assert request.cancel() is True
    assert server.hung_up.wait(5), 'the connection was not closed by cancel()'
    with pytest.raises(TextileError) as exc_info:
        request.result(timeout=5)
    assert exc_info.value.kind == 'cancelled' and 'cancelled' in str(exc_info.value)
    assert exc_info.value.method == 'POST'
    assert_no_secret(exc_info.value)
    assert server.requests[0].headers['X-Textile-Opts'] == f'token={TOKEN},store=true'
    assert request.done()
    assert api.request_count == 1  # it was sent: a cancel never makes a request look unsent


def test_cancel_aborts_a_tls_request_in_flight(raw_server, tls_context, test_ca):
    server = raw_server(None, tls_context)
    request = api_for(server.url, ca_path=test_ca['ca']).send_post_cancelable('things', data=b'x')
    assert wait_for(lambda: server.requests), 'the request never reached the server'
    assert request.cancel() is True
    assert server.hung_up.wait(5), 'the TLS connection was not closed by cancel()'
    with pytest.raises(TextileError) as exc_info:
        request.result(timeout=5)
    assert exc_info.value.kind == 'cancelled'


def test_cancelable_request_that_completes(raw_server):
    server = raw_server(answer(201, 'made'))
    request = api_for(server.url).send_post_cancelable(
        'things', args=['a'], opts={'k': 'v'}, data='body', headers={'X-Extra': 'c'}
    )
    response = request.result(timeout=5)
    assert response.status_code == 201 and response.text == 'made'
    assert request.cancel() is False and request.cancelled is False
    assert request.result() is response
    seen = server.requests[0]
    assert seen.line == 'POST /api/v0/things HTTP/1.1' and seen.body == b'body'
    assert (seen.headers['X-Textile-Args'], seen.headers['X-Textile-Opts']) == ('a', 'k=v')
    assert seen.headers['X-Extra'] == 'c'


def test_cancelable_request_that_fails_raises_its_error(raw_server):
    server = raw_server(answer(500, 'broken'))
    request = api_for(server.url).send_post_cancelable('things', data={'x': 1})
    with pytest.raises(TextileError) as exc_info:
        request.result(timeout=5)
    assert exc_info.value.kind == 'server_error' and exc_info.value.server_text == 'broken'
    assert server.requests[0].headers['Content-Type'] == 'application/json'


def test_cancelable_result_timeout_while_running(raw_server):
    server = raw_server(None)
    request = api_for(server.url).send_post_cancelable('things')
    with pytest.raises(TextileError) as exc_info:
        request.result(timeout=0.1)
    err = exc_info.value
    assert err.kind == 'timeout' and err.method == 'POST' and 'within 0.1 s' in str(err)
    assert not request.done() and not request.cancelled
    assert request.cancel() is True and request.cancel() is True  # a second cancel still says it was cancelled
    assert server.hung_up.wait(5)


# Against the go-textile simulator


def test_tokens_lifecycle_against_the_simulator(sim):
    api = api_for(sim.url)
    tokens = Tokens(api)
    assert tokens.list() == []
    minted = tokens.create()
    assert [token_id(minted)] == sim.control.state_ids()
    unstored = tokens.create(store=False)
    assert token_id(unstored) not in sim.control.state_ids()
    assert tokens.create(f' {TOKEN}\n') == TOKEN
    assert sorted(parse_list_entry(entry).id for entry in tokens.list()) == sorted([token_id(minted), TOKEN_ID])
    assert tokens.validate(TOKEN) is True
    assert tokens.validate(OTHER) is False
    assert tokens.validate(unstored) is False
    assert tokens.remove(TOKEN) is None
    assert tokens.remove_id(token_id(minted)) is None
    assert tokens.remove_id(token_id(OTHER)) is None  # go-textile answers 204 for an unknown ID
    assert sim.control.state_ids() == [] and tokens.list() == []
    log = sim.control.requests()
    logged = [(entry['method'], entry['path'], entry['status']) for entry in log]
    assert ('DELETE', f'/api/v0/tokens/{TOKEN_ID}', 204) in logged
    assert [entry['method'] for entry in log if entry['secret_in_path']] == ['GET'] * 3  # only the validates
    assert api.request_count == len(logged)


def test_duplicate_import_is_a_bad_request_with_the_server_text(sim):
    tokens = Tokens(api_for(sim.url))
    tokens.create(TOKEN)
    err = raises('bad_request', tokens.create, TOKEN)
    assert err.status == 400 and 'UNIQUE' in err.server_text and err.server_text in str(err)
    assert err.method == 'POST' and err.path == '/api/v0/tokens'


def test_invalid_token_and_not_found_and_node_info(sim):
    api = api_for(sim.url)
    err = raises('invalid_token', api.send_get, f'tokens/{OTHER}')
    assert err.status == 401 and err.server_text == 'invalid credentials'
    assert err.path == f'/api/v0/tokens/{token_id(OTHER)}'
    err = raises('not_found', api.send_get, 'nothing/here')
    assert err.server_text == '404 page not found' and 'api_version' in str(err)
    raises('not_found', api.send_put, 'tokens', data={'a': 1})
    info = api.node_info()
    assert info['cafe_version'] == 'v0' and info['node_version']
    assert api.send_get('/health').status_code == 204


def test_basic_auth_failure():
    textile_sim = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')
    with textile_sim.SimServer(bcrypt_cost=4, username='P1', password='pin') as server:
        err = raises('basic_auth', Tokens(api_for(server.url)).list)
        assert 'set api_username and api_password' in str(err)
        err = raises('basic_auth', Tokens(api_for(server.url, username='P1', password='wrong')).list)
        assert 'check api_username and api_password' in str(err) and 'wrong' not in str(err)
        tokens = Tokens(api_for(server.url, username='P1', password='pin'))
        assert tokens.list() == [] and tokens.validate(TOKEN) is False


@pytest.mark.parametrize('password', ['p\u00e4ss', '\u2603 snow', 'caf\u00e9 \U0001f600', 'plain'])
def test_basic_auth_sends_the_utf8_bytes_of_user_and_password(raw_server, password):
    server = raw_server(json_answer([]))
    Tokens(api_for(server.url, username='P\u00e4', password=password)).list()
    sent = server.requests[0].headers['Authorization']
    assert sent == 'Basic ' + base64.b64encode(('P\u00e4:' + password).encode('utf-8')).decode()


def test_a_pin_with_an_umlaut_authenticates_with_the_simulator_as_with_gin():
    textile_sim = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')
    with textile_sim.SimServer(bcrypt_cost=4, username='P1', password='p\u00e4ss') as server:
        assert Tokens(api_for(server.url, username='P1', password='p\u00e4ss')).list() == []


def test_get_is_retried_after_5xx_and_counted_at_the_server(sim):
    api = api_for(sim.url, retries=3)
    sim.control.add_fault(method='GET', path='/api/v0/tokens', action='status', status=503, count=2)
    assert Tokens(api).list() == []
    statuses = [entry['status'] for entry in sim.control.requests() if entry['path'] == '/api/v0/tokens']
    assert statuses == [503, 503, 200]
    assert api.request_count == 3 and api.sleeps == [0.5, 1.0]


def test_retries_run_out(sim):
    api = api_for(sim.url, retries=2)
    sim.control.add_fault(method='GET', action='status', status=502, body='bad gateway', count=10)
    err = raises('server_error', Tokens(api).list)
    assert err.status == 502 and 'bad gateway' in str(err)
    assert len(sim.control.requests()) == 3 and api.sleeps == [0.5, 1.0]


def test_delete_is_retried_after_a_dropped_connection(sim):
    api = api_for(sim.url, retries=3)
    sim.control.add_fault(method='DELETE', action='drop', count=1)
    assert Tokens(api).remove(TOKEN) is None
    assert api.sleeps == [0.5]
    sent = [(entry['method'], entry['fault'], entry['status']) for entry in sim.control.requests()]
    assert sent == [('DELETE', 'drop', None), ('DELETE', None, 204)]  # dropped once, then sent again and answered


def test_post_and_500_are_not_retried(sim):
    api = api_for(sim.url, retries=3)
    sim.control.add_fault(method='POST', action='status', status=503, count=1)
    raises('server_error', Tokens(api).create, TOKEN)
    sim.control.add_fault(method='GET', action='status', status=500, body='boom', count=1)
    err = raises('server_error', Tokens(api).list)
    assert err.server_text == 'boom'
    assert api.sleeps == [] and len(sim.control.requests()) == 2 and sim.control.state_ids() == []


def test_server_text_never_carries_the_credentials_the_request_carried(sim):
    # A server (or a proxy in front of it) that echoes the request: its Authorization header, the pin, a header.
    basic = base64.b64encode(b'P1:pin-4321').decode()
    echo = f'Authorization: Basic {basic}; pin=<b>pin-4321</b>; X-Proxy-Key: proxy  secret'
    sim.control.add_fault(method='GET', action='status', status=500, body=echo, count=1)
    api = api_for(sim.url, retries=0, username='P1', password='pin-4321', headers={'X-Proxy-Key': 'proxy secret'})
    err = raises('server_error', Tokens(api).list)
    assert err.server_text == 'Authorization: Basic [redacted] ; pin= [redacted] ; X-Proxy-Key: [redacted]'
    assert err.server_text in str(err)


def test_server_text_never_carries_a_token(sim):
    sim.control.add_fault(method='GET', action='status', status=500, body=f'failed on {TOKEN} and {OTHER}', count=1)
    err = raises('server_error', Tokens(api_for(sim.url, retries=0)).list)
    assert TOKEN_ID in err.server_text and token_id(OTHER) in err.server_text


def test_the_oldest_line_runs_the_oldest_urllib3_the_client_supports():
    """The docs name urllib3 1.26 as supported: the ansible-core 2.19 line installs it (scripts/venv.sh compat), so
    its unit and scenario suites run the client on 1.26's connection classes; every other line runs 2.x."""
    # ansible_release, not ansible.release: ansible-test units lets module_utils tests import module_utils only
    import urllib3  # pylint: disable=import-outside-toplevel
    from ansible.module_utils.ansible_release import __version__  # pylint: disable=import-outside-toplevel

    if __version__.startswith('2.19.'):
        assert urllib3.__version__.startswith('1.26.')
    else:
        assert urllib3.__version__.startswith('2.')


def test_no_module_carries_the_helpers_it_does_not_use():
    """AnsiballZ ships the module_utils a module imports: no module may reach _client_extras."""
    import ast
    import pathlib

    root = pathlib.Path(_client.__file__).resolve().parents[2]
    prefix = 'ansible_collections.textileio.textile.'

    def imported(path):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or '').startswith(prefix):
                names.add(node.module[len(prefix) :])
        return names

    for module in (root / 'plugins' / 'modules').glob('*.py'):
        seen, todo = set(), imported(module)
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo |= imported(root / (name.replace('.', '/') + '.py'))
        assert 'plugins.module_utils._client' in seen and 'plugins.module_utils._client_extras' not in seen, module
    assert not hasattr(TextileAPI, 'send_post_cancelable')
