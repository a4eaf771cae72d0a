# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to this collection: it is not part of its public API
# and may change without notice.

"""The glue between AnsibleModule and the Textile client, shared by every module.

Connection options (with their environment fallbacks), their validation before any request,
the plain-http warning, the local bcrypt check of a secret, and turning a TextileError into a
failure a person can act on.
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.textileio.textile.plugins.module_utils._client import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    TextileAPI,
    TextileError,
    Tokens,
)
from ansible_collections.textileio.textile.plugins.module_utils._token_format import TokenFormatError, parse_list_entry

try:
    import bcrypt
    HAS_BCRYPT = True
except ImportError:
    bcrypt = None
    HAS_BCRYPT = False

VALIDATE_LOG_WARNING = (
    'bcrypt is not installed for the Python that runs this module, so token secrets were checked with '
    "the cafe's validate endpoint, which writes each checked token into go-textile's log "
    '(<repo>/logs/textile.log) and into any reverse proxy access log. Install bcrypt on that host '
    '(pip install bcrypt) to check secrets locally.'
)

DEFAULT_API_URL = 'http://127.0.0.1:40600'


def connection_argument_spec():
    """The connection options every module takes (documented in the textileio.textile.connection fragment)."""
    return dict(
        api_url=dict(type='str', default=DEFAULT_API_URL, fallback=(env_fallback, ['TEXTILE_API_URL'])),
        api_version=dict(type='str', default='v0'),
        api_username=dict(type='str', fallback=(env_fallback, ['TEXTILE_USERNAME'])),
        api_password=dict(type='str', no_log=True, fallback=(env_fallback, ['TEXTILE_PASSWORD'])),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        client_cert=dict(type='path'),
        client_key=dict(type='path', no_log=False),
        timeout=dict(type='float', default=30.0),
        retries=dict(type='int', default=3),
        headers=dict(type='dict', no_log=True),
    )


def check_secret(token_secret, bcrypt_hash):
    """Whether ``token_secret`` matches a list entry's bcrypt hash; None when bcrypt is not importable."""
    if not HAS_BCRYPT:
        return None
    try:
        return bcrypt.checkpw(bytes(token_secret), bytes(bcrypt_hash))
    except ValueError:
        return False


