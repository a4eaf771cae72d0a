# Copyright: Contributors to the textileio.textile collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two loopback proxies for the tests of what the client trusts (test code, not shipped to managed nodes).

- ``ForwardProxy``: a forward HTTP proxy (absolute-form requests and ``CONNECT``) that records every request it
  receives. Host names given in ``hosts`` are reached through it only: they resolve nowhere else, so a request
  to one that succeeds went through the proxy, on a machine that has nothing but loopback.
- ``FaultProxy``: a reverse proxy in front of the simulator. It forwards each request whole, lets the cafe act,
  reads the cafe's whole answer, and for the requests a rule picks sends a broken answer instead (a duplicate
  ``Content-Length``, a bad status line, an over-long header line, a cut answer, a reset, broken chunked framing,
  an endless body, or ``corrupt(head, body)`` of the test's own); every other answer is passed on intact.

Both listen on 127.0.0.1 on a free port, serve each connection in a thread, and stop with ``stop()`` (context
managers too).
"""

from __future__ import annotations

import socket
import struct
import threading

HEAD_LIMIT = 1 << 20


def _read_head(conn, data=b""):
    """Read up to the end of a head; returns (head, rest) or (None, data) when the peer closed first."""
    while b"\r\n\r\n" not in data:
        if len(data) > HEAD_LIMIT:
            return None, data
        chunk = conn.recv(65536)
        if not chunk:
            return None, data
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head, rest


def _header(lines, name):
    for line in lines:
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == name:
            return value.strip()
    return None


def read_request(conn, data):
    """One request from ``conn``: (head lines, body, rest) or None at the end of the connection."""
    head, rest = _read_head(conn, data)
    if head is None:
        return None
    lines = head.split(b"\r\n")
    length = int(_header(lines[1:], b"content-length") or 0)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return lines, rest[:length], rest[length:]


def _read_all(sock):
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except OSError:
            return data
        if not chunk:
            return data
        data += chunk


def _reset(conn):
    """Close ``conn`` with a TCP reset (SO_LINGER 0) instead of an orderly close."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    conn.close()


