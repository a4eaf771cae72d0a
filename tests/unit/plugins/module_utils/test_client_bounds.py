# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every wait and every piece of work the client does for an answer is bounded, whatever the server sends.

The bounds are checked against servers that would go on for far longer than the bound (a minute of trickle),
so that a passing test proves the bound without timing anything finely: the limits asserted are generous
multiples of the configured timeout, robust to a busy machine.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from ansible_collections.textileio.textile.plugins.module_utils import _client
from ansible_collections.textileio.textile.plugins.module_utils import _token_format as tf
from ansible_collections.textileio.textile.plugins.module_utils._client import TextileAPI, TextileError, Tokens

TIMEOUT = 1.0
BOUND = 10 * TIMEOUT  # far below the minute the trickling servers would take


def trickle(data, every=0.2):
    """An answer that sends ``data`` one byte every ``every`` seconds (about a minute for 300 bytes)."""

    def send(conn, stopping):
        for index in range(len(data)):
            conn.sendall(data[index : index + 1])
            if stopping.wait(every):
                return

    return send


class Hangup:
    """An answer that trickles ``data`` in (a byte every 0.2 s: a minute for 300 bytes), recording as events
    whether the client hung up before the whole answer went out (``hung_up``) or not (``whole``)."""

    def __init__(self, data):
        self.data = data
        self.hung_up = threading.Event()
        self.whole = threading.Event()

    def __call__(self, conn, stopping):
        try:
            for index in range(len(self.data)):
                conn.sendall(self.data[index : index + 1])
                if stopping.wait(0.2):
                    return
        except OSError:
            self.hung_up.set()
            return
        self.whole.set()


SLOW_HEAD = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: ' + b'a' * 300 + b'\r\n\r\n'


def failure(call):
    started = time.monotonic()
    with pytest.raises(TextileError) as exc_info:
        call()
    return exc_info.value, time.monotonic() - started


def api_for(url, **kwargs):
    api = TextileAPI(url, **dict(dict(timeout=TIMEOUT, retries=0), **kwargs))
    api.sleeps = []
    api.sleep = api.sleeps.append
    return api


def test_an_answer_whose_body_trickles_in_fails_after_about_timeout(raw_server):
    body = json.dumps([tf.b58encode(bytes(72))] * 3).encode()
    head = (f'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n').encode()
    server = raw_server(lambda conn, stopping: (conn.sendall(head), trickle(body)(conn, stopping)))
    err, took = failure(Tokens(api_for(server.url)).list)
    assert err.kind == 'timeout' and 'No complete answer' in str(err) and err.sent
    assert took < BOUND


def test_headers_that_trickle_in_fail_after_about_timeout(raw_server):
    server = raw_server(trickle(b'HTTP/1.1 200 OK\r\n' + b'X-Slow: ' + b'a' * 400 + b'\r\n\r\n'))
    err, took = failure(Tokens(api_for(server.url)).list)
    assert err.kind == 'timeout' and took < BOUND


def test_a_trickling_get_is_retried_within_the_budget_and_each_attempt_is_bounded(raw_server):
    server = raw_server(trickle(b'HTTP/1.1 200 OK\r\n' + b'X-Slow: ' + b'a' * 400 + b'\r\n\r\n'))
    api = api_for(server.url, retries=2)
    err, took = failure(Tokens(api).list)
    assert err.kind == 'timeout' and len(server.requests) == 3 and api.sleeps == [0.5, 1.0]
    assert took < 3 * BOUND


def test_a_late_deadline_never_touches_a_connection_back_in_the_pool(sim, monkeypatch):
    deadlines = []

    class LateTimer:
        """A deadline timer that fires only when the test fires it: after its request has ended."""

        def __init__(self, interval, function, args=()):
            self.daemon = False
            deadlines.append(lambda: function(*args))

        def start(self):
            pass

        def cancel(self):
            pass

    monkeypatch.setattr(_client.threading, 'Timer', LateTimer)
    api = api_for(sim.url, timeout=1.0)
    tokens = Tokens(api)
    assert tokens.list() == []
    (late,) = deadlines
    assert late() is False  # the deadline of a request that has ended stops nothing
    assert tokens.list() == [] and api.request_count == 2
    assert [entry['path'] for entry in sim.control.requests()] == ['/api/v0/tokens'] * 2


def test_a_list_entry_longer_than_any_entry_fails_fast_as_a_bad_answer(sim, monkeypatch):
    decoded = []
    real = tf.b58decode
    monkeypatch.setattr(tf, 'b58decode', lambda text: decoded.append(len(text)) or real(text))
    entry = tf.b58encode(b'\x01' * 12) + '2' * 500_000
    sim.control.add_fault(
        method='GET',
        path='/api/v0/tokens',
        action='status',
        status=200,
        body=json.dumps([entry]),
        headers={'Content-Type': 'application/json'},
    )
    err, dummy = failure(Tokens(api_for(sim.url)).entries)
    assert err.kind == 'bad_response' and 'not a token ID followed by a bcrypt hash' in str(err)
    assert all(length <= tf.LIST_ENTRY_MAX_CHARS for length in decoded)


