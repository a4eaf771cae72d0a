# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to this collection: it is not part of its public API
# and may change without notice.

"""TextileModule: the AnsibleModule of every module of the collection.

It owns the connection options (with their environment fallbacks) and their checks before any
request, what is hidden from output, the plain-http warning, the Textile client of the run,
and the one failure path: every failure, Ansible's own argument checks included, goes through
``TextileModule.fail_json``.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.textileio.textile.plugins.module_utils._client import (
    DEFAULT_API_URL,
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    TextileAPI,
    TextileError,
    Tokens,
)
from ansible_collections.textileio.textile.plugins.module_utils._connection import (
    FALLBACK_ENV,
    connection_problem,
    is_loopback,
)
from ansible_collections.textileio.textile.plugins.module_utils._secrets import (
    HAS_SECRETS_API,
    hide,
    keys_in,
    mask_keys,
    masked,
    strings_in,
    token_runs,
)
from ansible_collections.textileio.textile.plugins.module_utils._token_format import check_secret
from ansible_collections.textileio.textile.plugins.module_utils._transport import URLLIB3_PROBLEM

if TYPE_CHECKING:
    from ansible_collections.textileio.textile.plugins.module_utils._token_plan import DeclaredToken

VALIDATE_LOG_WARNING = (
    'bcrypt is not installed for the Python that runs this module, so token secrets were checked with '
    "the cafe's validate endpoint, which writes each checked token into go-textile's log "
    '(<repo>/logs/textile.log) and into any reverse proxy access log. Install bcrypt on that host '
    '(pip install bcrypt) to check secrets locally.'
)


def connection_argument_spec() -> dict[str, dict[str, Any]]:
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
        use_proxy=dict(type='bool', default=False),
    )


def is_infinite(value: object) -> bool:
    """Whether a raw parameter value is a number (or the text of one) that is infinite."""
    try:
        return not isinstance(value, bool) and isinstance(value, (str, float)) and math.isinf(float(value))
    except (ValueError, OverflowError):
        return False


def nul_in(value: object, where: str = '') -> str | None:
    """Where the first NUL character of a parameter value is (``ids[2]``, ``headers[X-Name]``), or None."""
    if isinstance(value, str):
        return where if '\0' in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = nul_in(key, where) or nul_in(item, f'{where}[{key!r}]' if where else str(key))
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = nul_in(item, f'{where}[{index}]')
            if found:
                return found
    return None


class ModuleFailure(Exception):
    """Raised by a module's work to fail it: ``run()`` turns it into the one failure (``fail_json``).

    ``msg`` says what failed, ``error`` (a TextileError) why, ``result`` holds further return values.
    """

    def __init__(self, msg: str, error: TextileError | None = None, **result: Any) -> None:
        super().__init__(msg)
        self.msg, self.error, self.result = msg, error, result


class TextileModule(AnsibleModule):
    """An AnsibleModule with the connection options, checked before any request, a Textile client, and the one
    failure path of the collection (``fail_json``)."""

    no_log_values: set[str]

    def __init__(self, argument_spec: dict[str, dict[str, Any]] | None = None, **kwargs: Any) -> None:
        spec = connection_argument_spec()
        spec.update(argument_spec or {})
        super().__init__(argument_spec=spec, **kwargs)
        self._refuse_token_keys()
        if not HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
        if URLLIB3_PROBLEM:
            self.fail_json(msg=URLLIB3_PROBLEM)
        p = self.params
        problem = connection_problem(p)
        if problem:
            self.fail_json(msg=problem)
        self._warned_plain_http = False
        self._warned_validate = False
        credentials = (
            p['api_username'] is not None
            or p['api_password'] is not None
            or any(name.lower() == 'authorization' for name in p['headers'] or {})
        )
        self.api = TextileAPI(
            api_url=p['api_url'].strip(),
            api_version=p['api_version'],
            username=p['api_username'],
            password=p['api_password'],
            validate_certs=p['validate_certs'],
            ca_path=p['ca_path'],
            client_cert=p['client_cert'],
            client_key=p['client_key'],
            timeout=p['timeout'],
            retries=p['retries'],
            headers=p['headers'],
            use_proxy=p['use_proxy'],
        )
        self.tokens = Tokens(self.api)
        if credentials or p.get('tokens'):
            self.warn_plain_http()

    def _load_params(self) -> None:
        super()._load_params()
        # Before Ansible checks anything (and may fail echoing the arguments): hide every value that could be a
        # token, wherever it was given, the values of no_log options, and any api_url that carries user info.
        given = dict(self.params, **{name: os.environ.get(name) for name in FALLBACK_ENV})
        hide(self, token_runs(given))
        for name, spec in self.argument_spec.items():
            if spec.get('no_log'):
                for key in [name] + list(spec.get('aliases', ())):
                    hide(self, strings_in(self.params.get(key), keys=False))
        for url in (self.params.get('api_url'), os.environ.get('TEXTILE_API_URL')):
            if isinstance(url, str) and '@' in url and len(url.strip()) >= 8:
                hide(self, {url, url.strip()})
        # Whether api_url came from the task or the environment, or is the default (for the hints of failures).
        self.api_url_given = self.params.get('api_url') is not None or bool(os.environ.get('TEXTILE_API_URL'))
        self._refuse_token_keys()
        # ansible-core's int check raises OverflowError (a traceback) for an infinite value: refuse it first.
        for name in sorted(self.argument_spec):
            if self.argument_spec[name].get('type') == 'int' and is_infinite(self.params.get(name)):
                self.fail_json(msg=f'{name} must be a whole number.')

    def _refuse_token_keys(self) -> None:
        """Ansible never hides dict keys: refuse a key that could be a token (a header name, or the key of a
        mapping given where none belongs), masked in the arguments the failure echoes. Run on the raw arguments
        and again after Ansible's checks, which turn a string such as ``name=value`` into a dict."""
        keyed = sorted(name for name, value in self.params.items() if token_runs(keys_in(value)))
        if keyed:
            self.params.update({name: mask_keys(self.params[name]) for name in keyed})
            canonical = {alias: name for name, spec in self.argument_spec.items() for alias in spec.get('aliases', ())}
            self.fail_json(
                msg=f'{canonical.get(keyed[0], keyed[0])} has a key (a header name) that could be a '
                'token: a secret belongs in a value, which is hidden, never in a key.'
            )

    def _log_invocation(self) -> None:
        # Ansible logs the arguments (to syslog) right after its own checks, and a NUL character makes that fail
        # with a message that names no option: refuse it first, saying where it is.
        where = nul_in({name: self.params.get(name) for name in self.argument_spec})
        if where:
            self.fail_json(msg=f'{where} contains a NUL character.')
        super()._log_invocation()

    def warn_plain_http(self) -> None:
        """Warn once when credentials or tokens travel over plain http to a host that is not loopback (through a
        proxy or not: a proxy is never used for loopback)."""
        url = urlsplit(self.params['api_url'].strip())
        if url.scheme == 'http' and not is_loopback(url.hostname) and not self._warned_plain_http:
            self._warned_plain_http = True
            through = ' through the proxy of the environment (use_proxy)' if self.api.proxy else ''
            self.warn(
                f'api_url uses plain http to {url.hostname}{through}, which is not a loopback address: '
                'credentials and tokens cross the network unencrypted. Use https (for example '
                'behind a TLS reverse proxy) or run the module on the cafe host.'
            )

    def secret_matches(self, token: DeclaredToken, bcrypt_hash: bytes | None) -> bool:
        """Whether a DeclaredToken's secret is the stored one: bcrypt locally, else the validate endpoint.

        No hash (None) means this run stored the token itself, with this very secret."""
        if bcrypt_hash is None:
            return True
        matches = check_secret(token.secret, bcrypt_hash)
        if matches is None:
            if not self._warned_validate:
                self._warned_validate = True
                self.warn(VALIDATE_LOG_WARNING)
            matches = self.tokens.validate(token.text)
        return matches

    # The one failure path

    def progress(self) -> dict[str, Any]:
        """Result values every failure carries (a module that writes returns the work done so far)."""
        return {}

    def done_note(self) -> str:
        """A sentence naming the work done before a failure, or ''."""
        return ''

    def fail_json(self, msg: str, error: TextileError | None = None, **result: Any) -> None:
        """Fail: ``msg`` (with the cause when ``error``, a TextileError, is given), then the work already done.

        Every failure of the collection's modules comes here, Ansible's own argument checks included.
        """
        if error is not None:
            msg = self.explain(error, msg)
            result.setdefault(
                'error',
                {
                    'method': error.method,
                    'path': error.path,
                    'status': error.status,
                    'kind': error.kind,
                    'exception': error.exc_class,
                },
            )
        note = self.done_note()
        result = dict(self.progress(), **result, msg=f'{msg} {note}' if note else msg)
        super().fail_json(**self._masked(result))

    def exit_json(self, **result: Any) -> None:
        super().exit_json(**self._masked(result))

    def _masked(self, result: dict[str, Any]) -> dict[str, Any]:
        """What Ansible is about to return, its no_log values masked as Ansible's ``remove_values`` would, in one
        pass: the result, and the arguments when Ansible adds them as the invocation (always before ansible-core
        2.20; from 2.20 only when inject_invocation is set). Ansible then searches it only for the values that
        contain ``*`` and occur in it (masks can form those), instead of every string for every declared token.

        From 2.22 the module does not mask its result (the controller masks the registered secrets).
        """
        if HAS_SECRETS_API:
            return result
        if getattr(self, '_inject_invocation', True):
            result = dict(result, invocation={'module_args': self.params})
        shown, self.no_log_values = masked(result, self.no_log_values)
        return shown

    def explain(self, err: TextileError, context: str) -> str:
        """A TextileError as a sentence a person can act on, after ``context`` (what was being done)."""
        text = f'{context}: {err}'
        if err.kind == 'not_found' and str(err.path).endswith('/tokens'):  # a path never ends in /
            text = f'{text} {self._diagnose_404()}'
        elif err.kind in ('connection', 'dns', 'timeout') and not self.api_url_given:
            text = (
                f'{text} api_url was not set, so the default {DEFAULT_API_URL} was used: set api_url (or '
                'TEXTILE_API_URL) when the API listens elsewhere.'
            )
        return text

    def run(self, work: Callable[[], dict[str, Any]]) -> None:
        """Exit with the result of ``work()``. A ModuleFailure it raises fails as it says, a TextileError with its
        cause, and anything else with its class only (its text might hold a value that must not be shown)."""
        try:
            result = work()
        except ModuleFailure as failure:
            self.fail_json(failure.msg, error=failure.error, **failure.result)
        except TextileError as err:
            self.fail_json('The request failed', error=err)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            self.fail_json(
                f'Internal error ({type(exc).__name__}): this is a bug of textileio.textile; please '
                'report it with the task that caused it (its arguments are not shown here).'
            )
        self.exit_json(**result)

    def _diagnose_404(self) -> str:
        try:
            info = self.api.node_info()
        except TextileError:
            info = {}
        if info.get('node_version'):
            return (
                f"{self.params['api_url']} is a go-textile node API, version {info['node_version']} "
                f"(API {info.get('cafe_version', 'unknown')}), but it has no tokens API under "
                f"/api/{self.params['api_version']}: check api_version; the tokens API needs go-textile "
                '0.1.10 or later.'
            )
        return (
            f"{self.params['api_url']} does not answer like a go-textile node API (GET / gave no node_version): "
            'check the port; the node API listens on 40600, not the cafe API port 40601 or the gateway port 5050.'
        )
