# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """The connection options of every textileio.textile module (textileio.textile.connection)."""

    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of the go-textile node API (the local REST API, not the cafe API).
      - When not set, the value of the environment variable E(TEXTILE_API_URL) on the host that runs the module
        is used, and without it V(http://127.0.0.1:40600).
      - An V(http://) or V(https://) URL with a host, an optional port (1 to 65535) and an optional path prefix
        (for a reverse proxy). Surrounding whitespace is ignored; an URL with whitespace or control characters
        inside, a query (C(?...)), a fragment (C(#...)) or user info (C(user:password@host)) fails before any
        request; use O(api_username) and O(api_password) for credentials.
      - Plain V(http://) to a host that is not loopback, with credentials or tokens, gives a warning.
    type: str
    default: http://127.0.0.1:40600
  api_version:
    description:
      - API version path segment; requests go to C(<api_url>/api/<api_version>/tokens).
      - V(v) followed by digits.
    type: str
    default: v0
  api_username:
    description:
      - User name for HTTP Basic Auth, which go-textile 0.7.2 and later require when the daemon runs with a pin.
        On go-textile it is the account address (C(P...)).
      - Any text without line breaks, NUL characters or C(:), sent as UTF-8 (go-textile compares the UTF-8 bytes).
      - When not set, the value of the environment variable E(TEXTILE_USERNAME) is used.
    type: str
  api_password:
    description:
      - Password for HTTP Basic Auth, the daemon pin (C(textile daemon --pin)).
      - Any text without line breaks or NUL characters, sent as UTF-8, so a pin with letters such as C(ä) works
        (go-textile compares the UTF-8 bytes of C(user:password)).
      - When not set, the value of the environment variable E(TEXTILE_PASSWORD) is used.
    type: str
  validate_certs:
    description:
      - Whether to check the TLS certificate of an V(https://) O(api_url).
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle (PEM) to check the server certificate with, for example a private CA of a reverse proxy.
      - It must be a readable file on the host that runs the module.
    type: path
  client_cert:
    description:
      - A client certificate (PEM) for mutual TLS with a reverse proxy in front of the API; a readable file.
    type: path
  client_key:
    description:
      - The private key (PEM) of O(client_cert), when the certificate file does not hold it; a readable file.
    type: path
  timeout:
    description:
      - Seconds each request may take as a whole, above 0 and at most 3600, covering the connection, the
        answer's headers and its whole body. An answer that trickles in fails after about this long.
      - With O(retries), the longest a read can take is known in advance; for example the defaults allow 4
        attempts of at most 30 s each, with waits of 0.5 s, 1 s and 2 s between them.
    type: float
    default: 30
  retries:
    description:
      - How many further attempts a read or a removal gets after a connection error, a timeout or an
        HTTP 502, 503 or 504, from 0 to 10, with exponential backoff (0.5 s, 1 s, 2 s, ..., at most 8 s).
      - An import is re-sent without checking only when no byte of it was sent; after any other failure (a broken
        or lost answer included) the module lists the tokens and retries only when the token is not stored, within
        the same budget. A removal whose answer was lost is decided by the list that confirms the removals. A mint
        is never retried; when its answer was lost, the module lists the tokens and names any new ID.
    type: int
    default: 3
  headers:
    description:
      - Extra HTTP headers sent with every request, for example for a reverse proxy.
      - Names are HTTP header names (letters, digits and C(-), C(_), C(.) and the like); values are printable
        latin-1 text without line breaks. A name must not hold a secret (values are hidden, names are not).
      - They may not set C(X-Textile-Args) or C(X-Textile-Opts), nor C(Authorization) when O(api_username) is set,
        nor C(Content-Length), C(Transfer-Encoding) or C(Host).
    type: dict
  use_proxy:
    description:
      - Whether to send the requests through the proxy that the environment of the host that runs the module names,
        E(HTTPS_PROXY) or E(HTTP_PROXY) (either case) for the scheme of O(api_url), unless E(NO_PROXY) (either
        case) excludes its host. For a loopback O(api_url) (C(127.0.0.1), C(::1), C(localhost)) no proxy is ever
        used.
      - With V(false), the default, the environment and the home directory configure nothing but the
        E(TEXTILE_API_URL), E(TEXTILE_USERNAME) and E(TEXTILE_PASSWORD) fallbacks; no proxy variable, no
        C(~/.netrc) and no E(REQUESTS_CA_BUNDLE) is read, so the credentials and the tokens go to the cafe and
        nowhere else. Set it when the cafe is reached only through a forward proxy.
      - With an V(http://) O(api_url) the proxy sees the credentials and the tokens; the module warns as for any
        plain V(http://) to a host that is not loopback. Through a proxy an V(https://) O(api_url) is tunnelled
        (C(CONNECT)), and the proxy sees only the host and the port.
    type: bool
    default: false
seealso:
  - name: The textileio.textile.cafe_tokens role
    description: Declares and removes the tokens of a fleet of cafes with textileio.textile.textile_cafe_token, one call per cafe.
    link: https://github.com/textileio/ansible-collection-textile/blob/main/roles/cafe_tokens/README.md
  - name: The textileio.textile.cafe_token_report role
    description: The fleet report (JSON and HTML) built with textileio.textile.textile_cafe_token_info.
    link: https://github.com/textileio/ansible-collection-textile/blob/main/roles/cafe_token_report/README.md
  - name: go-textile
    description: The Textile daemon whose local REST API (C(/api/v0/tokens)) the modules talk to.
    link: https://github.com/textileio/go-textile
requirements:
  - requests (Python library, 2.25 or later with urllib3 1.26 or 2.x, on the host that runs the module)
notes:
  - >-
    Where it runs - go-textile binds its API to C(127.0.0.1:40600), so the module usually runs on the cafe host
    itself (the inventory host of the cafe), talking to loopback. When the API is reachable over the network
    (behind a TLS reverse proxy), run it on the controller with C(delegate_to: localhost) and a per-host
    O(api_url). C(requests) (and, better, C(bcrypt)) must be installed for the Python that runs the module there.
"""