@pytest.mark.parametrize(
    'body',
    ['[' * 100_000, '{"a":' * 50_000, '[1, 2', '\xff\xfe', ''],
    ids=['deep-list', 'deep-object', 'truncated', 'not-utf8', 'empty'],
)
def test_a_list_answer_that_is_not_json_is_a_bad_answer(sim, body):
    sim.control.add_fault(method='GET', path='/api/v0/tokens', action='status', status=200, body=body)
    err, dummy = failure(Tokens(api_for(sim.url)).list)
    assert err.kind == 'bad_response' and 'not a JSON list of strings' in str(err)


def test_an_answer_larger_than_the_bound_is_a_bad_answer(sim, monkeypatch):
    monkeypatch.setattr(_client, 'MAX_BODY', 1000)
    sim.control.add_fault(
        method='GET', path='/api/v0/tokens', action='status', status=200, body=json.dumps(['x' * 2000])
    )
    err, dummy = failure(Tokens(api_for(sim.url)).list)
    assert err.kind == 'bad_response' and 'larger than' in str(err)
    sim.control.clear_faults()
    assert Tokens(api_for(sim.url)).list() == []  # a bound that holds the answer reads it


def test_an_answer_of_exactly_the_bound_is_read_and_one_byte_more_is_not(raw_server, monkeypatch):
    monkeypatch.setattr(_client, 'MAX_BODY', 1000)
    head = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n'
    server = raw_server(head % 1000 + b'a' * 1000)
    assert api_for(server.url).send_get('things').content == b'a' * 1000
    server.answer = head % 1001 + b'a' * 1001
    err, dummy = failure(lambda: api_for(server.url).send_get('things'))
    assert err.kind == 'bad_response' and 'larger than' in str(err)


def test_an_endless_answer_is_cut_at_the_bound_not_read_to_its_end(raw_server, monkeypatch):
    monkeypatch.setattr(_client, 'MAX_BODY', 100_000)

    def endless(conn, stopping):
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000000000000\r\n\r\n')
        while not stopping.is_set():
            conn.sendall(b'a' * 65536)

    server = raw_server(endless)
    err, took = failure(lambda: api_for(server.url, timeout=30.0).send_get('things'))
    assert err.kind == 'bad_response' and 'larger than' in str(err) and took < BOUND


@pytest.mark.parametrize(
    'value', ['0.7.8\nforged line', 'x' * 100, tf.b58encode(bytes(range(1, 45))), 42, None, ['0.7.8'], '<b>0.7.8</b>']
)
def test_node_versions_that_do_not_look_like_versions_are_dropped(sim, value):
    sim.control.add_fault(
        method='GET',
        path='/',
        action='status',
        status=200,
        body=json.dumps({'node_version': value, 'cafe_version': 'v0'}),
    )
    assert TextileAPI(sim.url).node_info() == {'cafe_version': 'v0'}


def test_backoff_doubles_and_is_capped_at_8_seconds():
    api = api_for('http://127.0.0.1:1')
    for attempt in range(12):
        api.backoff(attempt)
    assert api.sleeps == [0.5, 1.0, 2.0, 4.0] + [8.0] * 8


def test_the_client_never_makes_more_than_10_retries():
    assert TextileAPI('http://127.0.0.1:1', retries=1_000_000).retries == 10


def test_an_unencodable_header_fails_as_a_request_that_cannot_be_built(sim):
    api = api_for(sim.url, headers={'X-Proxy': 'caf\u00e9 \u2603'}, retries=3)
    err, dummy = failure(Tokens(api).list)
    assert err.kind == 'unbuildable' and 'could not be built' in str(err) and '\u2603' not in str(err)
    assert err.exc_class == 'UnicodeEncodeError' and err.sent is False and api.sleeps == []
    assert sim.control.requests() == []


def test_the_deadline_holds_on_a_reused_kept_alive_connection(raw_server):
    """The second request of a kept-alive connection, taken from the pool, is watched like the first."""
    slow = Hangup(SLOW_HEAD)
    second = threading.Event()

    def keep_alive_then_trickle(conn, stopping):
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]')
        data = b''
        while b'\r\n\r\n' not in data:  # the next request, on the same connection
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        second.set()
        slow(conn, stopping)

    server = raw_server(keep_alive_then_trickle)
    tokens = Tokens(api_for(server.url))
    assert tokens.list() == []
    err, took = failure(tokens.list)
    assert second.is_set() and len(server.requests) == 1  # one connection carried both requests
    assert err.kind == 'timeout' and err.sent and 'proxy' not in str(err)
    assert slow.hung_up.wait(BOUND) and not slow.whole.is_set()  # the client hung up at its deadline
    assert took < BOUND


def test_the_deadline_holds_through_a_proxy(raw_server, monkeypatch):
    """The pools of proxied requests are watched too: a proxy that trickles its answer is cut at the deadline."""
    proxy = Hangup(SLOW_HEAD)
    server = raw_server(proxy)
    monkeypatch.setenv('HTTP_PROXY', server.url)
    monkeypatch.delenv('NO_PROXY', raising=False)
    monkeypatch.delenv('no_proxy', raising=False)
    api = api_for('http://cafe.invalid:40600', use_proxy=True)
    err, took = failure(Tokens(api).list)
    assert server.requests[0].line == 'GET http://cafe.invalid:40600/api/v0/tokens HTTP/1.1'
    assert (
        err.kind == 'timeout' and err.sent and 'cafe.invalid:40600 (through the proxy of the environment)' in str(err)
    )
    assert proxy.hung_up.wait(BOUND) and not proxy.whole.is_set()
    assert took < BOUND
