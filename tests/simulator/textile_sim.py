# Copyright: Contributors to the textileio.textile collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A simulator of the go-textile local REST API, tokens part (test code, not shipped to managed nodes).

It follows ``textile-cafe-api.md``: gin routing (404 body, trailing-slash redirects), the
``X-Textile-Opts`` parsing of ``readOpts``, mr-tron/base58 errors, bcrypt ``$2a$`` hashes, SQLite
storage in ``cafe_tokens``, optional Basic Auth on ``/api/v0``.  A control API under ``/_sim/``
(state, request log, faults, seeding) is not part of go-textile and is never logged or counted.

Run ``python textile_sim.py --help`` for the command line; in Python use ``SimServer`` (in process),
``SimProcess`` (subprocess) and ``SimControl`` (client of the control API).

Control API (JSON, no auth, never faulted, logged or counted):

- ``GET /_sim/state``: ``{"ids": [sorted lowercase hex IDs]}``.
- ``GET /_sim/requests``: one entry per go-textile request, in arrival order: ``method``, ``path`` (decoded;
  a segment that decodes to 12+ bytes is shown as its hex ID), ``status`` (None while in progress or when
  dropped), ``headers`` (``X-Textile-Args`` and ``X-Textile-Opts`` as sent, None when absent, a token-sized
  ``token=`` value shown as ``<redacted>``), ``header_lines`` (every header in order, credentials redacted),
  ``secret_in_path`` (a path segment held a token-sized value with non-zero secret bytes), ``fault`` (the
  action applied, or None). ``DELETE`` clears the log.
- ``POST /_sim/faults`` (see ``Fault``), ``GET /_sim/faults`` (active ones), ``DELETE /_sim/faults``.
- ``POST /_sim/tokens`` ``{"tokens": [...]}``: store tokens directly; ``POST /_sim/reset``: empty everything.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import functools
import hmac
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import bcrypt

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
TOKEN_BYTES = 44
ID_BYTES = 12
DEFAULT_NODE_VERSION = "0.7.8"
DEFAULT_PEER_ID = "12D3KooWSimu1atorPeerXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
DEFAULT_ACCOUNT_ADDRESS = "P4SimulatedAccountAddressXXXXXXXXXXXXXXXXXXXXXXXXX"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

TEXT = "text/plain; charset=utf-8"
JSON = "application/json; charset=utf-8"
NOT_FOUND_BODY = b"404 page not found"
REALM = 'Basic realm="Authorization Required"'

_B58_RUN = re.compile("[%s]{40,}" % ALPHABET)


# --------------------------------------------------------------------------- Go-compatible helpers


class GoError(Exception):
    """An error whose str() is the text go-textile would send."""


def b58encode(data: bytes) -> str:
    """base58 (Bitcoin alphabet) of ``data``, one ``1`` per leading zero byte."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(ALPHABET[rest])
    return "1" * zeros + "".join(reversed(digits))


@functools.lru_cache(maxsize=1 << 16)
def _list_entry(id_hex: str, value: bytes) -> str:
    """A stored token as its list entry, remembered: go-textile encodes a list of 1000 in well under a millisecond,
    the pure-Python encoding in about 30, which a benchmark of the module would otherwise count as its own."""
    return b58encode(hex_decode(id_hex) + value)


def b58decode(text: str) -> bytes:
    """Decode like mr-tron/base58 v1.1.2 FastBase58Decoding, with its error texts."""
    if not text:
        raise GoError("zero length string")
    number = 0
    for char in text:
        if ord(char) > 127:
            raise GoError("High-bit set on invalid digit")
        digit = ALPHABET.find(char)
        if digit < 0:
            raise GoError("Invalid base58 digit (%s)" % go_quote_rune(char))
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + (number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b"")


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _go_escape_char(char: str, quote: str) -> str:
    if char in (quote, "\\"):
        return "\\" + char
    if char in _GO_ESCAPES:
        return _GO_ESCAPES[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an invalid UTF-8 byte (surrogateescape)
        return "\\x%02x" % (code - 0xDC00)
    if char.isprintable():
        return char
    if code < 0x80:
        return "\\x%02x" % code
    return "\\u%04x" % code if code < 0x10000 else "\\U%08x" % code


def go_quote_rune(char: str) -> str:
    """Go's %q of a rune (``strconv.QuoteRune``)."""
    return "'" + _go_escape_char(char, "'") + "'"


def go_quote(raw: bytes) -> str:
    """Go's ``strconv.Quote`` of a byte string."""
    text = raw.decode("utf-8", "surrogateescape")
    return '"' + "".join(_go_escape_char(char, '"') for char in text) + '"'


