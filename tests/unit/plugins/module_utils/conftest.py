# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the client tests: a raw loopback HTTP server and a test CA (the simulator is tests/unit/conftest.py's)."""

from __future__ import annotations

import collections
import datetime
import ipaddress
import socket
import ssl
import threading

import pytest

Request = collections.namedtuple('Request', ['line', 'headers', 'body'])


class RawServer:
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
        self.stopping = threading.Event()
        self.listener = socket.create_server(('127.0.0.1', 0))
        self.port = self.listener.getsockname()[1]
        self.url = f'{"https" if context else "http"}://127.0.0.1:{self.port}'
        self.threads = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn = self.listener.accept()[0]
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _serve(self, conn):
        try:
            if self.context:
                conn = self.context.wrap_socket(conn, server_side=True)
            data = b''
            while b'\r\n\r\n' not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, body = data.split(b'\r\n\r\n', 1)
            lines = head.decode('latin-1').split('\r\n')
            headers = dict(line.split(': ', 1) if ': ' in line else (line.rstrip(':'), '') for line in lines[1:])
            length = int(headers.get('Content-Length', 0))
            while len(body) < length:
                body += conn.recv(65536)
            self.requests.append(Request(lines[0], headers, body))
            if self.answer is None:
                self._wait_for_hang_up(conn)
            elif callable(self.answer):
                self.answer(conn, self.stopping)
            else:
                conn.sendall(self.answer)
        except OSError:
            pass
        finally:
            conn.close()

    def _wait_for_hang_up(self, conn):
        try:
            while conn.recv(65536):
                pass
        except OSError:  # a TLS connection cut without close_notify
            pass
        self.hung_up.set()

    def stop(self):
        self.stopping.set()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.listener.close()
        self.thread.join(5)
        for thread in self.threads:
            thread.join(5)


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


def _certificate(subject, issuer_name, issuer_key, public_key, ca, sans=()):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope='session')
def test_ca(tmp_path_factory):
    """Files of a generated CA, a server and a client certificate it signed (with keys), and an unrelated CA."""
    pytest.importorskip('cryptography')
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def pem(obj):
        if isinstance(obj, x509.Certificate):
            return obj.public_bytes(serialization.Encoding.PEM)
        return obj.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    directory = tmp_path_factory.mktemp('tls')
    files = {}
    ca_key, other_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for dummy in range(4))
    certs = {
        'ca': _certificate('textile test CA', 'textile test CA', ca_key, ca_key.public_key(), True),
        'other_ca': _certificate('unrelated CA', 'unrelated CA', other_key, other_key.public_key(), True),
        'server': _certificate(
            '127.0.0.1',
            'textile test CA',
            ca_key,
            server_key.public_key(),
            False,
            [x509.IPAddress(ipaddress.ip_address('127.0.0.1')), x509.DNSName('localhost')],
        ),
        'client': _certificate(
            'ansible', 'textile test CA', ca_key, client_key.public_key(), False, [x509.DNSName('ansible.example')]
        ),
    }
    for name, obj in list(certs.items()) + [('server_key', server_key), ('client_key', client_key)]:
        files[name] = str(directory / f'{name}.pem')
        with open(files[name], 'wb') as handle:
            handle.write(pem(obj))
    return files


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
