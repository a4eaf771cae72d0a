# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to this collection: it is not part of its public API
# and may change without notice.

"""The one HTTP client of the go-textile local REST API and the one error type.

``TextileAPI`` mirrors the send helpers of the JavaScript client that a module needs; the two no
module uses (``send_post_multipart``, ``send_post_cancelable``) are added by ``ExtendedTextileAPI``
in ``_client_extras.py``, so that a module does not carry them. ``Tokens`` is the Cafe
access-token API on top of it. ``TextileError`` never holds a URL, a request header, the text
of a ``requests`` exception or the body of a list answer; token path segments are shown as
their ID.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import re
import socket
import ssl
import threading
import time
import traceback
from typing import Any, Collection, Mapping, Sequence
from urllib.parse import quote, urlsplit
from urllib.request import getproxies_environment

from ansible_collections.textileio.textile.plugins.module_utils._token_format import (
    ALPHABET,
    TokenFormatError,
    id_path_segment,
    is_id,
    parse_list_entry,
    parse_token,
    redact,
    token_id,
)
from ansible_collections.textileio.textile.plugins.module_utils._transport import Watch, watching_adapter

REQUESTS_IMPORT_ERROR: str | None = None
try:
    import requests
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True

RETRY_STATUSES = (502, 503, 504)
RETRY_KINDS = ('connection', 'timeout')  # not 'unbuildable': a request that cannot be built never will be
DEFAULT_API_URL = 'http://127.0.0.1:40600'  # go-textile's API address
MAX_RETRIES = 10
MAX_BACKOFF = 8.0  # seconds: the wait before a retry doubles from 0.5 s up to this
MAX_CONNECTIONS = 16  # kept alive per host: as many as requests a module may have in flight at once
MAX_BODY = 16 * 1024 * 1024  # bytes of an answer read at most (a list of 100,000 tokens is about 10 MiB)
SERVER_TEXT_LIMIT = 300  # characters of the server's text a message quotes
SERVER_TEXT_READ = 65536  # characters of an error answer looked at to find them
HIDDEN_MIN_CHARS = 4  # a credential shorter than this is not searched for in the server's text


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` names this machine (``localhost`` or a loopback address)."""
    if not host or host.lower() == 'localhost' or host.lower().endswith('.localhost'):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def environment_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url``: ``HTTPS_PROXY`` or ``HTTP_PROXY`` (either case) for its
    scheme, unless ``NO_PROXY`` (either case) excludes its host; never for a loopback host. A value without a
    scheme is taken as ``http://``, as curl and requests take it. Raises ValueError, naming the variables and
    never the value (it may hold the proxy's credentials), when the value is not a proxy URL."""
    parts = urlsplit(url)
    if is_loopback(parts.hostname):
        return None
    proxy = getproxies_environment().get(parts.scheme, '').strip()
    if not proxy or requests.utils.should_bypass_proxies(url, no_proxy=None):
        return None
    proxy = proxy if '://' in proxy else f'http://{proxy}'
    try:
        proxy_url = urlsplit(proxy)
        usable = proxy_url.scheme in ('http', 'https') and bool(proxy_url.hostname) and proxy_url.port != 0
    except ValueError:  # a port that is not a number from 0 to 65535, a bracketed host that is no IPv6 address
        usable = False
    if not usable or any(char.isspace() or not char.isprintable() for char in proxy):
        raise ValueError(
            f'use_proxy: the proxy the environment names for {parts.scheme} ({parts.scheme.upper()}_PROXY or '
            f'{parts.scheme}_proxy) is not an http:// or https:// URL with a host and a port from 1 to 65535; '
            'fix it, or set use_proxy to false.'
        )
    return proxy


class TextileError(Exception):
    """A request to the node failed; ``str(err)`` says what to do about it."""

    def __init__(
        self,
        message: str,
        kind: str = 'http',
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        server_text: str | None = None,
        exc_class: str | None = None,
        sent: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.method = method
        self.path = path
        self.status = status
        self.server_text = server_text
        self.exc_class = exc_class
        self.sent = sent

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f'TextileError(kind={self.kind!r}, method={self.method!r}, path={self.path!r}, '
            f'status={self.status!r}, exc_class={self.exc_class!r}, sent={self.sent!r})'
        )


def _encode(value: object) -> str:
    """One X-Textile-* value, percent-encoded like encodeURIComponent; booleans as true/false."""
    if isinstance(value, bool):
        value = 'true' if value else 'false'
    return quote('' if value is None else str(value), safe='')


def textile_headers(args: Sequence[object] | None = None, opts: Mapping[str, object] | None = None) -> dict[str, str]:
    """The X-Textile-Args and X-Textile-Opts headers, both always present (empty when unused)."""
    return {
        'X-Textile-Args': ','.join(_encode(arg) for arg in args or ()),
        'X-Textile-Opts': ','.join(f'{key}={_encode(value)}' for key, value in (opts or {}).items()),
    }


# Tags of an HTML page: ``<`` then a letter, ``/``, ``!`` or ``?``, up to the next ``>`` (never past another
# ``<``, so the match stays linear).
_TAG = re.compile(r'<[A-Za-z/!?][^<>]*>')
# Elements whose content is not the page's words: the head (its title repeats the heading), styles, scripts.
_UNSHOWN = re.compile(r'<(head|title|style|script)\b[^<>]*>', re.IGNORECASE)
_UNSHOWN_END = {name: re.compile(f'</{name}\\b', re.IGNORECASE) for name in ('head', 'title', 'style', 'script')}


def _drop_unshown(text: str) -> str:
    """``text`` without the content of its head, title, style and script elements. Linear: each search starts
    where the last one ended, and an element that is never closed is searched for only once."""
    kept: list[str] = []
    position, unclosed = 0, set()
    while True:
        start = _UNSHOWN.search(text, position)
        if start is None:
            return ''.join(kept) + text[position:]
        kept.append(text[position : start.start()] + ' ')
        name = start.group(1).lower()
        end = None if name in unclosed else _UNSHOWN_END[name].search(text, start.end())
        if end is None:
            unclosed.add(name)  # no end tag after this one, so none after any later one either
            position = start.end()
        else:
            position = end.start()


def credential_forms(username: str | None, password: str | None, headers: Mapping[str, object] | None) -> set[str]:
    """What the client's requests carry that a server could echo back: the password, the Basic Auth header's
    base64 of the UTF-8 bytes of ``username:password`` and the values of the extra headers.
    Values shorter than ``HIDDEN_MIN_CHARS`` are left out (they would hide ordinary words; Ansible masks them)."""
    values = {str(value) for value in (headers or {}).values()}
    if username is not None:
        raw = f'{username}:{password or ""}'.encode('utf-8')  # as the client sends it
        values.update((password or '', base64.b64encode(raw).decode('ascii')))
    return {value for value in values if len(value) >= HIDDEN_MIN_CHARS}


def _fold(text: str) -> str:
    """Whitespace and control characters folded into single spaces, no space at either end."""
    return ' '.join(''.join(char if char.isprintable() else ' ' for char in text).split())


def _hide(text: str, values: Collection[str]) -> str:
    """Every occurrence of each value (longest first) replaced with a mark."""
    for value in sorted(values, key=len, reverse=True):
        if value:
            text = text.replace(value, ' [redacted] ')
    return text


def server_words(text: str, limit: int = SERVER_TEXT_LIMIT, hidden: Collection[str] = ()) -> str:
    """The server's text fit for one line of a message: every value of ``hidden`` (``credential_forms``)
    replaced, tags stripped (and the content of the head, title, style and script elements, which is not the
    page's words: a title repeats the heading), whitespace and control characters folded into single spaces,
    the values of ``hidden`` replaced again as folding shows them, every token redacted, then cut to at most ``limit``
    characters between words (in that order, so a cut never shows part of a token)."""
    if hidden:
        # before the tags go (a value may hold < and >), on what is looked at plus the longest value
        text = _hide(text[: SERVER_TEXT_READ + max(map(len, hidden))], hidden)
    if len(text) > SERVER_TEXT_READ:
        text = text[:SERVER_TEXT_READ].rstrip(ALPHABET)  # a base58 run this cut split: drop it, whatever its length
    text = _fold(_TAG.sub(' ', _drop_unshown(text)))
    if hidden:
        # 'a  b' or 'a<i>b' folded into the form of a value
        text = _fold(_hide(text, {_fold(value) for value in hidden if len(_fold(value)) >= HIDDEN_MIN_CHARS}))
    text = redact(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 3]
    if text[limit - 3] != ' ':
        cut = cut.rpartition(' ')[0]  # the last word, cut short (an ID, a mark), goes whole
    return cut + '...'


def redact_path(path: str) -> str:
    """The path with token segments shown as their ID, and any other segment after ``tokens/`` hidden."""
    segments = redact(path).split('/')
    for index in range(1, len(segments)):
        if segments[index - 1] == 'tokens' and segments[index] and not is_id(segments[index]):
            segments[index] = '<redacted>'
    return '/'.join(segments)


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and everything it wraps (urllib3 reasons, causes, contexts, first args)."""
    seen: list[BaseException] = []
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or any(item is done for done in seen):
            continue
        seen.append(item)
        todo.extend([getattr(item, 'reason', None), item.__cause__, item.__context__] + list(item.args[:1]))
    return seen


def _has(causes: list[BaseException], *types: type) -> bool:
    return any(isinstance(cause, types) for cause in causes)


class TextileAPI:
    """Send helpers for ``<api_url>/api/<api_version>/``, one ``requests.Session`` per instance."""

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        api_version: str = 'v0',
        username: str | None = None,
        password: str | None = None,
        validate_certs: bool = True,
        ca_path: str | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        headers: Mapping[str, object] | None = None,
        use_proxy: bool = False,
    ) -> None:
        api_url = (api_url or '').strip()
        parts = urlsplit(api_url)
        if parts.scheme not in ('http', 'https') or not parts.hostname:
            raise ValueError('api_url must be an http:// or https:// URL with a host name')
        self.api_url = api_url.rstrip('/')
        self.api_version = (api_version or 'v0').strip('/')
        self.host = f'[{parts.hostname}]' if ':' in parts.hostname else parts.hostname
        self.endpoint = f'{self.host}:{parts.port or (443 if parts.scheme == "https" else 80)}'
        self.username = username
        self.timeout = timeout
        self.retries = min(MAX_RETRIES, max(0, int(retries or 0)))
        self.request_count = 0
        self.sleep = time.sleep
        self._lock = threading.Lock()
        if not HAS_REQUESTS:
            raise RuntimeError('The Python library requests is needed to talk to a Textile node.')
        self.session = requests.Session()
        # The environment configures nothing: no proxy variables, no ~/.netrc, no REQUESTS_CA_BUNDLE. A proxy is
        # used only when the caller asks for the environment's (use_proxy), and never for loopback.
        self.session.trust_env = False
        self.proxy = environment_proxy(api_url) if use_proxy else None
        if self.proxy:
            self.session.proxies = {parts.scheme: self.proxy}
        adapter = watching_adapter(MAX_CONNECTIONS)
        self.session.mount('http://', adapter)
        self.session.mount('https://', adapter)
        self.session.headers.update({str(name): str(value) for name, value in (headers or {}).items()})
        if username is not None:
            # The UTF-8 bytes of user:password, as gin compares them (requests would send text as latin-1).
            self.session.auth = requests.auth.HTTPBasicAuth(username.encode('utf-8'), (password or '').encode('utf-8'))
        # a server that echoes the request (its Authorization header, say) must not put them into a message
        self.hidden = credential_forms(username, password, headers)
        self.session.verify = ca_path if validate_certs and ca_path else validate_certs
        if client_cert:
            self.session.cert = (client_cert, client_key) if client_key else client_cert

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()

    # URLs and errors

    def url(self, path: str) -> str:
        """The full URL of ``path``: relative to the API root, or to api_url when it starts with ``/``."""
        if path.startswith('/'):
            return self.api_url + '/' + path.strip('/')
        return f'{self.api_url}/api/{self.api_version}/{path.rstrip("/")}'

    def make_error(self, message: str, method: str, url: str, **kwargs: Any) -> TextileError:
        """A TextileError for a request to ``url``: the message starts with the method and the redacted path."""
        path = redact_path(urlsplit(url).path)
        return TextileError(f'{method} {path}: {message}', method=method, path=path, **kwargs)

    def _exception_error(self, exc: Exception, method: str, url: str, watch: Watch) -> TextileError:
        """A TextileError for a failed attempt, built without the exception's text.

        Whether the request was sent is the phase it failed in (``watch.phase``), never the exception's class: a
        request is sent once a byte of it went out, and a failure after that (a reset, a malformed or cut answer)
        leaves its outcome unknown. The exception only tells which words explain the failure."""
        causes = _causes(exc)
        where = f'{self.endpoint} (through the proxy of the environment)' if self.proxy else self.endpoint
        phase = watch.phase
        sent = phase in ('sending', 'reading')
        timed_out = watch.stopped == 'timeout' or _has(causes, requests.exceptions.Timeout, socket.timeout)
        if watch.stopped == 'cancelled':
            kind = 'cancelled'
            text = 'The request was cancelled before the node answered; it may or may not have been carried out.'
        elif phase == 'building':
            kind = 'unbuildable'
            text = 'The request could not be built: check api_url and headers.'
        elif sent:
            if timed_out:
                kind = 'timeout'
                text = (
                    f'No complete answer from {where} within {self.timeout} s: the node is busy or hung, or '
                    'answers too slowly; check the daemon or raise timeout.'
                )
            elif _has(causes, ssl.SSLError):
                kind = 'tls'
                text = (
                    f'TLS with {where} failed after the request was sent: check that client_cert and client_key '
                    'are right (with TLS 1.3 a server refuses a client certificate only then).'
                )
            else:
                kind = 'connection'
                text = (
                    f'The connection to {where} failed, or its answer was cut off or malformed, after the request '
                    'was sent: the node may have carried it out. Check that the daemon is running, that api_url '
                    'points to it, and anything in between.'
                )
        elif timed_out:
            kind = 'timeout'
            text = f'Timed out after {self.timeout} s connecting to {where}: is the host reachable and api_url right?'
        elif _has(causes, ssl.SSLError):
            kind = 'tls'
            if _has(causes, ssl.SSLCertVerificationError):
                text = (
                    f'TLS certificate verification of {where} failed: set ca_path to the CA that signed '
                    'the server certificate, or validate_certs to false if you trust this network.'
                )
            else:
                text = (
                    f'TLS handshake with {where} failed: check that the server speaks https on this port '
                    'and that client_cert and client_key are right.'
                )
        elif _has(causes, socket.gaierror):
            kind = 'dns'
            text = (
                'The host name of the proxy the environment names (use_proxy) does not resolve: check it and DNS.'
                if self.proxy
                else f'The host name in api_url ({self.host}) does not resolve: check api_url and DNS.'
            )
        elif _has(causes, ConnectionRefusedError):
            kind = 'connection'
            text = f'Connection refused by {where}: is the Textile daemon running, and is api_url right?'
        else:
            kind = 'connection'
            text = f'Could not connect to {where}: check api_url and that the host is reachable.'
        return self.make_error(text, method, url, kind=kind, exc_class=type(exc).__name__, sent=sent)

    def _status_error(self, response: requests.Response, method: str, url: str) -> TextileError:
        status = response.status_code
        text = server_words(_text(response), hidden=self.hidden)
        said = f': "{text}"' if text else ''
        if status == 401 and 'WWW-Authenticate' in response.headers:
            kind = 'basic_auth'
            if self.username is None:
                message = 'The node requires Basic Auth (HTTP 401): set api_username and api_password.'
            else:
                message = (
                    'Basic Auth failed (HTTP 401): check api_username and api_password (the account '
                    'address and the daemon pin).'
                )
        elif status == 401:
            kind = 'invalid_token'
            message = f'The node rejected the token (HTTP 401{said}): it is not valid on this node.'
        elif status == 404:
            kind = 'not_found'
            message = (
                f'Not found (HTTP 404{said}): check api_url (the local API of go-textile listens on port '
                '40600) and api_version.'
            )
        elif status == 400:
            kind = 'bad_request'
            message = f'The node rejected the request (HTTP 400){said}.'
        elif status >= 500:
            kind = 'server_error'
            message = f'The node failed (HTTP {status}){said}; check the daemon and its log.'
        elif 300 <= status < 400:
            kind = 'http'
            message = f'The server redirected the request (HTTP {status}): check the scheme, host and path of api_url.'
        else:
            kind = 'http'
            message = f'Unexpected answer (HTTP {status}){said}.'
        return self.make_error(message, method, url, kind=kind, status=status, server_text=text)

    # Sending

    def _count(self) -> None:
        with self._lock:
            self.request_count += 1

    def _send_once(
        self, method: str, url: str, headers: dict[str, str], body: dict[str, Any], watch: Watch | None = None
    ) -> requests.Response:
        """One attempt. ``timeout`` bounds it as a whole (connect, headers and the whole answer): a timer shuts
        the connection down at the deadline, whatever the server trickles in."""
        watch = watch or Watch()
        timer = threading.Timer(self.timeout, watch.stop, ('timeout',))
        timer.daemon = True
        try:
            with watch.watching():
                timer.start()
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                    **body,
                )
                response._content = _read_body(response)  # pylint: disable=protected-access
                if watch.stopped:  # cut short at the deadline (urllib3 1.26 hands a short body over silently)
                    raise requests.exceptions.ConnectionError('stopped')
        except _TooLarge:
            error: TextileError | None = self.make_error(
                f'The answer is larger than {MAX_BODY // 1048576} MiB: is api_url a go-textile node?',
                method,
                url,
                kind='bad_response',
            )
        except (requests.exceptions.RequestException, http.client.HTTPException, OSError, ValueError) as exc:
            error = self._exception_error(exc, method, url, watch)
        else:
            error = None
        finally:
            timer.cancel()
        if error is None or error.sent:
            self._count()
        if error is not None:
            raise error
        if 200 <= response.status_code < 300:
            return response
        raise self._status_error(response, method, url)

    def _send(
        self,
        method: str,
        path: str,
        args: Sequence[object] | None = None,
        opts: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        body: dict[str, Any] | None = None,
        retry_unsent: bool = False,
        watch: Watch | None = None,
    ) -> requests.Response:
        """Send with retries: GET and DELETE after connection errors, timeouts and 502/503/504;
        other methods only when never sent and ``retry_unsent``. Backoff 0.5 s, 1 s, 2 s, ..."""
        url = self.url(path)
        headers = dict(headers or {}, **textile_headers(args, opts))
        idempotent = method in ('GET', 'DELETE')
        attempt = 0
        while True:
            try:
                return self._send_once(method, url, headers, body or {}, watch)
            except TextileError as err:
                if idempotent:
                    retryable = err.kind in RETRY_KINDS or err.status in RETRY_STATUSES
                else:
                    retryable = retry_unsent and not err.sent and err.kind in RETRY_KINDS
                if not retryable or attempt >= self.retries:
                    raise
            self.backoff(attempt)
            attempt += 1

    def backoff(self, attempt: int) -> None:
        """Wait before the retry that follows ``attempt`` (counted from 0): 0.5 s, 1 s, 2 s, ..., at most 8 s."""
        self.sleep(min(MAX_BACKOFF, 0.5 * 2**attempt))

    @staticmethod
    def _body(data: object, headers: Mapping[str, str] | None) -> tuple[dict[str, Any], Mapping[str, str] | None]:
        """Request body keyword and headers: bytes/str sent as they are, anything else as JSON."""
        if data is None or isinstance(data, (bytes, str)):
            return {'data': data}, headers
        return {'data': json.dumps(data)}, dict({'Content-Type': 'application/json'}, **(headers or {}))

    def send_get(
        self,
        path: str,
        args: Sequence[object] | None = None,
        opts: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        return self._send('GET', path, args, opts, headers)

    def send_delete(
        self,
        path: str,
        args: Sequence[object] | None = None,
        opts: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        return self._send('DELETE', path, args, opts, headers)

    def send_post(
        self,
        path: str,
        args: Sequence[object] | None = None,
        opts: Mapping[str, object] | None = None,
        data: object = None,
        headers: Mapping[str, str] | None = None,
        retry_unsent: bool = False,
    ) -> requests.Response:
        body, headers = self._body(data, headers)
        return self._send('POST', path, args, opts, headers, body, retry_unsent)

    def send_put(
        self,
        path: str,
        args: Sequence[object] | None = None,
        opts: Mapping[str, object] | None = None,
        data: object = None,
        headers: Mapping[str, str] | None = None,
        retry_unsent: bool = False,
    ) -> requests.Response:
        body, headers = self._body(data, headers)
        return self._send('PUT', path, args, opts, headers, body, retry_unsent)

    def node_info(self) -> dict[str, str]:
        """``GET /``: ``{"node_version": ..., "cafe_version": ...}`` (each kept only when it looks like a version)."""
        response = self.send_get('/')
        info = _json(response)
        if not isinstance(info, dict):
            raise self.make_error(
                'The answer is not a JSON object: is api_url a go-textile node?',
                'GET',
                response.url,
                kind='bad_response',
                status=response.status_code,
            )
        return {
            key: info[key]
            for key in ('node_version', 'cafe_version')
            if isinstance(info.get(key), str) and _VERSION.fullmatch(info[key])
        }


# A version string as go-textile gives it (0.7.8, 1.0.0-rc44, v0): short, no spaces, nothing a token could be.
_VERSION = re.compile(r'[0-9A-Za-z][0-9A-Za-z.+_-]{0,31}')


def _text(response: requests.Response) -> str:
    """The answer's text: go-textile sends UTF-8 (no guessing of the encoding, which is slow on a large answer)."""
    return response.content.decode('utf-8', 'replace')


def _json(response: requests.Response) -> Any:
    """The answer as JSON, or None when it is not JSON (however it is malformed, however deep it nests)."""
    try:
        return json.loads(_text(response))
    except (ValueError, RecursionError):
        return None


class _TooLarge(Exception):
    """An answer longer than MAX_BODY."""


def _read_body(response: requests.Response) -> bytes:
    """The whole body of a streamed response, at most MAX_BODY bytes; an answer cut short of its Content-Length
    fails (urllib3 2.x raises, 1.26 would hand it over as if it were whole)."""
    body = bytearray()
    for chunk in response.iter_content(65536):
        body += chunk
        if len(body) > MAX_BODY:
            response.close()
            raise _TooLarge()
    length = response.headers.get('Content-Length', '')
    if length.isascii() and length.isdigit() and response.status_code not in (204, 304):
        if response.raw.tell() < int(length):
            raise requests.exceptions.ConnectionError('cut short')
    return bytes(body)


class Tokens:
    """The Cafe access-token API: ``/api/<version>/tokens``."""

    def __init__(self, api: TextileAPI) -> None:
        self.api = api

    def create(self, token: str | None = None, store: bool = True) -> str:
        """Mint (``token`` None) or import a token; returns the token text. Only an unsent import is re-sent."""
        opts = {}
        if token is not None:
            token = token.strip()
            parse_token(token)
            opts['token'] = token
        opts['store'] = 'true' if store else 'false'
        response = self.api.send_post('tokens', opts=opts, retry_unsent=token is not None)
        created = _text(response).strip()
        try:
            parse_token(created)
        except ValueError:
            raise self.api.make_error(
                'The answer is not a token: is api_url a go-textile node?',
                'POST',
                self.api.url('tokens'),
                kind='bad_response',
                status=response.status_code,
            ) from None
        return created

    def list(self) -> list[str]:
        """The raw ``GET /tokens`` answer: base58 of each stored ID + bcrypt hash."""
        response = self.api.send_get('tokens')
        entries = _json(response)
        if not isinstance(entries, list) or not all(isinstance(entry, str) for entry in entries):
            raise self.api.make_error(
                'The answer is not a JSON list of strings: is api_url a go-textile node?',
                'GET',
                self.api.url('tokens'),
                kind='bad_response',
                status=response.status_code,
            )
        return entries

    def entries(self) -> dict[str, bytes | None]:
        """``GET /tokens`` as ``{id: bcrypt hash}``; an entry that is not a token ID and a hash is a bad answer."""
        try:
            return {entry.id: entry.bcrypt_hash for entry in map(parse_list_entry, self.list())}
        except TokenFormatError:
            raise self.api.make_error(
                'The cafe listed an entry that is not a token ID followed by a bcrypt hash: '
                'is api_url a go-textile node?',
                'GET',
                self.api.url('tokens'),
                kind='bad_response',
            ) from None

    def validate(self, token: str) -> bool:
        """True when the node accepts the token (200), False on its 401; raises on anything else.

        This puts the token in the URL: go-textile writes it to its log. Prefer a local bcrypt check.
        """
        token = token.strip()
        parse_token(token)
        try:
            self.api.send_get(f'tokens/{token}')
        except TextileError as err:
            if err.kind == 'invalid_token':
                return False
            raise
        return True

    def remove(self, token: str) -> None:
        """Remove a token by its ID (its secret never goes into the URL)."""
        return self.remove_id(token_id(token))

    def remove_id(self, id_hex: str) -> None:
        """``DELETE tokens/<base58(id + 32 zero bytes)>``; None on 204 (go-textile answers 204 even when absent)."""
        response = self.api.send_delete(f'tokens/{id_path_segment(id_hex)}')
        if response.status_code != 204:
            raise self.api.make_error(
                f'Unexpected answer HTTP {response.status_code} to a removal (expected 204).',
                'DELETE',
                response.url,
                kind='bad_response',
                status=response.status_code,
            )
