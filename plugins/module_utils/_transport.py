# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to this collection: it is not part of its public API
# and may change without notice.

"""The urllib3 side of the client: every connection a request uses, in reach of its deadline.

``requests`` offers no bound on a request as a whole (its timeout bounds each socket operation), so the
client's session mounts ``watching_adapter()``: its pools hand every connection a request takes from the
pool or opens to the ``Watch`` of the thread that sends it, and the deadline timer (or a cancel) stops
that watch, which shuts the connections down. This is the one file that builds on urllib3's internals
(its connection and pool classes); ``URLLIB3_PROBLEM`` says when the installed urllib3 lacks them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any, Iterator

# The urllib3 internals the client builds on to bound each request (Watch): a requests that is installed but
# runs on a urllib3 without them is a different failure from a missing requests, with its own remedy.
URLLIB3_PROBLEM: str | None = None
try:
    from requests.adapters import HTTPAdapter
except ImportError:
    pass  # the client reports the missing requests (HAS_REQUESTS) itself
else:
    try:
        from urllib3.connection import HTTPConnection, HTTPSConnection
        from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    except ImportError as exc:
        import urllib3

        URLLIB3_PROBLEM = (
            f'requests is installed, but the urllib3 it uses ({getattr(urllib3, "__version__", "?")}) '
            f'lacks {exc.name or "a part"} that the textileio.textile client needs; install urllib3 '
            "1.26 or 2.x on the host that runs the module (pip install 'urllib3>=1.26,<3')."
        )


class Watch:
    """The connections one request uses, so that its deadline or a cancel can shut them down from another thread,
    and the phase the request is in, so that a failure says whether anything of the request went out.

    The session's adapter (``watching_adapter``) hands every connection the request takes from the pool or
    opens to the watch of the thread that sends it, and its connections move the phase: ``building`` until a
    connection is opened or a byte is sent, ``connecting`` while a connection is opened (a proxy's tunnel
    included), ``sending`` once a byte of the request is handed to the socket, ``reading`` once the answer is
    awaited. A request is sent once it is ``sending`` or ``reading``.
    """

    _current = threading.local()

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self.stopped: str | None = None  # 'timeout' or 'cancelled' once stopped
        self.phase = 'building'
        self._done = False

    @contextlib.contextmanager
    def watching(self) -> Iterator[Watch]:
        Watch._current.watch = self
        try:
            yield self
        except BaseException:
            # A failed attempt may already have handed its connection back to the pool with the rest of a broken
            # answer unread, or half closed by the server: close it, so that no later request is sent on it.
            with self._lock:
                connections = list(self._connections)
            for connection in connections:
                connection.close()
            raise
        finally:
            Watch._current.watch = None
            with self._lock:
                self._done = True  # the connection goes back to the pool: a late stop must not touch it
                self._connections = []

    @classmethod
    def add(cls, connection: Any) -> None:
        """Called by the adapter in the sending thread for each connection the request uses."""
        watch = getattr(cls._current, 'watch', None)
        if watch is None:
            return
        with watch._lock:  # pylint: disable=protected-access
            if connection not in watch._connections:  # pylint: disable=protected-access
                watch._connections.append(connection)  # pylint: disable=protected-access
            stopped = watch.stopped
        if stopped:
            _shut(connection)

    @classmethod
    def enter(cls, phase: str, unless: str | None = None) -> str:
        """Called by the adapter's connections in the sending thread: the request is now in ``phase``, unless it is
        in the phase ``unless``. Returns the phase it was in."""
        watch = getattr(cls._current, 'watch', None)
        if watch is None:
            return phase
        before = watch.phase
        if before != unless:
            watch.phase = phase
        return before

    def stop(self, why: str) -> bool:
        """Shut the request's connections down (which wakes the thread blocked on them); ``why`` is kept."""
        with self._lock:
            if self._done or self.stopped:
                return False
            self.stopped = why
            connections = list(self._connections)
        for connection in connections:
            _shut(connection)
        return True


def _shut(connection: Any) -> None:
    """Shut the connection's socket down, which wakes the thread blocked on it with an error.

    ``socket.socket.shutdown`` also for TLS sockets: ``SSLSocket.shutdown`` would drop the TLS state under the
    reading thread. The reading thread closes the connection itself once it fails.
    """
    sock = getattr(connection, 'sock', None)
    if sock is not None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


def watching_adapter(maxsize: int) -> Any:
    """An HTTPAdapter (keeping up to ``maxsize`` connections per host) that hands every connection a request
    uses (from the pool, or once connected) to the Watch of the sending thread, through the pools of direct
    and proxied requests alike."""

    def watched(base: type) -> type:
        class Connection(base):
            def connect(self) -> None:
                Watch.add(self)  # watched while it connects too: a proxy's tunnel answer may trickle in
                before = Watch.enter('connecting')
                super().connect()
                Watch.add(self)  # shut at once when the deadline passed while it connected
                Watch.enter(before)  # building, or sending when send() opened the connection itself

            def send(self, data: Any) -> None:
                # What a connection sends while it connects (a proxy's CONNECT) is not a byte of the request.
                Watch.enter('sending', unless='connecting')
                super().send(data)

            def getresponse(self, *args: Any, **kwargs: Any) -> Any:
                Watch.enter('reading')
                return super().getresponse(*args, **kwargs)

        return Connection

    def pool(base: type, connection: type) -> type:
        class Pool(base):
            ConnectionCls = watched(connection)

            def _get_conn(self, timeout: float | None = None) -> Any:
                conn = super()._get_conn(timeout)
                Watch.add(conn)
                return conn

        return Pool

    pools = {'http': pool(HTTPConnectionPool, HTTPConnection), 'https': pool(HTTPSConnectionPool, HTTPSConnection)}

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            manager.pool_classes_by_scheme = pools
            return manager

    return Adapter(pool_maxsize=maxsize)
