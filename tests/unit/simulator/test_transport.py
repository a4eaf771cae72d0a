# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulator's connections behave like Go's net/http ones, so a kept-alive request is not held back.

Go sets TCP_NODELAY on every connection and writes a small answer in one go. A server that does neither
makes each request on a kept-alive connection wait for the client's delayed ACK (about 40 ms on loopback),
which would distort every benchmark and every request count the tests rely on for timing.
"""

from __future__ import annotations

import socket

from ansible_collections.textileio.textile.tests.unit.simulator.simhelpers import requests, sim_module


def test_every_connection_has_nagle_off_and_every_answer_is_one_write(sim, monkeypatch):
    seen = []
    real_setup = sim_module._Handler.setup  # pylint: disable=protected-access

    def setup(self):
        real_setup(self)
        seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        real_write = self.wfile.write
        self.writes = []

        def write(data):
            self.writes.append(len(data))
            return real_write(data)

        self.wfile.write = write
        seen.append(self.writes)

    monkeypatch.setattr(sim_module._Handler, 'setup', setup)  # pylint: disable=protected-access
    with requests.Session() as session:  # one kept-alive connection for all of them
        for method, path, expected in [
            ('GET', '/api/v0/tokens', 200),
            ('POST', '/api/v0/tokens', 201),
            ('GET', '/api/v0/tokens/abc', 401),
            ('DELETE', '/api/v0/tokens/abc', 500),
            ('GET', '/nowhere', 404),
            ('GET', '/', 200),
            ('GET', '/health', 204),
        ]:
            assert session.request(method, sim.url + path).status_code == expected
    nodelay, writes = seen
    assert nodelay != 0
    assert len(writes) == 7  # seven answers, each written at once: headers and body together