_HEX = b"0123456789abcdefABCDEF"


def go_unescape(raw: bytes) -> bytes:
    """Go's ``url.PathUnescape`` on bytes: ``+`` stays, a bad escape raises the Go error text."""
    out = bytearray()
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x25:  # '%'
            if i + 2 >= len(raw) or raw[i + 1] not in _HEX or raw[i + 2] not in _HEX:
                raise GoError("invalid URL escape " + go_quote(raw[i : i + 3]))
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(byte)
            i += 1
    return bytes(out)


def read_opts(header: str | None) -> dict:
    """go-textile ``readOpts``: split on ``,``, trim, keep pairs of exactly two ``=`` parts."""
    opts = {}
    for item in (header or "").split(","):
        item = item.strip(" \t\n\r\v\f")
        if not item:
            continue
        parts = item.split("=")
        if len(parts) == 2:
            opts[parts[0]] = go_unescape(parts[1].encode("latin-1")).decode("latin-1")
    return opts


def go_path_clean(path: str) -> str:
    """Go's ``path.Clean``."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(segment)
    cleaned = ("/" if rooted else "") + "/".join(parts)
    return cleaned or ("/" if rooted else ".")


def version_tuple(version: str) -> tuple:
    numbers = re.findall(r"\d+", version.split("-")[0])
    return tuple(int(number) for number in numbers[:3])


def hex_decode(text: str) -> bytes:
    """Go's ``hex.DecodeString`` with its error texts."""
    for char in text:
        if char not in "0123456789abcdefABCDEF":
            raise GoError("encoding/hex: invalid byte: U+%04X %s" % (ord(char), go_quote_rune(char)))
    if len(text) % 2:
        raise GoError("encoding/hex: odd length hex string")
    return bytes.fromhex(text)


# --------------------------------------------------------------------------- redaction


def redact_segment(segment: str) -> str:
    """A path segment that may hold a token, shown as its 24-hex-char ID (never a secret)."""
    try:
        raw = b58decode(segment)
    except GoError:
        return segment if len(segment) < 40 else "<redacted>"
    return raw[:ID_BYTES].hex() if len(raw) >= ID_BYTES else segment


def redact_path(path: str) -> str:
    return "/".join(redact_segment(part) if part else part for part in path.split("/"))


def secret_in_path(path: str) -> bool:
    """True when a segment decodes to a token-sized value whose secret bytes are not all zero."""
    for part in path.split("/"):
        try:
            raw = b58decode(part)
        except GoError:
            continue
        if len(raw) >= TOKEN_BYTES and raw[ID_BYTES:].strip(b"\0"):
            return True
    return False


def redact_opts(header: str | None) -> str | None:
    """``token=<value>`` shown as ``token=<redacted>`` when the value is long enough to hold a token."""
    if header is None:
        return None
    items = []
    for item in header.split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip() == "token" and len(value.strip()) >= 40:
            item = key + "=<redacted>"
        items.append(item)
    return ",".join(items)


SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie")


def redact_header_lines(headers) -> list:
    """All request headers in order as ``[name, value]``, credentials and import tokens redacted."""
    lines = []
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            value = "<redacted>"
        elif name.lower() == "x-textile-opts":
            value = redact_opts(value)
        lines.append([name, redact_text(value)])
    return lines


def redact_text(line: str) -> str:
    """Safety net for every log line: long base58 runs become their ID."""
    return _B58_RUN.sub(lambda match: redact_segment(match.group(0)), line)


# --------------------------------------------------------------------------- storage


