# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the client tests: a raw loopback HTTP server and a test CA (the simulator is tests/unit/conftest.py's)."""

from __future__ import annotations

import collections
import ssl
import threading

import pytest

from ansible_collections.textileio.textile.tests.simulator import tlsutil
from ansible_collections.textileio.textile.tests.simulator.proxies import LoopbackServer, read_request

Request = collections.namedtuple('Request', ['line', 'headers', 'body'])


class RawServer(LoopbackServer):
    """A loopback HTTP/1.1 server that records each raw request and sends a canned answer.

    ``answer`` is the raw response (bytes), None to never answer and wait for the client to hang up, or a
    callable ``answer(conn, stopping)`` that writes whatever it likes to the connection (``stopping`` is an
    Event set when the server stops).
    With an ``ssl.SSLContext`` it serves https. ``requests`` holds a ``Request`` for each request;
    ``hung_up`` is set when a client closed a connection that was never answered.
    """

    def __init__(self, answer=None, context=None):
        self.answer = answer
        self.context = context
        self.requests = []
        self.hung_up = threading.Event()
        super().__init__()
        self.url = f'{"https" if context else "http"}://127.0.0.1:{self.port}'

    def serve(self, conn):
        if self.context:
            conn = self.context.wrap_socket(conn, server_side=True)
        with conn:
            request = read_request(conn, b'')
            if request is None:
                return
            lines = [line.decode('latin-1') for line in request[0]]
            headers = dict(line.split(': ', 1) if ': ' in line else (line.rstrip(':'), '') for line in lines[1:])
            self.requests.append(Request(lines[0], headers, request[1]))
            if self.answer is None:
                self._wait_for_hang_up(conn)
            elif callable(self.answer):
                self.answer(conn, self.stopping)
            else:
                conn.sendall(self.answer)

    def _wait_for_hang_up(self, conn):
        try:
            while conn.recv(65536):
                pass
        except OSError:  # a TLS connection cut without close_notify
            pass
        self.hung_up.set()


@pytest.fixture
def raw_server():
    """Factory of RawServer instances, all stopped at the end of the test."""
    servers = []

    def make(answer=None, context=None):
        servers.append(RawServer(answer, context))
        return servers[-1]

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope='session')
def test_ca(tmp_path_factory):
    """Files of a generated CA, a server (127.0.0.1, localhost) and a client certificate it signed, and the
    certificate of an unrelated CA (``other_ca``)."""
    pytest.importorskip('cryptography')
    paths = tlsutil.make_test_ca(str(tmp_path_factory.mktemp('tls')), name='textile test CA')
    other = tlsutil.make_test_ca(str(tmp_path_factory.mktemp('other-tls')), name='unrelated CA')
    return {
        'other_ca': other.ca_cert,
        'ca': paths.ca_cert,
        'server': paths.server_cert,
        'server_key': paths.server_key,
        'client': paths.client_cert,
        'client_key': paths.client_key,
    }


@pytest.fixture
def tls_context(test_ca):
    """A server-side TLS context with the certificate of the test CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(test_ca['server'], test_ca['server_key'])
    return context


@pytest.fixture
def mtls_context(tls_context, test_ca):
    """The server-side TLS context, also requiring a client certificate signed by the test CA."""
    tls_context.verify_mode = ssl.CERT_REQUIRED
    tls_context.load_verify_locations(test_ca['ca'])
    return tls_context
