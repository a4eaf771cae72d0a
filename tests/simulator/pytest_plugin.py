# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pytest plugin every suite loads (``pytest_plugins`` in tests/unit, tests/reliability, tests/scenarios and
tests/interop): the one token factory and the one simulator fixture.

- ``make_token(id_bytes=None, secret=None)``: a fresh go-textile token, base58 (by the reference package, so that
  no test checks the collection against itself) of 12 ID bytes and 32 secret bytes, random unless given.
- ``sim_factory(tls=False, bcrypt_cost=4, **options)``: start a simulator (options: ``textile_sim.SimServer``'s),
  stopped after the test; returns a ``Sim`` (``url``, ``port``, ``control``, ``server``, ``call()``, ``create()``).
  It runs in this process (``SimServer``) unless the suite's ``sim_process`` fixture says True (the playbook
  suites): then it is a ``SimProcess`` with its SQLite file under ``tmp_path``, its password is registered with
  the suite's ``secrets``, and no DELETE it received may carry a token secret in its path.
- ``sim``: ``sim_factory()``.
- ``tls_ca``: the simulator's throw-away CA (``ca_cert``, ``server_cert``, ``server_key``, ``client_cert``, ...);
  ``sim_factory(tls=True)`` serves its ``server_cert``.
"""

from __future__ import annotations

import contextlib
import secrets as _random

import base58
import pytest

TOKEN_BYTES = 44
ID_BYTES = 12
SIMULATOR = 'ansible_collections.textileio.textile.tests.simulator'


def make_token(id_bytes=None, secret=None):
    """A fresh go-textile token: base58 of 44 bytes (12-byte ID + 32-byte secret), random by default."""
    id_bytes = _random.token_bytes(ID_BYTES) if id_bytes is None else bytes(id_bytes)
    secret = _random.token_bytes(TOKEN_BYTES - ID_BYTES) if secret is None else bytes(secret)
    assert len(id_bytes) == ID_BYTES and len(secret) == TOKEN_BYTES - ID_BYTES
    return base58.b58encode(id_bytes + secret).decode('ascii')


class Sim:
    """A running simulator, ``server`` (a ``SimServer`` or a ``SimProcess``, whose attributes it shows: ``url``,
    ``port``, ``control``, ...), and a small ``requests`` wrapper (redirects are never followed)."""

    def __init__(self, server):
        self.server = server

    def __getattr__(self, name):
        return getattr(self.server, name)

    def call(self, method, path, opts=None, **kwargs):
        requests = pytest.importorskip('requests')
        headers = kwargs.pop('headers', {})
        if opts is not None:
            headers['X-Textile-Opts'] = opts
        kwargs.setdefault('allow_redirects', False)
        kwargs.setdefault('timeout', 30)
        return requests.request(method, self.url + path, headers=headers, **kwargs)

    def create(self, opts='store=true', **kwargs):
        return self.call('POST', '/api/v0/tokens', opts, **kwargs)


@pytest.fixture
def sim_process():
    """Whether ``sim_factory`` starts each simulator as a subprocess: no here, yes in the playbook suites."""
    return False


@pytest.fixture(scope='session')
def tls_ca(tmp_path_factory):
    """The simulator's throw-away CA (``ca_cert``, ``server_cert``, ``server_key``, ``client_cert``, ...)."""
    tlsutil = pytest.importorskip(SIMULATOR + '.tlsutil')
    return tlsutil.make_test_ca(str(tmp_path_factory.mktemp('tls')))


@pytest.fixture
def sim_factory(request, tmp_path, sim_process):
    textile_sim = pytest.importorskip(SIMULATOR + '.textile_sim')
    secrets = request.getfixturevalue('secrets') if sim_process else None
    started = []
    with contextlib.ExitStack() as stack:

        def start(tls=False, bcrypt_cost=4, **options):
            cafile = None
            if tls:
                ca = request.getfixturevalue('tls_ca')
                options.update(tls_cert=ca.server_cert, tls_key=ca.server_key)
                cafile = ca.ca_cert
            if sim_process:
                if options.get('password'):
                    secrets.add(options['password'])
                options.setdefault('db', str(tmp_path / ('sim-%d.sqlite' % (len(started) + 1))))
                server = textile_sim.SimProcess(bcrypt_cost=bcrypt_cost, cafile=cafile, **options)
            else:
                server = textile_sim.SimServer(bcrypt_cost=bcrypt_cost, **options).start()
            stack.callback(server.stop)
            started.append(Sim(server))
            return started[-1]

        yield start
        if sim_process:
            # Removals must never carry a secret in their URL (go-textile logs every path).
            leaks = [
                r['path']
                for s in started
                for r in s.control.requests()
                if r['method'] == 'DELETE' and r.get('secret_in_path')
            ]
            assert not leaks, 'a DELETE sent a token secret in its path: %s' % leaks


@pytest.fixture
def sim(sim_factory):
    """A simulator on a free loopback port (bcrypt cost 4), stopped after the test: ``sim.url``, ``sim.port``,
    ``sim.control.state_ids()``, ``sim.control.requests()``, ..."""
    return sim_factory()
