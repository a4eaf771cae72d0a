# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to this collection: it is not part of its public API
# and may change without notice.

"""The connection options without Ansible: their checks (design.md "Trust at the edges") and what the
environment may add to them (a proxy, only with use_proxy, never for a loopback host).

Pure functions of the option values, shared by the client (``_client.py``), the modules (``_textile_module.py``)
and anything else that talks to a cafe with the collection's client (the EDA source): each check returns the
first problem as a sentence that names the option and never a secret, or None.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies_environment

try:
    from requests.utils import should_bypass_proxies
except ImportError:
    pass  # the client refuses to start without requests, and use_proxy is only checked for the client

FALLBACK_ENV = ('TEXTILE_API_URL', 'TEXTILE_USERNAME', 'TEXTILE_PASSWORD')
MAX_TIMEOUT = 3600
MAX_RETRIES = 10
# RFC 9110 field names (tokens); values printable latin-1 (no control characters, so no CR or LF).
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HOST_NAME = re.compile(r'[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?')
_API_VERSION = re.compile(r'v[0-9]{1,6}')
FRAMING_HEADERS = ('content-length', 'transfer-encoding', 'host')


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
    if not proxy or should_bypass_proxies(url, no_proxy=None):
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


def _printable_latin1(text: str) -> bool:
    return all(' ' <= char <= '~' or '\xa0' <= char <= '\xff' for char in text)


def _basic_auth_text(text: str) -> bool:
    """Whether Basic Auth can carry ``text``: no CR, LF or NUL, and UTF-8 can encode it (no lone surrogate)."""
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        return False
    return not any(char in text for char in '\r\n\0')


def api_url_problem(value: object) -> str | None:
    """What is wrong with an api_url (surrounding whitespace aside), or None. Never contains the URL."""
    if not isinstance(value, str) or not value.strip():
        return 'api_url must be an http:// or https:// URL, for example http://127.0.0.1:40600.'
    text = value.strip()
    if any(char.isspace() or not char.isprintable() for char in text):
        return 'api_url must not contain whitespace or control characters.'
    if '@' in text:
        return 'api_url must not contain user info (user:password@); use api_username and api_password instead.'
    try:
        url = urlsplit(text)
        port = url.port
    except ValueError:
        return 'api_url is not a valid URL: check the host, and that the port is a number from 1 to 65535.'
    if url.scheme not in ('http', 'https') or not url.hostname:
        return 'api_url must be an http:// or https:// URL with a host, for example http://127.0.0.1:40600.'
    if '?' in text or '#' in text:
        return 'api_url must not have a query (?...) or a fragment (#...): give the base URL of the node API.'
    if port is not None and not 1 <= port <= 65535 or url.netloc.endswith(':'):
        return 'api_url has a port outside 1 to 65535.'
    host = url.netloc.rpartition(':')[0] if url.port is not None else url.netloc
    if host.startswith('['):
        try:
            ipaddress.IPv6Address(url.hostname)
        except ValueError:
            return 'api_url has an IPv6 address in brackets that is not valid.'
    elif not _HOST_NAME.fullmatch(host):
        return 'api_url has a host name with characters a host name cannot have (letters, digits, - and . only).'
    return None


def connection_problem(p: dict[str, Any]) -> str | None:
    """The first problem of the connection options (parameters after Ansible's checks), or None."""
    problem = api_url_problem(p['api_url'])
    if problem:
        return problem
    if not _API_VERSION.fullmatch(p['api_version']):
        return 'api_version must be v followed by digits, for example v0.'
    for option in ('api_username', 'api_password'):
        if p[option] is not None and not _basic_auth_text(p[option]):
            return (
                f'{option} must be text without line breaks or NUL characters that UTF-8 can encode '
                '(HTTP Basic Auth sends it as UTF-8).'
            )
    if p['api_username'] is not None and ':' in p['api_username']:
        return 'api_username must not contain ":" (HTTP Basic Auth separates the user and the password with it).'
    if not (math.isfinite(p['timeout']) and 0 < p['timeout'] <= MAX_TIMEOUT):
        return f'timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT}.'
    if not 0 <= p['retries'] <= MAX_RETRIES:
        return f'retries must be from 0 to {MAX_RETRIES}.'
    for name, value in (p['headers'] or {}).items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            return 'headers has a name that is not a valid HTTP header name (letters, digits and -).'
        lowered = name.lower()
        if lowered.startswith('x-textile-') or lowered == 'authorization' and p['api_username'] is not None:
            return (
                f'headers may not set {name}: the module sends X-Textile-Args and X-Textile-Opts itself, and '
                'Authorization when api_username is set.'
            )
        if lowered in FRAMING_HEADERS:
            return f'headers may not set {name}: the client sets it itself.'
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not _printable_latin1(str(value)):
            return f'headers[{name}] must be a string of printable latin-1 characters (no line breaks).'
    for option in ('ca_path', 'client_cert', 'client_key'):
        path = p[option]
        if path is not None and not (os.path.isfile(path) and os.access(path, os.R_OK)):
            return f'{option}: there is no readable file at {path}.'
    if p['client_key'] is not None and p['client_cert'] is None:
        return 'client_key needs client_cert.'
    if p.get('use_proxy'):
        try:
            environment_proxy(p['api_url'].strip())
        except ValueError as err:
            return str(err)
    return None
