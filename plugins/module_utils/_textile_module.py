"""The module glue: what every module of the collection does around its own work.

``TextileModule`` is one run of a module. It holds the ``AnsibleModule`` (``module``), the Textile client of the
run (``api``, ``tokens``), the run's progress (what a writing module has changed so far, given by the module) and
the one failure path: every failure, Ansible's own argument checks included, ends in ``TextileModule.fail_json``,
which adds the progress and masks the result in one pass (``_secrets.masked``). ``generate_argspec()`` gives a
module's argument spec: the connection options (with their environment fallbacks) and the module's own. The
connection options are checked before any request (``_connection.py``); the plain-http warning and the secret
check (bcrypt, else the validate endpoint) are here too.

``CheckedModule`` is the ``AnsibleModule`` of a run, with one hook: ``_load_params``, the only point between
reading the arguments and Ansible's own checks, which may fail echoing them. There it hides every value that could
be a token or a credential, and refuses what Ansible's checks or its invocation log would fail on without naming
the option. Its ``fail_json`` raises ``Refused``, so that the run fails through its one path.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any, Callable, NoReturn, Protocol
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


def generate_argspec(**options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A module's argument spec: the connection options, then the module's own ``options``."""
    return dict(connection_argument_spec(), **options)


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


def token_key_problem(module: AnsibleModule) -> str | None:
    """Ansible never hides dict keys: the problem of a key that could be a token (a header name, or the key of a
    mapping given where none belongs), with the keys of that option masked in the arguments a failure echoes.
    Checked on the raw arguments and again after Ansible's checks, which turn a string such as ``name=value`` into
    a dict."""
    keyed = sorted(name for name, value in module.params.items() if token_runs(keys_in(value)))
    if not keyed:
        return None
    module.params.update({name: mask_keys(module.params[name]) for name in keyed})
    canonical = {alias: name for name, spec in module.argument_spec.items() for alias in spec.get('aliases', ())}
    return (
        f'{canonical.get(keyed[0], keyed[0])} has a key (a header name) that could be a '
        'token: a secret belongs in a value, which is hidden, never in a key.'
    )


class Refused(Exception):
    """A ``fail_json`` of Ansible (its argument checks, the checks of ``CheckedModule._load_params``), raised so
    that the run fails it through its one path."""

    def __init__(self, module: CheckedModule, msg: str, result: dict[str, Any]) -> None:
        super().__init__(msg)
        self.module, self.msg, self.result = module, msg, result


class CheckedModule(AnsibleModule):
    """The AnsibleModule of a run: its one hook checks the raw arguments, and every ``fail_json`` raises Refused."""

    no_log_values: set[str]
    api_url_given = False  # whether api_url came from the task or the environment (else the default is used)

    def _load_params(self) -> None:
        """Read the arguments, then, before Ansible checks anything (and may fail echoing them): hide every value
        that could be a token, wherever it was given, the values of no_log options, and any api_url that carries
        user info; refuse a token-shaped key, a NUL character (Ansible's invocation log fails on it naming no
        option) and an infinite whole number (ansible-core's int check raises OverflowError, a traceback)."""
        super()._load_params()
        p, spec = self.params, self.argument_spec
        hide(self, token_runs(dict(p, **{name: os.environ.get(name) for name in FALLBACK_ENV})))
        for name, option in spec.items():
            if option.get('no_log'):
                for key in [name] + list(option.get('aliases', ())):
                    hide(self, strings_in(p.get(key), keys=False))
        for url in (p.get('api_url'), os.environ.get('TEXTILE_API_URL')):
            if isinstance(url, str) and '@' in url and len(url.strip()) >= 8:
                hide(self, {url, url.strip()})
        self.api_url_given = p.get('api_url') is not None or bool(os.environ.get('TEXTILE_API_URL'))
        problem = token_key_problem(self)
        if problem:
            self.fail_json(msg=problem)
        canonical = {key: name for name, option in spec.items() for key in [name] + list(option.get('aliases', ()))}
        where = nul_in({canonical[key]: value for key, value in p.items() if key in canonical})
        if where:
            self.fail_json(msg=f'{where} contains a NUL character.')
        for name in sorted(spec):
            if spec[name].get('type') == 'int' and is_infinite(p.get(name)):
                self.fail_json(msg=f'{name} must be a whole number.')

    def fail_json(self, msg: str, **result: Any) -> NoReturn:
        raise Refused(self, msg, result)