class LoopbackServer:
    """A threaded server on a free loopback port: ``serve(conn)`` handles each connection; ``stop()`` (or the end
    of a ``with`` block) closes the listener and the open connections and joins the threads."""

    def __init__(self):
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self._lock = threading.Lock()
        self.threads = []
        self._conns = set()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                conn = self.listener.accept()[0]
            except OSError:
                return
            with self._lock:
                self._conns.add(conn)
            thread = threading.Thread(target=self._serve_and_close, args=(conn,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _serve_and_close(self, conn):
        try:
            self.serve(conn)
        except OSError:
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()

    def serve(self, conn):
        raise NotImplementedError

    def stop(self):
        self.stopping.set()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._thread.join(5)
        for thread in self.threads:
            thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class ForwardProxy(LoopbackServer):
    """A recording forward proxy. ``hosts`` maps a host name (or ``name:port``) to a loopback port; a request
    for any other target is answered 502 (and recorded like the others).

    ``requests`` holds one dict per request received: ``method``, ``target`` (as sent: an absolute URL, or
    ``host:port`` for CONNECT) and ``headers`` (``{lower-case name: value}``, as text).
    """

    def __init__(self, hosts=None):
        self.hosts = dict(hosts or {})
        self.requests = []
        super().__init__()

    def _port_of(self, host, port):
        return self.hosts.get("%s:%s" % (host, port), self.hosts.get(host))

    def serve(self, conn):
        data = b""
        while True:
            request = read_request(conn, data)
            if request is None:
                return
            lines, body, data = request
            method, target = lines[0].decode("latin-1").split(" ")[:2]
            headers = {}
            for line in lines[1:]:
                key, dummy, value = line.decode("latin-1").partition(":")
                headers[key.strip().lower()] = value.strip()
            self.requests.append({"method": method, "target": target, "headers": headers})
            if method == "CONNECT":
                self._tunnel(conn, target, data)
                return
            scheme, dummy, rest = target.partition("://")
            authority, slash, path = rest.partition("/")
            host, dummy, port = authority.rpartition(":") if ":" in authority else (authority, "", "80")
            upstream_port = self._port_of(host, port) if scheme == "http" else None
            if upstream_port is None:
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                continue
            forwarded = [b"%s /%s HTTP/1.1" % (method.encode(), path.encode("latin-1"))]
            forwarded += [line for line in lines[1:] if not line.lower().startswith((b"proxy-", b"connection:"))]
            forwarded.append(b"Connection: close")
            with socket.create_connection(("127.0.0.1", upstream_port), timeout=30) as upstream:
                upstream.sendall(b"\r\n".join(forwarded) + b"\r\n\r\n" + body)
                conn.sendall(_read_all(upstream))

    def _tunnel(self, conn, target, early):
        host, dummy, port = target.rpartition(":")
        upstream_port = self._port_of(host, port)
        if upstream_port is None:
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        with socket.create_connection(("127.0.0.1", upstream_port), timeout=30) as upstream:
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            upstream.sendall(early)

            def pipe(source, sink):
                try:
                    while True:
                        chunk = source.recv(65536)
                        if not chunk:
                            break
                        sink.sendall(chunk)
                except OSError:
                    pass
                try:
                    sink.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

            back = threading.Thread(target=pipe, args=(upstream, conn), daemon=True)
            back.start()
            pipe(conn, upstream)
            back.join(30)


def _break(mode, head, body):
    """The broken answer of ``mode`` for the cafe's answer ``head`` (its lines, no final CRLF) and ``body``.

    Returns the bytes to send, and what to do then: ``close``, ``reset`` or ``endless``."""
    lines = head.split(b"\r\n")
    kept = [line for line in lines if not line.lower().startswith((b"content-length:", b"connection:"))]
    if mode == "duplicate-length":
        lines = kept + [b"Content-Length: %d" % len(body), b"Content-Length: %d" % (len(body) + 1)]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body, "close"
    if mode == "bad-status":
        return b"\r\n".join([b"HTTP/1.1 2x0 Broken"] + lines[1:]) + b"\r\n\r\n" + body, "close"
    if mode == "long-header":
        lines = lines[:1] + [b"X-Long: " + b"a" * 70000] + lines[1:]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body, "close"
    if mode == "truncated":  # the body cut in half; an answer without a body, in its head
        whole = head + b"\r\n\r\n" + body
        return whole[: len(whole) - max(1, len(body) // 2) if body else max(1, len(head) // 2)], "close"
    if mode == "reset":
        return b"", "reset"
    if mode == "bad-chunked":
        lines = kept + [b"Transfer-Encoding: chunked"]
        return b"\r\n".join(lines) + b"\r\n\r\n" + b"zz\r\n" + body + b"\r\n0\r\n\r\n", "close"
    if mode == "endless":
        lines = kept + [b"Content-Length: 1000000000000"]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body, "endless"
    raise ValueError("unknown mode %r" % mode)


MODES = ("duplicate-length", "bad-status", "long-header", "truncated", "reset", "bad-chunked", "endless")


class FaultProxy(LoopbackServer):
    """A reverse proxy in front of ``target_port`` that breaks the answers of the requests a rule picks.

    ``break_answers(method, path_prefix='/', mode=..., count=1, corrupt=None, after=0)`` arms a rule: after
    ``after`` of them pass intact, the next ``count`` requests of ``method`` whose path starts with
    ``path_prefix`` reach the cafe whole, and the answer they get is broken as ``mode`` says (see ``MODES``), or
    is ``corrupt(head, body)`` (bytes; ``None`` for a reset).
    ``broken`` lists ``(method, path)`` of each request whose answer was broken; ``seen`` every request.
    """

    def __init__(self, target_port):
        self.target_port = target_port
        self.rules = []
        self.broken = []
        self.seen = []
        super().__init__()

    def break_answers(self, method, path_prefix="/", mode="duplicate-length", count=1, corrupt=None, after=0):
        if corrupt is None and mode not in MODES:
            raise ValueError("unknown mode %r" % mode)
        rule = {"method": method, "prefix": path_prefix, "mode": mode, "count": count, "do": corrupt, "after": after}
        with self._lock:
            self.rules.append(rule)

    def _take_rule(self, method, path):
        with self._lock:
            for rule in self.rules:
                if rule["count"] > 0 and rule["method"] == method and path.startswith(rule["prefix"]):
                    if rule["after"] > 0:
                        rule["after"] -= 1
                        return None
                    rule["count"] -= 1
                    return rule
        return None

    def serve(self, conn):
        data = b""
        while True:
            request = read_request(conn, data)
            if request is None:
                return
            lines, body, data = request
            method, path = lines[0].decode("latin-1").split(" ")[:2]
            self.seen.append((method, path))
            forwarded = [line for line in lines if not line.lower().startswith(b"connection:")]
            forwarded.append(b"Connection: close")
            with socket.create_connection(("127.0.0.1", self.target_port), timeout=30) as upstream:
                upstream.sendall(b"\r\n".join(forwarded) + b"\r\n\r\n" + body)
                answer = _read_all(upstream)
            rule = self._take_rule(method, path)
            if rule is None:
                conn.sendall(answer)
                continue
            self.broken.append((method, path))
            head, dummy, answer_body = answer.partition(b"\r\n\r\n")
            if rule["do"] is not None:
                out = rule["do"](head, answer_body)
                then = "reset" if out is None else "close"
                out = out or b""
            else:
                out, then = _break(rule["mode"], head, answer_body)
            conn.sendall(out)
            if then == "reset":
                _reset(conn)
            elif then == "endless":
                while not self.stopping.is_set():
                    conn.sendall(b"\0" * 65536)
            return
