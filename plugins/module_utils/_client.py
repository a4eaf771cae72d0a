# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to this collection: it is not part of its public API
# and may change without notice.

"""The one HTTP client of the go-textile local REST API and the one error type, shaped like the JavaScript client.

``TextileAPI`` holds the send helpers (``send_get``, ``send_post``, ``send_put``, ``send_delete``), with their
retries and the deadline of each attempt; ``Tokens`` is the Cafe access-token API on top of it; ``TextileError``
is every failure of a request. The modules call ``send_get``, ``send_post`` and ``send_delete`` (through
``Tokens``). ``send_put``, and ``send_post_multipart`` and ``send_post_cancelable`` (``ExtendedTextileAPI`` in
``_client_extras.py``, kept apart so that a module does not carry them), are called by no module: they are the
client's public surface, mirrored from the JavaScript client, for other callers.

What a failure means is decided in ``_failures.py``, what the message may quote of the server's answer in
``_server_text.py``, what the environment may add (a proxy) in ``_connection.py``, and the deadline, built on
urllib3's internals, in ``_transport.py``. ``TextileError`` never holds a URL, a request header, the text of a
``requests`` exception or the body of a list answer; token path segments are shown as their ID.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import traceback
from typing import Any, Mapping, Sequence
from urllib.parse import quote, urlsplit

from ansible_collections.textileio.textile.plugins.module_utils._connection import MAX_RETRIES, environment_proxy
from ansible_collections.textileio.textile.plugins.module_utils._failures import attempt_failure, status_failure
from ansible_collections.textileio.textile.plugins.module_utils._server_text import credential_forms, server_words
from ansible_collections.textileio.textile.plugins.module_utils._token_format import (
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
MAX_BACKOFF = 8.0  # seconds: the wait before a retry doubles from 0.5 s up to this
MAX_CONNECTIONS = 16  # kept alive per host: as many as requests a module may have in flight at once
MAX_BODY = 16 * 1024 * 1024  # bytes of an answer read at most (a list of 100,000 tokens is about 10 MiB)


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


def redact_path(path: str) -> str:
    """The path with token segments shown as their ID, and any other segment after ``tokens/`` hidden."""
    segments = redact(path).split('/')
    for index in range(1, len(segments)):
        if segments[index - 1] == 'tokens' and segments[index] and not is_id(segments[index]):
            segments[index] = '<redacted>'
    return '/'.join(segments)


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
        """A TextileError for a failed attempt (``_failures.attempt_failure``), without the exception's text."""
        where = f'{self.endpoint} (through the proxy of the environment)' if self.proxy else self.endpoint
        kind, words, sent = attempt_failure(exc, watch, where, self.timeout, bool(self.proxy), self.host)
        return self.make_error(words, method, url, kind=kind, exc_class=type(exc).__name__, sent=sent)

    def _status_error(self, response: requests.Response, method: str, url: str) -> TextileError:
        """A TextileError for an answer outside 2xx (``_failures.status_failure``), quoting the server's words."""
        status = response.status_code
        text = server_words(_text(response), hidden=self.hidden)
        said = f': "{text}"' if text else ''
        kind, words = status_failure(status, 'WWW-Authenticate' in response.headers, said, self.username is not None)
        return self.make_error(words, method, url, kind=kind, status=status, server_text=text)

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