class TokenStore:
    """The ``cafe_tokens`` table of go-textile in SQLite (a file, or memory)."""

    SCHEMA = "create table if not exists cafe_tokens (id text primary key not null, token blob not null, date integer not null);"

    def __init__(self, path: str | None = None):
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path or ":memory:", check_same_thread=False, isolation_level=None)
        self._db.execute(self.SCHEMA)

    def add(self, id_hex: str, value: bytes) -> None:
        with self._lock:
            self._db.execute("insert into cafe_tokens(id, token, date) values(?,?,?)", (id_hex, value, time.time_ns()))
        _list_entry(id_hex, value)  # encoded while it is stored, not while a list is timed

    def get(self, id_hex: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("select token from cafe_tokens where id=?", (id_hex,)).fetchone()
        return bytes(row[0]) if row else None

    def delete(self, id_hex: str) -> None:
        with self._lock:
            self._db.execute("delete from cafe_tokens where id=?", (id_hex,))

    def rows(self) -> list:
        with self._lock:
            return [
                (row[0], bytes(row[1]))
                for row in self._db.execute("select id, token from cafe_tokens order by id desc")
            ]

    def clear(self) -> None:
        with self._lock:
            self._db.execute("delete from cafe_tokens")

    def close(self) -> None:
        with self._lock:
            self._db.close()


# --------------------------------------------------------------------------- faults


def token_keys(tokens, name="tokens") -> list:
    """The 44-byte keys of ``tokens`` (a list of base58 strings), or a ValueError naming ``name[i]``."""
    if not isinstance(tokens, list) or not all(isinstance(token, str) for token in tokens):
        raise ValueError("%s must be a list of strings" % name)
    keys = []
    for position, token in enumerate(tokens):
        try:
            key = b58decode(token.strip())
        except GoError:
            raise ValueError("%s[%d] is not base58" % (name, position)) from None
        if len(key) != TOKEN_BYTES:
            raise ValueError("%s[%d] does not decode to 44 bytes" % (name, position))
        keys.append(key)
    return keys


class Fault:
    """One injected fault: ``status`` (answer with ``status``, ``body`` as text and extra ``headers``),
    ``delay`` (wait ``delay`` seconds, then answer normally) or ``drop`` (close the connection without an
    answer), for requests matching ``method`` and ``path`` (exact) or ``path_prefix``, at most ``count``
    times (unlimited when absent), each time with probability ``rate`` (``seed`` makes it repeatable).
    A ``delay`` given with ``status`` or ``drop`` is waited first. The first matching fault applies.
    ``store_first`` (a list of tokens) is stored when the fault fires, before anything else: another writer that
    wins the race against the faulted request, without any timing (``delay`` with no delay answers normally).
    A token of it that is already stored is skipped (that writer lost its race); the request is answered."""

    ACTIONS = ("status", "delay", "drop")

    def __init__(self, spec: dict):
        unknown = set(spec) - {
            "method",
            "path",
            "path_prefix",
            "action",
            "status",
            "body",
            "headers",
            "delay",
            "count",
            "rate",
            "seed",
            "store_first",
        }
        if unknown:
            raise ValueError("unknown fault keys: %s" % ", ".join(sorted(unknown)))
        self.action = spec.get("action")
        if self.action not in self.ACTIONS:
            raise ValueError("action must be one of %s" % ", ".join(self.ACTIONS))
        self.method = spec.get("method")
        self.path = spec.get("path")
        self.path_prefix = spec.get("path_prefix")
        self.status = int(spec.get("status", 503))
        self.body = str(spec.get("body", ""))
        self.headers = {str(name): str(value) for name, value in (spec.get("headers") or {}).items()}
        self.delay = float(spec.get("delay", 0.0))
        self.count = None if spec.get("count") is None else int(spec["count"])
        self.rate = float(spec.get("rate", 1.0))
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be at least 1")
        self._random = random.Random(spec.get("seed"))
        self.store_first = spec.get("store_first") or []
        token_keys(self.store_first, "store_first")  # refused now, not when the fault fires

    def matches(self, method: str, path: str) -> bool:
        return (
            (self.method is None or self.method.upper() == method)
            and (self.path is None or self.path == path)
            and (self.path_prefix is None or path.startswith(self.path_prefix))
        )

    def fire(self) -> bool:
        """Whether this matching request is faulted (uses one of ``count``)."""
        if self.rate < 1.0 and self._random.random() >= self.rate:
            return False
        if self.count is not None:
            self.count -= 1
        return True

    def describe(self) -> dict:
        return {
            "action": self.action,
            "method": self.method,
            "path": self.path,
            "path_prefix": self.path_prefix,
            "status": self.status,
            "delay": self.delay,
            "count": self.count,
            "rate": self.rate,
            "store_first": len(self.store_first),
        }


# --------------------------------------------------------------------------- HTTP handling


class _Drop(Exception):
    """Close the connection without answering."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "go-textile-sim"
    timeout = 120  # an idle keep-alive connection is closed after this
    # Go's net sets TCP_NODELAY on every connection; without it, and with headers and body written apart, each
    # request on a kept-alive connection waits about 40 ms for the client's delayed ACK (textile-cafe-api.md 1.5).
    disable_nagle_algorithm = True
    server: _HTTPServer

    # ---- plumbing

    def log_request(self, code="-", size="-"):  # pylint: disable=unused-argument
        """Access lines are written by ``SimServer.log_access`` (redacted), not by http.server."""

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        self.server.sim.log(redact_text("[SIM] %s %s" % (self.address_string(), format % args)))

    def send_error(self, code, message=None, explain=None):
        """Malformed requests: answer like Go's server (plain text, connection closed)."""
        self.close_connection = True
        body = ("%d %s" % (code, self.responses.get(code, ("",))[0])).encode()
        try:
            self.send_response_only(code)
            self.send_header("Content-Type", TEXT)
            self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(body)))
            self._end_with(body if self.command != "HEAD" else b"")
        except OSError:
            pass

    def _end_with(self, body: bytes) -> None:
        """End the headers and send them with ``body`` in one write, as Go's server does for a small answer."""
        self._headers_buffer.append(b"\r\n" + body)  # pylint: disable=no-member
        self.flush_headers()

    def _respond(self, status: int, body: bytes = b"", content_type: str | None = None, headers=()) -> None:
        self._status = status
        self._finish_entry()
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Date", self.date_time_string())
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        self._end_with(body if status != 204 and self.command != "HEAD" else b"")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        self._status = None
        self._pending = None
        body = self._read_body()
        target = urllib.parse.urlsplit(self.path)
        raw_path = target.path or "/"
        if raw_path == "/_sim" or raw_path.startswith("/_sim/"):
            self._control(raw_path, body)
            return
        try:
            path = go_unescape(raw_path.encode("latin-1")).decode("latin-1")
        except GoError:
            self.send_error(400)
            return
        sim = self.server.sim
        entry = sim.record(self.command, path, self.headers)
        self._pending = (entry, time.monotonic(), path)
        try:
            fault = sim.take_fault(self.command, path)
            entry["fault"] = fault.action if fault is not None else None
            if fault is not None and fault.store_first:
                sim.seed(fault.store_first, racing=True)
            if fault is not None and fault.delay > 0:
                sim.stopping.wait(fault.delay)
            if fault is not None and fault.action == "drop":
                raise _Drop()
            if fault is not None and fault.action == "status":
                self._respond(
                    fault.status,
                    fault.body.encode(),
                    TEXT if fault.status != 204 else None,
                    sorted(fault.headers.items()),
                )
            else:
                self._route(path, target.query)
        except _Drop:
            self._finish_entry()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        finally:
            self._finish_entry()

    def _finish_entry(self) -> None:
        """Record the status and write the access line once, before the answer leaves (so a client that
        reads the request log right after its answer sees it complete)."""
        if self._pending is None:
            return
        entry, started, path = self._pending
        self._pending = None
        entry["status"] = self._status
        self.server.sim.log_access(
            self._status, time.monotonic() - started, self.client_address[0], self.command, path, entry["fault"]
        )

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    # ---- go-textile routes (gin)

    def _route(self, path: str, query: str) -> None:
        sim = self.server.sim
        handler, param = sim.match(self.command, path)
        if handler is None:
            if path != "/" and len(path) > 1 and path.endswith("/") and sim.match(self.command, path[:-1])[0]:
                self._redirect_trailing_slash(path, query)
            else:
                self._respond(404, NOT_FOUND_BODY, "text/plain")
            return
        if path.startswith("/api/v0/") and not sim.authorized(self.headers.get("Authorization")):
            self._respond(401, headers=[("Www-Authenticate", REALM)])
            return
        handler(self, param)

    def _redirect_trailing_slash(self, path: str, query: str) -> None:
        """gin's redirectTrailingSlash through Go's http.Redirect: 301 for GET, 307 otherwise.

        gin 1.4.0 (go-textile 0.7.8) puts a cleaned ``X-Forwarded-Prefix`` in front; gin 1.3.0 does not."""
        prefix = go_path_clean(self.headers.get("X-Forwarded-Prefix") or "")
        if prefix != "." and self.server.sim.gin_forwarded_prefix:
            path = prefix + "/" + path
        new_path = path[:-1]
        location = urllib.parse.quote(new_path.encode("latin-1"), safe="/$&+,:;=@~")
        if not location.startswith("/"):  # http.Redirect resolves it against the (rewritten) request path
            location = new_path.rpartition("/")[0] + "/" + location if "/" in new_path else location
        trailing = location.endswith("/")
        location = go_path_clean(location)
        if trailing and not location.endswith("/"):
            location += "/"
        if query:
            location += "?" + query
        if self.command == "GET":
            escaped = (
                location.replace("&", "&amp;")
                .replace("<", "&lt;")
                .replace(">", "&gt;")
                .replace('"', "&#34;")
                .replace("'", "&#39;")
            )
            body = ('<a href="%s">Moved Permanently</a>.\n\n' % escaped).encode()
            self._respond(301, body, "text/html; charset=utf-8", [("Location", location)])
        else:
            self._respond(307, headers=[("Location", location)])

    def h_root(self, _param):
        version = json.dumps(
            {"cafe_version": "v0", "node_version": self.server.sim.node_version}, separators=(",", ":")
        )
        self._respond(200, version.encode(), JSON)

    def h_health(self, _param):
        self._respond(204)

    def h_summary(self, _param):
        summary = {"id": DEFAULT_PEER_ID, "address": self.server.sim.account_address}
        self._respond(200, json.dumps(summary, separators=(",", ":")).encode(), "application/json")

    def h_account_address(self, _param):
        self._respond(200, self.server.sim.account_address.encode(), TEXT)

    def h_ipfs_id(self, _param):
        self._respond(200, DEFAULT_PEER_ID.encode(), TEXT)

    def h_create(self, _param):
        try:
            opts = read_opts(self.headers.get("X-Textile-Opts"))
        except GoError as err:
            self._respond(500, str(err).encode(), TEXT)
            return
        try:
            token = self.server.sim.create_token(opts.get("token", ""), opts.get("store") == "true")
        except GoError as err:
            self._respond(400, str(err).encode(), TEXT)
            return
        self._respond(201, token.encode(), TEXT)

    def h_list(self, _param):
        try:
            entries = self.server.sim.list_entries()
        except GoError as err:
            self._respond(500, str(err).encode(), TEXT)
            return
        self._respond(200, json.dumps(entries, separators=(",", ":")).encode(), JSON)

    def h_validate(self, token):
        if self.server.sim.validate_token(token):
            self._respond(200, b"ok", TEXT)
        else:
            self._respond(401, b"invalid credentials", TEXT)

    def h_remove(self, token):
        try:
            self.server.sim.remove_token(token)
        except GoError as err:
            self._respond(500, str(err).encode(), TEXT)
            return
        self._respond(204)

    # ---- control API

    def _control(self, path: str, body: bytes) -> None:
        sim = self.server.sim
        try:
            payload = json.loads(body) if body else {}
            result = sim.handle_control(self.command, path, payload)
        except (ValueError, TypeError, KeyError) as err:
            self._respond(400, json.dumps({"error": str(err)}).encode(), JSON)
            return
        if result is None:
            self._respond(404, json.dumps({"error": "unknown control route"}).encode(), JSON)
        elif result == 204:
            self._respond(204)
        else:
            self._respond(200, json.dumps(result).encode(), JSON)