class Progress(Protocol):
    """What a module has done so far, which every failure reports (a module that writes gives one)."""

    def result(self) -> dict[str, Any]:
        """Result values every failure carries."""

    def note(self) -> str:
        """A sentence naming the work done before a failure, or ''."""


class NoProgress:
    """The progress of a module that changes nothing."""

    def result(self) -> dict[str, Any]:
        return {}

    def note(self) -> str:
        return ''


class TextileModule:
    """One run of a module of the collection: the AnsibleModule (``module``) with the connection options, checked
    before any request, a Textile client (``api``, ``tokens``), the run's ``progress``, and the one failure path
    (``fail_json``)."""

    def __init__(
        self, argument_spec: dict[str, dict[str, Any]] | None = None, progress: Progress | None = None, **kwargs: Any
    ) -> None:
        """``kwargs`` are AnsibleModule's (``supports_check_mode``, ...); ``progress`` the work the run has done."""
        self.progress = progress or NoProgress()
        self.warned: set[str] = set()
        try:
            self.module = CheckedModule(argument_spec=generate_argspec(**(argument_spec or {})), **kwargs)
        except Refused as refused:
            self.module = refused.module
            self.fail_json(refused.msg, **refused.result)
        self.params = p = self.module.params
        self.check_mode = self.module.check_mode
        self.diff = self.module._diff  # pylint: disable=protected-access
        problem = token_key_problem(self.module)
        if problem:
            self.fail_json(problem)
        if not HAS_REQUESTS:
            self.fail_json(missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
        if URLLIB3_PROBLEM:
            self.fail_json(URLLIB3_PROBLEM)
        problem = connection_problem(p)
        if problem:
            self.fail_json(problem)
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

    def warn(self, warning: str) -> None:
        """Warn once with ``warning``."""
        if warning not in self.warned:
            self.warned.add(warning)
            self.module.warn(warning)

    def warn_plain_http(self) -> None:
        """Warn once when credentials or tokens travel over plain http to a host that is not loopback (through a
        proxy or not: a proxy is never used for loopback)."""
        url = urlsplit(self.params['api_url'].strip())
        if url.scheme == 'http' and not is_loopback(url.hostname):
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
            self.warn(VALIDATE_LOG_WARNING)
            matches = self.tokens.validate(token.text)
        return matches

    # The one failure path

    def fail_json(self, msg: str, error: TextileError | None = None, **result: Any) -> None:
        """Fail: ``msg`` (with the cause when ``error``, a TextileError, is given), then the work already done.

        Every failure of the collection's modules comes here, Ansible's own argument checks included (``Refused``).
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
        note = self.progress.note()
        result = dict(self.progress.result(), **result, msg=f'{msg} {note}' if note else msg)
        AnsibleModule.fail_json(self.module, **self._masked(result))  # CheckedModule's would raise Refused again

    def exit_json(self, **result: Any) -> None:
        self.module.exit_json(**self._masked(result))

    def _masked(self, result: dict[str, Any]) -> dict[str, Any]:
        """What Ansible is about to return, its no_log values masked as Ansible's ``remove_values`` would, in one
        pass: the result, and the arguments when Ansible adds them as the invocation (always before ansible-core
        2.20; from 2.20 only when inject_invocation is set). Ansible then searches it only for the values that
        contain ``*`` and occur in it (masks can form those), instead of every string for every declared token.

        From 2.22 the module does not mask its result (the controller masks the registered secrets).
        """
        if HAS_SECRETS_API:
            return result
        module = self.module
        if getattr(module, '_inject_invocation', True):  # not yet set when the hook fails
            result = dict(result, invocation={'module_args': module.params})
        shown, module.no_log_values = masked(result, module.no_log_values)
        return shown

    def explain(self, err: TextileError, context: str) -> str:
        """A TextileError as a sentence a person can act on, after ``context`` (what was being done)."""
        text = f'{context}: {err}'
        if err.kind == 'not_found' and str(err.path).endswith('/tokens'):  # a path never ends in /
            text = f'{text} {self._diagnose_404()}'
        elif err.kind in ('connection', 'dns', 'timeout') and not self.module.api_url_given:
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
