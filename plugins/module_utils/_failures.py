# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to this collection: it is not part of its public API
# and may change without notice.

"""What a failed request means: the kind of its failure, whether it was sent, and the words of its message.

The client (``_client.py``) builds its one error type, ``TextileError``, from these: ``attempt_failure`` for an
attempt that raised (its phase decides whether it was sent, its exception only which words explain it) and
``status_failure`` for an answer outside 2xx. Each kind is a failure a person acts on differently; the words
say what to check, and never hold the text of an exception (it may hold the URL) or a request header.
"""

from __future__ import annotations

import socket
import ssl
from typing import TYPE_CHECKING

try:
    from requests.exceptions import Timeout
except ImportError:
    pass  # the client refuses to start without requests

if TYPE_CHECKING:
    from ansible_collections.textileio.textile.plugins.module_utils._transport import Watch


def attempt_failure(
    exc: BaseException, watch: Watch, where: str, timeout: float, proxied: bool, host: str
) -> tuple[str, str, bool]:
    """``(kind, words, sent)`` of an attempt to ``where`` (the endpoint, and how it was reached) that raised ``exc``.

    Whether the request was sent is the phase it failed in (``watch.phase``), never the exception's class: a
    request is sent once a byte of it went out, and a failure after that (a reset, a malformed or cut answer)
    leaves its outcome unknown. The exception only tells which words explain the failure; ``proxied`` and
    ``host`` (the host of api_url) say which host name did not resolve."""
    causes = _causes(exc)
    phase = watch.phase
    sent = phase in ('sending', 'reading')
    timed_out = watch.stopped == 'timeout' or _has(causes, Timeout, socket.timeout)
    if watch.stopped == 'cancelled':
        kind = 'cancelled'
        words = 'The request was cancelled before the node answered; it may or may not have been carried out.'
    elif phase == 'building':
        kind = 'unbuildable'
        words = 'The request could not be built: check api_url and headers.'
    elif sent:
        if timed_out:
            kind = 'timeout'
            words = (
                f'No complete answer from {where} within {timeout} s: the node is busy or hung, or '
                'answers too slowly; check the daemon or raise timeout.'
            )
        elif _has(causes, ssl.SSLError):
            kind = 'tls'
            words = (
                f'TLS with {where} failed after the request was sent: check that client_cert and client_key '
                'are right (with TLS 1.3 a server refuses a client certificate only then).'
            )
        else:
            kind = 'connection'
            words = (
                f'The connection to {where} failed, or its answer was cut off or malformed, after the request '
                'was sent: the node may have carried it out. Check that the daemon is running, that api_url '
                'points to it, and anything in between.'
            )
    elif timed_out:
        kind = 'timeout'
        words = f'Timed out after {timeout} s connecting to {where}: is the host reachable and api_url right?'
    elif _has(causes, ssl.SSLError):
        kind = 'tls'
        if _has(causes, ssl.SSLCertVerificationError):
            words = (
                f'TLS certificate verification of {where} failed: set ca_path to the CA that signed '
                'the server certificate, or validate_certs to false if you trust this network.'
            )
        else:
            words = (
                f'TLS handshake with {where} failed: check that the server speaks https on this port '
                'and that client_cert and client_key are right.'
            )
    elif _has(causes, socket.gaierror):
        kind = 'dns'
        words = (
            'The host name of the proxy the environment names (use_proxy) does not resolve: check it and DNS.'
            if proxied
            else f'The host name in api_url ({host}) does not resolve: check api_url and DNS.'
        )
    elif _has(causes, ConnectionRefusedError):
        kind = 'connection'
        words = f'Connection refused by {where}: is the Textile daemon running, and is api_url right?'
    else:
        kind = 'connection'
        words = f'Could not connect to {where}: check api_url and that the host is reachable.'
    return kind, words, sent


def status_failure(status: int, challenged: bool, said: str, username_given: bool) -> tuple[str, str]:
    """``(kind, words)`` of an answer with HTTP ``status`` outside 2xx: ``challenged`` when it asks for Basic Auth
    (a ``WWW-Authenticate`` header), ``said`` the server's words as a message quotes them (``: "..."`` or '')."""
    if status == 401 and challenged:
        kind = 'basic_auth'
        if not username_given:
            words = 'The node requires Basic Auth (HTTP 401): set api_username and api_password.'
        else:
            words = (
                'Basic Auth failed (HTTP 401): check api_username and api_password (the account '
                'address and the daemon pin).'
            )
    elif status == 401:
        kind = 'invalid_token'
        words = f'The node rejected the token (HTTP 401{said}): it is not valid on this node.'
    elif status == 404:
        kind = 'not_found'
        words = (
            f'Not found (HTTP 404{said}): check api_url (the local API of go-textile listens on port '
            '40600) and api_version.'
        )
    elif status == 400:
        kind = 'bad_request'
        words = f'The node rejected the request (HTTP 400){said}.'
    elif status >= 500:
        kind = 'server_error'
        words = f'The node failed (HTTP {status}){said}; check the daemon and its log.'
    elif 300 <= status < 400:
        kind = 'http'
        words = f'The server redirected the request (HTTP {status}): check the scheme, host and path of api_url.'
    else:
        kind = 'http'
        words = f'Unexpected answer (HTTP {status}){said}.'
    return kind, words


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