ROUTES = [
    ("GET", "/", _Handler.h_root),
    ("GET", "/health", _Handler.h_health),
    ("GET", "/api/v0/summary", _Handler.h_summary),
    ("GET", "/api/v0/account/address", _Handler.h_account_address),
    ("GET", "/api/v0/ipfs/id", _Handler.h_ipfs_id),
    ("POST", "/api/v0/tokens", _Handler.h_create),
    ("GET", "/api/v0/tokens", _Handler.h_list),
    ("GET", "/api/v0/tokens/:token", _Handler.h_validate),
    ("DELETE", "/api/v0/tokens/:token", _Handler.h_remove),
]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    sim: SimServer

    def finish_request(self, request, client_address):
        """Run the TLS handshake in the connection's thread, so a slow client blocks nobody."""
        conn = request
        self.sim.track(conn, True)
        try:
            if self.sim.ssl_context is not None:
                request.settimeout(10)
                conn = self.sim.ssl_context.wrap_socket(request, server_side=True)
                self.sim.track(conn, True)
            self.RequestHandlerClass(conn, client_address, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            self.sim.track(request, False)
            if conn is not request:
                self.sim.track(conn, False)
                conn.close()

    def handle_error(self, request, client_address):
        """Connection errors (client went away, TLS refused) are normal in tests: stay quiet."""
        error = sys.exc_info()[1]
        if not isinstance(error, (OSError, ssl.SSLError)):
            self.sim.log("[SIM] error in request handler: %s" % redact_text(repr(error)))


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class SimServer:
    """The simulator in this process: ``start()``, ``stop()``, ``url``, ``port``, ``control`` (a
    ``SimControl``, once started), context manager."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        port_file: str | None = None,
        db: str | None = None,
        bcrypt_cost: int = 10,
        username: str | None = None,
        password: str | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        node_version: str = DEFAULT_NODE_VERSION,
        log_stream=None,
    ):
        if host not in LOOPBACK_HOSTS:
            raise ValueError("the simulator binds to loopback only (127.0.0.1, localhost or ::1)")
        if not 4 <= int(bcrypt_cost) <= 31:
            raise ValueError("bcrypt cost must be between 4 and 31")
        if bool(username) != bool(password):
            raise ValueError("Basic Auth needs both username and password")
        if bool(tls_cert) != bool(tls_key):
            raise ValueError("TLS needs both tls_cert and tls_key")
        self.host = host
        self.requested_port = int(port)
        self.port_file = port_file
        self.bcrypt_cost = int(bcrypt_cost)
        self.node_version = node_version
        # go-textile 0.7.8 is built with gin 1.4.0, the first to honour X-Forwarded-Prefix in redirects
        self.gin_forwarded_prefix = version_tuple(node_version) >= (0, 7, 8) or not version_tuple(node_version)
        self.account_address = username or DEFAULT_ACCOUNT_ADDRESS
        self._auth = None
        if password:
            # gin builds the header it expects from Go strings, which are UTF-8, and compares it whole.
            self._auth = "Basic " + base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode()
        self.ssl_context = None
        if tls_cert:
            self.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ssl_context.load_cert_chain(tls_cert, tls_key)
        self.store = TokenStore(db)
        self.log_stream = log_stream
        self.log_lines: list = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._faults: list = []
        self._requests: list = []
        self._connections: set = set()
        self._routes = [(method, pattern.split("/"), handler) for method, pattern, handler in ROUTES]
        self._httpd = None
        self._thread = None
        self.control = None  # a SimControl once started

    # ---- lifecycle

    @property
    def port(self) -> int:
        return self._httpd.server_address[1] if self._httpd else self.requested_port

    @property
    def url(self) -> str:
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s://%s:%d" % ("https" if self.ssl_context else "http", host, self.port)

    def start(self) -> SimServer:
        server_class = _HTTPServer6 if ":" in self.host else _HTTPServer
        self._httpd = server_class((self.host, self.requested_port), _Handler)
        self._httpd.sim = self
        if self.port_file:
            partial = self.port_file + ".tmp"
            with open(partial, "w", encoding="ascii") as handle:
                handle.write("%d\n" % self.port)
            os.replace(partial, self.port_file)
        self.control = SimControl(self.url)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="textile-sim", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._httpd.server_close()
        self._thread.join()
        self._httpd = None
        self.store.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def track(self, conn, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # ---- logging and the request log

    def log(self, line: str) -> None:
        line = redact_text(line)
        with self._lock:
            self.log_lines.append(line)
        if self.log_stream is not None:
            self.log_stream.write(line + "\n")
            self.log_stream.flush()

    def log_access(self, status, seconds, client, method, path, fault) -> None:
        now = datetime.datetime.now().strftime("%Y/%m/%d - %H:%M:%S")
        shown = "-" if status is None else status
        extra = " (fault: %s)" % fault if fault else ""
        self.log(
            "[GIN] %s | %3s | %12.6fms | %15s | %-7s %s%s"
            % (now, shown, seconds * 1000, client, method, redact_path(path), extra)
        )

    def record(self, method: str, path: str, headers) -> dict:
        entry = {
            "method": method,
            "path": redact_path(path),
            "status": None,
            "headers": {
                "X-Textile-Args": headers.get("X-Textile-Args"),
                "X-Textile-Opts": redact_opts(headers.get("X-Textile-Opts")),
            },
            "secret_in_path": secret_in_path(path),
            "fault": None,
            "header_lines": redact_header_lines(headers),
        }
        with self._lock:
            self._requests.append(entry)
        return entry

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path) and fault.fire():
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # ---- go-textile behaviour

    def match(self, method: str, path: str):
        parts = path.split("/")
        for route_method, pattern, handler in self._routes:
            if route_method != method or len(pattern) != len(parts):
                continue
            param = None
            for want, got in zip(pattern, parts):
                if want.startswith(":") and got:
                    param = got
                elif want != got:
                    break
            else:
                return handler, param
        return None, None

    def authorized(self, header: str | None) -> bool:
        return self._auth is None or (
            header is not None and hmac.compare_digest(header.encode("latin-1"), self._auth.encode("ascii"))
        )

    def _hash(self, secret: bytes) -> bytes:
        return bcrypt.hashpw(secret, bcrypt.gensalt(rounds=self.bcrypt_cost, prefix=b"2a"))

    def create_token(self, token: str, store: bool) -> str:
        """go-textile ``CreateCafeToken``: decode or generate, hash, store only when asked."""
        if token:
            key = b58decode(token)
            if len(key) != TOKEN_BYTES:
                raise GoError("invalid token format")
        else:
            key = os.urandom(TOKEN_BYTES)
        value = self._hash(key[ID_BYTES:])
        if store:
            try:
                self.store.add(key[:ID_BYTES].hex(), value)
            except sqlite3.Error as err:
                raise GoError(str(err)) from None
        return b58encode(key)

    def list_entries(self) -> list:
        return [_list_entry(id_hex, value) for id_hex, value in self.store.rows()]

    def validate_token(self, token: str) -> bool:
        try:
            plain = b58decode(token)
        except GoError:
            return False
        if len(plain) < TOKEN_BYTES:
            return False
        value = self.store.get(plain[:ID_BYTES].hex())
        if value is None:
            return False
        try:
            # Go's bcrypt reads at most 72 key bytes; python-bcrypt refuses longer input instead.
            return bcrypt.checkpw(plain[ID_BYTES:][:72], value)
        except ValueError:
            return False

    def remove_token(self, token: str) -> None:
        plain = b58decode(token)
        if len(plain) < TOKEN_BYTES:
            raise GoError("invalid token format")
        self.store.delete(plain[:ID_BYTES].hex())

    # ---- control API

    def state_ids(self) -> list:
        return sorted(id_hex for id_hex, _value in self.store.rows())

    def seed(self, tokens, racing: bool = False) -> list:
        """Store ``tokens``; a token already stored is an error, unless ``racing`` (a fault's ``store_first``,
        another writer whose insert lost to the one it races: it stores nothing and the request goes on)."""
        ids = []
        for position, key in enumerate(token_keys(tokens)):
            try:
                self.store.add(key[:ID_BYTES].hex(), self._hash(key[ID_BYTES:]))
            except sqlite3.Error as err:
                if not racing:
                    raise ValueError("tokens[%d]: %s" % (position, err)) from None
            ids.append(key[:ID_BYTES].hex())
        return ids

    def reset(self) -> None:
        self.store.clear()
        with self._lock:
            self._requests.clear()
            self._faults.clear()

    def handle_control(self, method: str, path: str, payload):
        """One control call; returns a JSON-able result, 204 for "no content", None for unknown."""
        if (method, path) == ("GET", "/_sim/state"):
            return {"ids": self.state_ids()}
        if (method, path) == ("GET", "/_sim/requests"):
            with self._lock:
                return [
                    dict(entry, headers=dict(entry["headers"]), header_lines=list(entry["header_lines"]))
                    for entry in self._requests
                ]
        if (method, path) == ("DELETE", "/_sim/requests"):
            with self._lock:
                self._requests.clear()
            return 204
        if (method, path) == ("GET", "/_sim/faults"):
            with self._lock:
                return [fault.describe() for fault in self._faults]
        if (method, path) == ("POST", "/_sim/faults"):
            if not isinstance(payload, dict):
                raise ValueError("a fault is a JSON object")
            fault = Fault(payload)
            with self._lock:
                self._faults.append(fault)
            return fault.describe()
        if (method, path) == ("DELETE", "/_sim/faults"):
            with self._lock:
                self._faults.clear()
            return 204
        if (method, path) == ("POST", "/_sim/tokens"):
            return {"ids": self.seed(payload.get("tokens") if isinstance(payload, dict) else None)}
        if (method, path) == ("POST", "/_sim/reset"):
            self.reset()
            return 204
        return None


# --------------------------------------------------------------------------- control client and subprocess


def closed_port(host: str = "127.0.0.1") -> int:
    """A loopback port nobody listens on (bound, then released), for tests of a refused connection."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class SimControl:
    """Python client of the control API (stdlib only)."""

    def __init__(self, url: str, cafile: str | None = None, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        context = None
        if self.url.startswith("https:"):
            context = ssl.create_default_context(cafile=cafile) if cafile else ssl._create_unverified_context()
        # Straight to the simulator, whatever proxy variables a test puts in the environment.
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )

    def _call(self, method: str, path: str, payload=None):
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as err:
            raise RuntimeError(
                "simulator control %s %s failed: %s %s" % (method, path, err.code, err.read().decode())
            ) from None
        return json.loads(body) if body else None

    def state_ids(self) -> list:
        return self._call("GET", "/_sim/state")["ids"]

    def requests(self) -> list:
        return self._call("GET", "/_sim/requests")

    def clear_requests(self) -> None:
        self._call("DELETE", "/_sim/requests")

    def faults(self) -> list:
        return self._call("GET", "/_sim/faults")

    def add_fault(self, **spec) -> dict:
        return self._call("POST", "/_sim/faults", spec)

    def clear_faults(self) -> None:
        self._call("DELETE", "/_sim/faults")

    def seed(self, tokens) -> list:
        return self._call("POST", "/_sim/tokens", {"tokens": list(tokens)})["ids"]

    def reset(self) -> None:
        self._call("POST", "/_sim/reset")


def _command_line(options: dict) -> list:
    argv = []
    for name, value in options.items():
        if value is None or value is False:
            continue
        argv += ["--" + name.replace("_", "-"), str(value)]
    return argv


class SimProcess:
    """The command line in a subprocess on a free port; started on construction.

    ``url``, ``port``, ``control`` (a ``SimControl``), ``log_text()`` (its stdout and stderr), ``stop()``,
    context manager. ``cafile`` is only used by ``control`` for https."""

    def __init__(self, startup_timeout: float = 30.0, cafile: str | None = None, **options):
        unknown = set(options) - set(_OPTION_NAMES)
        if unknown:
            raise TypeError("unknown simulator options: %s" % ", ".join(sorted(unknown)))
        self._dir = tempfile.mkdtemp(prefix="textile-sim-")
        self._log_path = os.path.join(self._dir, "sim.log")
        self._log_cache = None
        options = dict(options, port_file=options.get("port_file") or os.path.join(self._dir, "port"))
        self._port_file = options["port_file"]
        self.options = options
        self.tls = bool(options.get("tls_cert"))
        with open(self._log_path, "wb") as log:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                [sys.executable, os.path.abspath(__file__), "--exit-with-parent"] + _command_line(options),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self.port = self._wait_for_port(startup_timeout)
        except Exception:
            self.stop()
            raise
        host = options.get("host") or "127.0.0.1"
        host = "[%s]" % host if ":" in host else host
        self.url = "%s://%s:%d" % ("https" if self.tls else "http", host, self.port)
        self.control = SimControl(self.url, cafile=cafile)

    def _wait_for_port(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("simulator exited with %s: %s" % (self.process.returncode, self.log_text()))
            if os.path.exists(self._port_file):
                with open(self._port_file, encoding="ascii") as handle:
                    port = int(handle.read().strip())
                with socket.create_connection((self.options.get("host") or "127.0.0.1", port), timeout=5):
                    return port
            time.sleep(0.02)
        raise RuntimeError("simulator did not start within %s s: %s" % (timeout, self.log_text()))

    def log_text(self) -> str:
        if self._log_cache is not None:
            return self._log_cache
        with open(self._log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log_cache is None and os.path.isdir(self._dir):
            self._log_cache = self.log_text()
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


_OPTION_NAMES = (
    "host",
    "port",
    "port_file",
    "db",
    "bcrypt_cost",
    "username",
    "password",
    "tls_cert",
    "tls_key",
    "node_version",
)


def main(argv=None) -> int:
    # Read before the port file is written: a parent that dies once it has the port must be noticed.
    parent = os.getppid()
    parser = argparse.ArgumentParser(description="go-textile tokens API simulator (tests only)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=0, help="port (0: a free one)")
    parser.add_argument("--port-file", help="write the port here once listening")
    parser.add_argument("--db", help="SQLite file (default: in memory)")
    parser.add_argument("--bcrypt-cost", type=int, default=10)
    parser.add_argument("--username", help="Basic Auth user on /api/v0 (the account address)")
    parser.add_argument("--password", help="Basic Auth password (the daemon pin)")
    parser.add_argument("--tls-cert", help="PEM certificate chain: serve https")
    parser.add_argument("--tls-key", help="PEM private key")
    parser.add_argument("--node-version", default=DEFAULT_NODE_VERSION)
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when the parent process goes away (used by SimProcess, so no simulator outlives its test)",
    )
    args = parser.parse_args(argv)
    try:
        server = SimServer(log_stream=sys.stderr, **{name: getattr(args, name) for name in _OPTION_NAMES})
        server.start()
    except (ValueError, OSError, ssl.SSLError) as err:
        parser.error(str(err))
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: done.set())
    # One write, like the log lines: print() writes the line and its end apart, and an access line of a client
    # that did not wait for this one could land between them.
    sys.stdout.write("listening on %s\n" % server.url)
    sys.stdout.flush()
    while not done.wait(1.0 if args.exit_with_parent else None):
        if os.getppid() != parent:
            break
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