def is_loopback(host):
    """Whether ``host`` names this machine (``localhost`` or a loopback address)."""
    if not host or host.lower() == 'localhost' or host.lower().endswith('.localhost'):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TextileModule(AnsibleModule):
    """An AnsibleModule with the connection options, a checked configuration and a Textile client."""

    def __init__(self, argument_spec=None, failure_result=None, **kwargs):
        """``failure_result``: values every failure returns (for example empty ID lists), unless it sets them."""
        self._failure_result = dict(failure_result or {})
        spec = connection_argument_spec()
        spec.update(argument_spec or {})
        super().__init__(argument_spec=spec, **kwargs)
        if not HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
        self._check_connection_options()
        self._warned_plain_http = False
        self._warned_validate = False
        p = self.params
        credentials = p['api_username'] is not None or p['api_password'] is not None or \
            any(name.lower() == 'authorization' for name in p['headers'] or {})
        if credentials or p.get('tokens'):
            self.warn_plain_http()
        self.api = TextileAPI(
            api_url=p['api_url'].strip(), api_version=p['api_version'], username=p['api_username'],
            password=p['api_password'], validate_certs=p['validate_certs'], ca_path=p['ca_path'],
            client_cert=p['client_cert'], client_key=p['client_key'], timeout=p['timeout'],
            retries=p['retries'], headers=p['headers'])
        self.tokens = Tokens(self.api)

    def _load_params(self):
        super()._load_params()
        # Whether api_url came from the task or the environment, or is the default (for the hints of failures).
        self.api_url_given = self.params.get('api_url') is not None or bool(os.environ.get('TEXTILE_API_URL'))

    def _check_connection_options(self):
        p = self.params
        try:
            url = urlsplit(p['api_url'].strip())
            has_user_info = url.username is not None or url.password is not None
        except ValueError:
            url, has_user_info = None, False
        if has_user_info:
            if url.password:
                # The invocation echoed with a failure holds api_url: mask the password it carries.
                self.no_log_values.add(url.password)
            self.fail_json(msg='api_url must not contain user info (user:password@); '
                               'use api_username and api_password instead.')
        if url is None or url.scheme not in ('http', 'https') or not url.hostname:
            self.fail_json(msg='api_url must be an http:// or https:// URL with a host, '
                               'for example http://127.0.0.1:40600.')
        forbidden = [name for name in (p['headers'] or {}) if name.lower().startswith('x-textile-')
                     or (name.lower() == 'authorization' and p['api_username'] is not None)]
        if forbidden:
            self.fail_json(msg=f"headers may not set {', '.join(sorted(forbidden))}: the module sends X-Textile-Args "
                               'and X-Textile-Opts itself, and Authorization when api_username is set.')
        if p['timeout'] <= 0:
            self.fail_json(msg='timeout must be a positive number of seconds.')
        if p['retries'] < 0:
            self.fail_json(msg='retries must be 0 or more.')

    def warn_plain_http(self):
        """Warn once when credentials or tokens travel over plain http to a host that is not loopback."""
        url = urlsplit(self.params['api_url'].strip())
        if url.scheme == 'http' and not is_loopback(url.hostname) and not self._warned_plain_http:
            self._warned_plain_http = True
            self.warn(f'api_url uses plain http to {url.hostname}, which is not a loopback address: '
                      'credentials and tokens cross the network unencrypted. Use https (for example '
                      'behind a TLS reverse proxy) or run the module on the cafe host.')

    def stored_entries(self):
        """``GET /tokens`` as ``{id: bcrypt hash}``; raises TextileError, also for an entry that is not a token's."""
        raw = self.tokens.list()
        try:
            return {entry.id: entry.bcrypt_hash for entry in map(parse_list_entry, raw)}
        except TokenFormatError:
            raise TextileError('GET tokens: the cafe listed an entry that is not a token ID followed by a bcrypt '
                               'hash: is api_url a go-textile node?', kind='bad_response', method='GET',
                               path=f"/api/{self.params['api_version']}/tokens") from None

    def secret_matches(self, token, bcrypt_hash):
        """Whether a DeclaredToken's secret is the stored one: bcrypt locally, else the validate endpoint."""
        matches = check_secret(token.secret, bcrypt_hash)
        if matches is None:
            if not self._warned_validate:
                self._warned_validate = True
                self.warn(VALIDATE_LOG_WARNING)
            matches = self.tokens.validate(token.text)
        return matches

    def fail_json(self, msg, **kwargs):
        super().fail_json(msg, **dict(self._failure_result, **kwargs))

    def fail(self, msg, **result):
        """fail_json whose message also names the work already done (created/removed/replaced IDs)."""
        done = [f'{label} {", ".join(result[key])}' for key, label in (
            ('created_ids', 'created'), ('removed_ids', 'removed'), ('replaced_ids', 'replaced the secret of'))
            if result.get(key)]
        if done:
            msg = f"{msg} Before this failure the run had already {'; '.join(done)}."
        self.fail_json(msg=msg, **result)

    def fail_from_error(self, err, msg=None, **result):
        """Fail with a TextileError as a sentence a person can act on, diagnosing a 404 of the tokens API."""
        text = str(err)
        if msg:
            text = f'{msg}: {text}'
        if err.kind == 'not_found' and str(err.path or '').rstrip('/').endswith('tokens'):
            text = f'{text} {self._diagnose_404()}'
        elif err.kind in ('connection', 'dns', 'timeout') and not self.api_url_given:
            text = (f'{text} api_url was not set, so the default {DEFAULT_API_URL} was used: set api_url (or '
                    'TEXTILE_API_URL) when the API listens elsewhere.')
        result.setdefault('error', {'method': err.method, 'path': err.path, 'status': err.status,
                                    'kind': err.kind, 'exception': err.exc_class})
        self.fail(text, **result)

    def _diagnose_404(self):
        try:
            info = self.api.node_info()
        except TextileError:
            info = None
        if isinstance(info, dict) and info.get('node_version'):
            return (f"{self.params['api_url']} is a go-textile node API, version {info['node_version']} "
                    f"(API {info.get('cafe_version', 'unknown')}), but it has no tokens API under "
                    f"/api/{self.params['api_version']}: check api_version; the tokens API needs go-textile "
                    '0.1.10 or later.')
        return (f"{self.params['api_url']} does not answer like a go-textile node API (GET / gave no node_version): "
                'check the port; the node API listens on 40600, not the cafe API port 40601 or the gateway port 5050.')
