# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A failed request is classified by the phase that failed: building, connecting, sending, reading the answer.

A request is sent once a byte of it went out; a failure after that leaves its outcome unknown, whatever the
exception (a malformed answer raises InvalidHeader, which once passed for a request that could not be built).
The broken answers come from a fault proxy in front of the simulator (tests/simulator/proxies.py): the cafe acts
on the request, then its answer is broken on the way back.
"""

from __future__ import annotations

import threading

import pytest

from ansible_collections.textileio.textile.plugins.module_utils import _client
from ansible_collections.textileio.textile.plugins.module_utils._client import TextileAPI, TextileError, Tokens
from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58encode, token_id
from ansible_collections.textileio.textile.plugins.module_utils._transport import Watch
from ansible_collections.textileio.textile.tests.simulator.proxies import MODES

SENT = 'after the request was sent'


def api_for(url, **kwargs):
    api = TextileAPI(url, **dict(dict(timeout=10.0, retries=0), **kwargs))
    api.sleeps = []
    api.sleep = api.sleeps.append
    return api


def a_token():
    import os  # pylint: disable=import-outside-toplevel

    return b58encode(os.urandom(44))


def failure(call, *args, **kwargs):
    with pytest.raises(TextileError) as info:
        call(*args, **kwargs)
    return info.value


@pytest.fixture
def small_bodies(monkeypatch):
    """An endless answer is cut at a bound: a small one keeps the test fast."""
    monkeypatch.setattr(_client, 'MAX_BODY', 100_000)


@pytest.mark.parametrize('mode', MODES)
def test_an_import_whose_answer_breaks_was_sent_and_is_not_resent(sim, fault_proxy, small_bodies, mode):
    fault_proxy.break_answers('POST', '/api/v0/tokens', mode)
    token = a_token()
    api = api_for(fault_proxy.url, retries=3)
    err = failure(Tokens(api).create, token)
    assert err.sent is True and err.status is None and err.kind in ('connection', 'bad_response'), repr(err)
    assert SENT in str(err) or 'larger than' in str(err)
    assert 'could not be built' not in str(err)
    assert sim.control.state_ids() == [token_id(token)]  # the cafe acted
    assert [entry['method'] for entry in sim.control.requests()] == ['POST']  # and the client sent it once
    assert api.request_count == 1


@pytest.mark.parametrize('mode', ['duplicate-length', 'bad-status', 'truncated', 'reset'])
def test_a_read_whose_answer_breaks_is_retried(sim, fault_proxy, mode):
    fault_proxy.break_answers('GET', '/api/v0/tokens', mode)
    api = api_for(fault_proxy.url, retries=2)
    assert Tokens(api).list() == []
    assert len(sim.control.requests()) == 2 and api.sleeps == [0.5]


def test_the_original_report_two_content_lengths_is_an_answer_not_an_unbuilt_request(sim, fault_proxy):
    fault_proxy.break_answers('POST', '/api/v0/tokens', 'duplicate-length')
    err = failure(Tokens(api_for(fault_proxy.url)).create)
    assert err.exc_class == 'InvalidHeader' and err.sent is True and err.kind == 'connection'
    assert len(sim.control.state_ids()) == 1  # the mint stored a token the client never saw


def test_nothing_sent_before_the_connection_failed(closed_port):
    err = failure(Tokens(api_for(f'http://127.0.0.1:{closed_port}')).create, a_token())
    assert err.sent is False and err.kind == 'connection' and 'refused' in str(err)


def test_a_request_that_cannot_be_built_is_unsent_and_never_retried(sim):
    api = api_for(sim.url, headers={'X-Bad': 'line\nbreak'}, retries=3)
    err = failure(Tokens(api).list)
    assert err.sent is False and err.kind == 'unbuildable' and api.sleeps == []
    assert sim.control.requests() == []


def test_a_chunked_answer_without_a_length_is_whole(raw_server):
    server = raw_server(
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n'
        b'Connection: close\r\n\r\n2\r\n[]\r\n0\r\n\r\n'
    )
    assert Tokens(api_for(server.url)).list() == []


def test_a_removal_answered_204_with_a_length_but_no_body_is_done(raw_server):
    """A 204 has no body, whatever its Content-Length says: it is not an answer cut short."""
    server = raw_server(b'HTTP/1.1 204 No Content\r\nContent-Length: 3\r\nConnection: close\r\n\r\n')
    assert Tokens(api_for(server.url)).remove_id('0123456789abcdef01234567') is None


def test_a_body_cut_short_of_its_length_is_a_broken_answer(raw_server):
    server = raw_server(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n[]')
    err = failure(Tokens(api_for(server.url)).list)
    assert err.sent is True and err.kind == 'connection' and SENT in str(err)


class TestPhases:
    """The phase each step of a request puts its Watch in (the adapter's connections move it)."""

    @staticmethod
    def record(monkeypatch):
        """``[(operation, phase of the sending thread's watch)]`` for every connect, send and receive below urllib3."""
        import socket  # pylint: disable=import-outside-toplevel
        import ssl  # pylint: disable=import-outside-toplevel

        from urllib3.util import connection  # pylint: disable=import-outside-toplevel

        seen = []
        client = threading.get_ident()  # the simulator's and the proxy's threads use sockets too

        def phase():
            watch = getattr(Watch._current, 'watch', None)  # pylint: disable=protected-access
            return watch.phase if watch is not None else None

        def wrap(owner, name, label):
            real = getattr(owner, name)

            def recorded(*args, **kwargs):
                if threading.get_ident() == client:
                    seen.append((label, phase()))
                return real(*args, **kwargs)

            monkeypatch.setattr(owner, name, recorded)

        wrap(connection, 'create_connection', 'connect')
        for owner in (socket.socket, ssl.SSLSocket):
            wrap(owner, 'sendall', 'send')
            wrap(owner, 'recv_into', 'receive')
        return seen

    @staticmethod
    def steps(seen):
        return [step for index, step in enumerate(seen) if index == 0 or seen[index - 1] != step]

    def test_connecting_sending_and_reading_are_the_phases_of_what_the_socket_does(self, sim, monkeypatch):
        seen = self.record(monkeypatch)
        api = api_for(sim.url)
        Tokens(api).list()
        assert self.steps(seen) == [('connect', 'connecting'), ('send', 'sending'), ('receive', 'reading')]
        del seen[:]
        Tokens(api).list()  # the kept-alive connection: no connect
        assert self.steps(seen) == [('send', 'sending'), ('receive', 'reading')]

    def test_a_proxy_tunnel_is_part_of_connecting(self, forward_proxy, monkeypatch, test_ca):
        textile_sim = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')
        with textile_sim.SimServer(bcrypt_cost=4, tls_cert=test_ca['server'], tls_key=test_ca['server_key']) as tls:
            proxy = forward_proxy({'cafe.invalid': tls.port})
            monkeypatch.setenv('HTTPS_PROXY', proxy.url)
            api = api_for(f'https://cafe.invalid:{tls.port}', use_proxy=True, validate_certs=False)
            seen = self.record(monkeypatch)
            Tokens(api).list()
        assert self.steps(seen) == [
            ('connect', 'connecting'),
            ('send', 'connecting'),  # CONNECT cafe.invalid:port
            ('receive', 'connecting'),  # its answer, then the TLS handshake
            ('send', 'sending'),
            ('receive', 'reading'),
        ]

    def test_a_failure_while_sending_counts_as_sent(self, sim, monkeypatch):
        from urllib3.connection import HTTPConnection  # pylint: disable=import-outside-toplevel

        def send(self, data):
            raise ConnectionResetError('reset while sending')

        monkeypatch.setattr(HTTPConnection, 'send', send)  # below the adapter's connection, which marks the phase
        err = failure(Tokens(api_for(sim.url)).create, a_token())
        assert err.sent is True and err.kind == 'connection' and SENT in str(err)

    def test_bytes_a_connection_sends_while_it_connects_are_not_the_request(self, monkeypatch):
        watch = Watch()
        with watch.watching():
            Watch.enter('connecting')
            assert Watch.enter('sending', unless='connecting') == 'connecting'
            assert watch.phase == 'connecting'
            Watch.enter('building')
            Watch.enter('sending', unless='connecting')
            assert watch.phase == 'sending'
        assert Watch.enter('reading') == 'reading'  # no watch: nothing to record

    def test_a_thread_that_never_watched_records_nothing(self):
        outcome = []
        thread = threading.Thread(target=lambda: outcome.append((Watch.enter('sending'), Watch.add(object()))))
        thread.start()
        thread.join()
        assert outcome == [('sending', None)]


class Connection:
    """What a urllib3 connection offers the watch: ``close``, and ``sock`` for a shutdown."""

    sock = None

    def __init__(self):
        self.closed = 0

    def close(self):
        self.closed += 1


@pytest.mark.parametrize('failure', [ValueError, OSError, KeyboardInterrupt])
def test_a_failed_attempt_closes_every_connection_it_used(failure):
    """A connection whose answer broke may be back in the pool already, with the rest of the answer unread (or
    half closed by the server): the next request must not be sent on it."""
    used, other = Connection(), Connection()
    watch = Watch()
    with pytest.raises(failure), watch.watching():
        Watch.add(used)
        raise failure('the answer broke')
    assert (used.closed, other.closed) == (1, 0)
    assert watch.stop('timeout') is False  # and a late deadline touches nothing once the attempt has ended


def test_a_good_attempt_leaves_its_connection_open_for_the_next_request():
    kept = Connection()
    with Watch().watching():
        Watch.add(kept)
    assert kept.closed == 0
