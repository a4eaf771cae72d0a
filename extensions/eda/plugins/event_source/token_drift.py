# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ansible-rulebook event source: the token drift of a fleet of Textile Cafes, as events.

ansible-rulebook loads this file with ``runpy.run_path``, where no ``ansible_collections`` package exists: the
collection's own module_utils (the one client, the token format, the connection checks) are loaded from this
file's collection by ``collection_utils``.
"""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
import importlib.util
import logging
import math
import os
import re
import sys
from types import ModuleType
from typing import Any, NamedTuple, Optional
from urllib.parse import urlsplit

DOCUMENTATION = r"""
---
short_description: Watch the access tokens of a fleet of Textile Cafes and put an event when a cafe drifts.
description:
  - An ansible-rulebook event source plugin that lists the stored token IDs of every cafe of a fleet, one
    GET /api/v0/tokens per cafe and poll, several cafes at once, and compares them with the IDs every cafe
    should hold.
  - A cafe's state is in_sync, drift (an expected ID is missing or, with exclusive, an ID is stored that is
    not expected) or unreachable (any failure to list, authentication failures included).
  - Edge-triggered. The first poll puts an event for every cafe that is not in_sync; after that a cafe puts an
    event only when its state, or its missing or unexpected IDs, changed since its previous poll (a cafe back in
    sync puts an in_sync event, so a rule can close an incident). Nothing is put while nothing changes.
  - 'The event: {"textile_drift": {"cafe": name, "api_url": url, "state": "in_sync", "drift" or "unreachable",
    "previous_state": the state at the previous poll or null, "missing_ids": [...], "unexpected_ids": [...],
    "count": the number of stored IDs or null, "error": one line or null}, "meta": {"hosts": name}}.
    meta.hosts makes run_playbook limit itself to that cafe.'
  - Events hold token IDs only (24 hexadecimal characters), never a token or a password, and so does every log
    line and error; run_playbook passes the whole event to the playbook as extra variables.
  - Each cafe is polled on its own schedule, so a cafe that hangs delays no other. A poll of one cafe takes at
    most (retries + 1) x timeout plus the waits between attempts (0.5 s, 1 s, 2 s, ..., at most 8 s).
  - An unreachable cafe never stops the source. Bad args stop it at start, before any request, with one
    message that names the arg (and the cafe or list position).
  - Talks to the cafes with the collection's own client (the one the modules use), which needs the Python
    library requests where ansible-rulebook runs.
options:
  cafes:
    description:
      - The cafes to watch, a mapping of each cafe's inventory host name to its api_url (the URL of its
        go-textile API, as the modules' api_url option). The name becomes the event's meta.hosts, the limit of a
        run_playbook action, so it must be a host of the inventory (letters, digits, '_', '.' and '-').
      - A cafe whose api_url is null uses the TEXTILE_API_URL environment variable, else http://127.0.0.1:40600.
      - An api_url with user info (user:password@) is refused; use api_username and api_password.
    type: dict
    required: true
  expected_ids:
    description:
      - Token IDs (24 hexadecimal characters, any case; never tokens) that every cafe should hold. A cafe missing
        any of them drifts.
    type: list
    elements: str
    default: []
  exclusive:
    description:
      - An ID stored on a cafe but not in expected_ids is drift too.
    type: bool
    default: false
  interval:
    description:
      - Seconds between the starts of two polls of a cafe, from 1 to 86400. A poll that takes longer is followed by
        the next one at once.
    type: float
    default: 60
  once:
    description:
      - Poll every cafe once, put that poll's events, and end; ansible-rulebook then shuts down once the actions
        they started have ended. For scheduled checks and tests.
    type: bool
    default: false
  concurrency:
    description:
      - How many cafes may be polled at the same time (1 to 64).
    type: int
    default: 8
  api_version:
    description:
      - API version path segment, v followed by digits.
    type: str
    default: v0
  api_username:
    description:
      - Basic Auth user (the account address on go-textile 0.7.2 and later), for every cafe.
      - Falls back to the TEXTILE_USERNAME environment variable of ansible-rulebook.
    type: str
  api_password:
    description:
      - Basic Auth password (the daemon pin), for every cafe.
      - Falls back to the TEXTILE_PASSWORD environment variable of ansible-rulebook. Prefer it to this arg, as
        ansible-rulebook itself may print a rulebook's source args at -vv.
    type: str
  validate_certs:
    description:
      - Verify the cafes' TLS certificates.
    type: bool
    default: true
  ca_path:
    description:
      - CA bundle to verify the cafes' certificates with.
    type: path
  client_cert:
    description:
      - Client certificate for mutual TLS behind a reverse proxy.
    type: path
  client_key:
    description:
      - Key of client_cert, when it is not in the same file.
    type: path
  timeout:
    description:
      - Seconds each request may take as a whole (connect and the whole answer), above 0 and at most 3600.
    type: float
    default: 30
  retries:
    description:
      - Further attempts of a list request after a connection error, a timeout or a 502, 503 or 504 (0 to 10).
    type: int
    default: 3
  headers:
    description:
      - Extra headers for a reverse proxy, for every request. They may not set X-Textile-*, nor Authorization
        when api_username is set.
    type: dict
  use_proxy:
    description:
      - Honour the HTTPS_PROXY, HTTP_PROXY and NO_PROXY environment variables (never for a loopback host). By
        default the client reads no proxy variables and no ~/.netrc.
    type: bool
    default: false
notes:
  - The rulebook textileio.textile.token_drift runs this source and restores a drifted cafe with the
    textileio.textile.provision playbook; see the collection's README, section React to drift.
  - go-textile's API has no change feed, so drift is found by polling; a no-op poll costs each cafe one list
    request.
"""

EXAMPLES = r"""
- textileio.textile.token_drift:
    cafes:
      cafe-eu-1: https://cafe-eu-1.example.org
      cafe-us-1: https://cafe-us-1.example.org
    expected_ids:
      - 0f1e2d3c4b5a69788796a5b4
      - a7d0589658d9f2a58c647400
    exclusive: true
    interval: 30

# One cafe on the rulebook's own host, Basic Auth from TEXTILE_USERNAME and TEXTILE_PASSWORD, checked once
- textileio.textile.token_drift:
    cafes:
      localhost: null
    expected_ids: ["{{ fleet_token_id }}"]
    once: true
"""

LOGGER = logging.getLogger('textileio.textile.token_drift')
NAME = 'textileio.textile.token_drift'
UTILS_PACKAGE = 'ansible_collections.textileio.textile.plugins.module_utils'
STATES = ('in_sync', 'drift', 'unreachable')
DEFAULTS: dict[str, Any] = {
    'expected_ids': [],
    'exclusive': False,
    'interval': 60.0,
    'once': False,
    'concurrency': 8,
    'api_version': 'v0',
    'api_username': None,
    'api_password': None,
    'validate_certs': True,
    'ca_path': None,
    'client_cert': None,
    'client_key': None,
    'timeout': 30.0,
    'retries': 3,
    'headers': None,
    'use_proxy': False,
}
ARGS = ('cafes',) + tuple(DEFAULTS)
MAX_INTERVAL = 86400
MAX_CONCURRENCY = 64
ERROR_LIMIT = 600  # characters of an error an event carries (the client's messages are shorter)
# An inventory host name that is also a plain host pattern: run_playbook uses it as the limit, where ',', ':',
# '*', '!', '&', '~' and '[' would select other hosts.
_HOST_NAME = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}')
_RESERVED_NAMES = ('all', 'ungrouped')
_TRUE = ('true', 'yes', 'on', '1')
_FALSE = ('false', 'no', 'off', '0')


# ---- the collection's own module_utils, from this file's location ---------------------------------------------


def collection_root() -> str:
    """The root of the collection that holds this file (``extensions/eda/plugins/event_source/`` is four below)."""
    return os.path.realpath(os.path.join(os.path.dirname(os.path.realpath(__file__)), '..', '..', '..', '..'))


def collection_utils(*leaves: str) -> dict[str, ModuleType]:
    """This collection's module_utils ``leaves`` (``'_client'``, ...), each under its own name.

    Each file, and the module_utils it imports, is loaded from ``plugins/module_utils`` of this file's collection
    into ``sys.modules`` under ``ansible_collections.textileio.textile.plugins.module_utils.<leaf>``, in import
    order, so that their imports of each other find them there: no package, finder or path is added, so it works
    the same with or without ansible's collection loader, from a checkout or an installed collection. A module
    already loaded from the same file is used as it is; one loaded from another copy of the collection is an
    error (two copies of one client in a process).
    """
    directory = os.path.join(collection_root(), 'plugins', 'module_utils')
    return {leaf: _load_util(directory, leaf, ()) for leaf in leaves}


def _load_util(directory: str, leaf: str, loading: tuple[str, ...]) -> ModuleType:
    name = f'{UTILS_PACKAGE}.{leaf}'
    path = os.path.join(directory, f'{leaf}.py')
    module = sys.modules.get(name)
    if module is not None:
        loaded_from = getattr(module, '__file__', None) or '?'
        if os.path.realpath(loaded_from) != os.path.realpath(path):
            raise ImportError(
                f'{NAME}: {name} is already loaded from {loaded_from}, another copy of textileio.textile than '
                f'the one of this event source ({directory}); run one copy of the collection per process.'
            )
        return module
    if leaf in loading:
        raise ImportError(f'{NAME}: the module_utils import each other in a circle: {" -> ".join(loading + (leaf,))}')
    with open(path, encoding='utf-8') as handle:
        source = handle.read()
    for sibling in sibling_imports(source):
        _load_util(directory, sibling, loading + (leaf,))
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f'{NAME}: cannot load {path}')
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def sibling_imports(source: str) -> list[str]:
    """The module_utils (leaf names) that a module_utils file imports, wherever in the file."""
    prefix = UTILS_PACKAGE + '.'
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == UTILS_PACKAGE:
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or '').startswith(prefix):
            found.append(str(node.module)[len(prefix) :])
        elif isinstance(node, ast.Import):
            found += [alias.name[len(prefix) :] for alias in node.names if alias.name.startswith(prefix)]
    return found


# ---- args -------------------------------------------------------------------------------------------------------


class Settings(NamedTuple):
    cafes: dict[str, str]  # inventory host name -> api_url
    expected_ids: frozenset[str]
    exclusive: bool
    interval: float
    once: bool
    concurrency: int
    client: dict[str, Any]  # TextileAPI's keyword arguments but api_url


def _shown(text: object, utils: dict[str, ModuleType]) -> str:
    """A name from the args fit for a message: one line, short, tokens redacted."""
    line = utils['_token_format'].redact(' '.join(str(text).split()))
    return line if len(line) <= 64 else line[:61] + '...'


def _boolean(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f'{name} must be true or false.')


def _number(name: str, value: object, low: float, high: float, what: str, whole: bool = False) -> Any:
    """A finite number from ``low`` to ``high`` (an int when ``whole``), given as a number or its text."""
    number: Any = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and len(value) <= 32:
        try:
            number = int(value.strip()) if whole else float(value.strip())
        except ValueError:
            number = None
    if isinstance(number, float) and not math.isfinite(number):
        number = None
    elif isinstance(number, float) and whole and number.is_integer():
        number = int(number)
    if number is None or (whole and not isinstance(number, int)) or not low <= number <= high:
        raise ValueError(f'{name} must be {what}.')
    return number


def _text(name: str, value: object) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f'{name} must be a string.')
    if '\0' in value:
        raise ValueError(f'{name} contains a NUL character.')
    return value


def _path(name: str, value: object) -> Optional[str]:
    text = _text(name, value)
    return None if text is None else os.path.expanduser(os.path.expandvars(text))


def _expected_ids(value: object, utils: dict[str, ModuleType]) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, (list, tuple)):
        kind = 'a string' if isinstance(value, str) else f'a {type(value).__name__}'
        raise ValueError(f'expected_ids must be a list of token IDs, not {kind}.')
    try:
        return frozenset(utils['_token_plan'].normalize_ids(list(value), 'expected_ids'))
    except utils['_token_plan'].PlanError as err:
        raise ValueError(str(err)) from None


def _cafes(value: object, environ: dict[str, str], utils: dict[str, ModuleType]) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise ValueError(
            'cafes must be a mapping of each cafe\'s inventory host name to its api_url, with one cafe or more.'
        )
    token_run = utils['_token_format'].TOKEN_RUN
    default_url = environ.get('TEXTILE_API_URL') or utils['_client'].DEFAULT_API_URL
    cafes = {}
    for position, (name, url) in enumerate(value.items()):
        if not isinstance(name, str) or not _HOST_NAME.fullmatch(name) or token_run.search(name):
            raise ValueError(
                f'cafes: the name of the cafe at position {position} is not an inventory host name (letters, '
                "digits, '_', '.' and '-', at most 255; never a token): run_playbook limits itself to it."
            )
        if name in _RESERVED_NAMES:
            raise ValueError(f'cafes: {name} names every host of the inventory, not a cafe; use the host\'s name.')
        if url is None:
            url = default_url
        problem = utils['_connection'].api_url_problem(url)
        if problem:
            raise ValueError(f'cafes[{name}]: {problem}')
        if token_run.search(url):
            raise ValueError(
                f'cafes[{name}]: api_url holds a base58 run of {utils["_token_format"].TOKEN_RUN_MIN_CHARS} characters '
                'or more, the shape of a token: a secret never belongs in a URL.'
            )
        cafes[name] = url.strip()
    return cafes


def parse_args(args: object, utils: dict[str, ModuleType], environ: Optional[dict[str, str]] = None) -> Settings:
    """The source's settings from its args, or ValueError: one sentence naming the arg, never its value."""
    environ = dict(os.environ if environ is None else environ)
    if not isinstance(args, dict):
        raise ValueError('the args must be a mapping (cafes: ..., expected_ids: ...).')
    unknown = sorted(str(key) for key in args if key not in ARGS and not str(key).startswith('eda_'))
    if unknown:
        raise ValueError(f'unknown arg {_shown(unknown[0], utils)}; the args are {", ".join(ARGS)}.')
    if 'cafes' not in args:
        raise ValueError('cafes is required: a mapping of each cafe\'s inventory host name to its api_url.')
    given = {key: DEFAULTS[key] if args.get(key) is None else args[key] for key in DEFAULTS}
    for key, fallback in (('api_username', 'TEXTILE_USERNAME'), ('api_password', 'TEXTILE_PASSWORD')):
        if args.get(key) is None and environ.get(fallback):
            given[key] = environ[fallback]
    cafes = _cafes(args['cafes'], environ, utils)
    expected = _expected_ids(given['expected_ids'], utils)
    exclusive = _boolean('exclusive', given['exclusive'])
    interval = float(
        _number('interval', given['interval'], 1, MAX_INTERVAL, f'a number of seconds from 1 to {MAX_INTERVAL}')
    )
    once = _boolean('once', given['once'])
    concurrency = _number(
        'concurrency',
        given['concurrency'],
        1,
        MAX_CONCURRENCY,
        f'a whole number from 1 to {MAX_CONCURRENCY}',
        whole=True,
    )
    headers = given['headers']
    if headers is not None:
        if not isinstance(headers, dict):
            raise ValueError('headers must be a mapping of header names to values.')
        if any(not isinstance(key, str) or utils['_token_format'].TOKEN_RUN.search(key) for key in headers):
            raise ValueError(
                'headers has a key (a header name) that is not a string or could be a token: a secret belongs in a '
                'value, never in a key.'
            )
    max_timeout, max_retries, seconds = (
        utils['_connection'].MAX_TIMEOUT,
        utils['_connection'].MAX_RETRIES,
        'a number of seconds',
    )
    params = {
        'api_version': _text('api_version', given['api_version']),
        'api_username': _text('api_username', given['api_username']),
        'api_password': _text('api_password', given['api_password']),
        'validate_certs': _boolean('validate_certs', given['validate_certs']),
        'ca_path': _path('ca_path', given['ca_path']),
        'client_cert': _path('client_cert', given['client_cert']),
        'client_key': _path('client_key', given['client_key']),
        # the ranges are the client's own (connection_problem checks them too, for the modules)
        'timeout': float(
            _number('timeout', given['timeout'], 0, max_timeout, f'{seconds} above 0 and at most {max_timeout}')
        ),
        'retries': _number(
            'retries', given['retries'], 0, max_retries, f'a whole number from 0 to {max_retries}', whole=True
        ),
        'headers': headers,
        'use_proxy': _boolean('use_proxy', given['use_proxy']),
    }
    problem = utils['_connection'].connection_problem(dict(params, api_url=next(iter(cafes.values()))))
    if problem:
        raise ValueError(problem)
    client = {
        'api_version': params['api_version'],
        'username': params['api_username'],
        'password': params['api_password'],
        'validate_certs': params['validate_certs'],
        'ca_path': params['ca_path'],
        'client_cert': params['client_cert'],
        'client_key': params['client_key'],
        'timeout': params['timeout'],
        'retries': params['retries'],
        'headers': params['headers'],
        'use_proxy': params['use_proxy'],
    }
    return Settings(cafes, expected, exclusive, interval, once, concurrency, client)


def configure(args: object, environ: Optional[dict[str, str]] = None) -> tuple[Settings, dict[str, ModuleType]]:
    """The settings and the collection's module_utils, or ValueError with one message naming the arg."""
    utils = collection_utils('_token_format', '_client', '_connection', '_token_plan', '_transport')
    if not utils['_client'].HAS_REQUESTS:
        raise ValueError(
            f'{NAME} needs the Python library requests where ansible-rulebook runs (pip install requests; an EDA '
            'decision environment must include it).'
        )
    if utils['_transport'].URLLIB3_PROBLEM:
        raise ValueError(f'{NAME}: {utils["_transport"].URLLIB3_PROBLEM}')
    try:
        settings = parse_args(args, utils, environ)
    except ValueError as err:
        # redact(): a path a check quotes may hold a token pasted in the wrong place; it is shown as its ID
        raise ValueError(f'{NAME}: {utils["_token_format"].redact(str(err))}') from None
    return settings, utils


# ---- polls and events --------------------------------------------------------------------------------------------


class Observation(NamedTuple):
    state: str
    missing_ids: tuple[str, ...]
    unexpected_ids: tuple[str, ...]
    stored: Optional[int]  # how many IDs the cafe stores; None when unreachable
    error: Optional[str]


def one_line(text: str, utils: dict[str, ModuleType]) -> str:
    """An error for an event or a log line: one line, tokens redacted, at most ERROR_LIMIT characters."""
    line = utils['_token_format'].redact(' '.join(str(text).split()))
    return line if len(line) <= ERROR_LIMIT else line[: ERROR_LIMIT - 3] + '...'


def observe(tokens: Any, settings: Settings, utils: dict[str, ModuleType]) -> Observation:
    """One poll of one cafe: its list of token IDs against the expected ones. Never raises."""
    try:
        stored = set(tokens.entries())
    except utils['_client'].TextileError as err:
        return Observation('unreachable', (), (), None, one_line(str(err), utils))
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # Not the client's error type: a bug. Its text might hold anything; the class alone is shown.
        return Observation('unreachable', (), (), None, f'The list request failed ({type(exc).__name__}).')
    missing = tuple(sorted(settings.expected_ids - stored))
    unexpected = tuple(sorted(stored - settings.expected_ids)) if settings.exclusive else ()
    return Observation('drift' if missing or unexpected else 'in_sync', missing, unexpected, len(stored), None)


def changed(previous: Optional[Observation], current: Observation) -> bool:
    """Whether a cafe puts an event: at its first poll unless in sync, then when its state or its IDs changed."""
    if previous is None:
        return current.state != 'in_sync'
    return current[:3] != previous[:3]


def drift_event(
    cafe: str, api_url: str, current: Observation, previous: Optional[Observation], utils: dict[str, ModuleType]
) -> dict[str, Any]:
    return {
        'textile_drift': {
            'cafe': cafe,
            'api_url': shown_url(api_url, utils),
            'state': current.state,
            'previous_state': previous.state if previous else None,
            'missing_ids': list(current.missing_ids),
            'unexpected_ids': list(current.unexpected_ids),
            'count': current.stored,
            'error': current.error,
        },
        'meta': {'hosts': cafe},
    }


def shown_url(api_url: str, utils: dict[str, ModuleType]) -> str:
    """The api_url as an event shows it: without user info (refused anyway), a token-shaped run as its ID."""
    parts = urlsplit(api_url)
    netloc = parts.netloc.rpartition('@')[2]
    return utils['_token_format'].redact(parts._replace(netloc=netloc).geturl())


class Fleet:
    """The cafes being watched: one client each, their last observations, and the threads that poll them."""

    def __init__(self, settings: Settings, utils: dict[str, ModuleType]) -> None:
        self.settings = settings
        self.utils = utils
        self.previous: dict[str, Optional[Observation]] = {name: None for name in settings.cafes}
        self.tokens: dict[str, Any] = {}
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=min(settings.concurrency, len(settings.cafes)), thread_name_prefix='token_drift'
        )
        for name, url in settings.cafes.items():
            try:
                self.tokens[name] = utils['_client'].Tokens(utils['_client'].TextileAPI(url, **settings.client))
            except Exception as exc:  # pylint: disable=broad-exception-caught
                self.close()
                raise ValueError(
                    f'{NAME}: cafes[{name}]: the client could not be set up ({type(exc).__name__}).'
                ) from None

    def close(self) -> None:
        """Stop the polls: requests in flight end within their timeout; no thread is waited for."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        for tokens in self.tokens.values():
            tokens.api.close()

    async def poll(self, name: str) -> Optional[dict[str, Any]]:
        """Poll one cafe; its event when it changed, else None."""
        loop = asyncio.get_running_loop()
        current = await loop.run_in_executor(self.executor, observe, self.tokens[name], self.settings, self.utils)
        previous, self.previous[name] = self.previous[name], current
        if not changed(previous, current):
            LOGGER.debug('%s: %s, unchanged', name, current.state)
            return None
        LOGGER.info(
            '%s: %s (was %s)%s',
            name,
            current.state,
            previous.state if previous else 'not polled',
            f': {current.error}'
            if current.error
            else f', {len(current.missing_ids)} missing, {len(current.unexpected_ids)} unexpected',
        )
        return drift_event(name, self.settings.cafes[name], current, previous, self.utils)

    async def poll_all(self) -> list[dict[str, Any]]:
        """One poll of every cafe at once (bounded by concurrency); their events in the order of ``cafes``."""
        events = await asyncio.gather(*(self.poll(name) for name in self.settings.cafes))
        return [event for event in events if event is not None]

    async def watch(self, name: str, queue: asyncio.Queue[Any]) -> None:
        """Poll one cafe every ``interval`` seconds (start to start) until cancelled."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            event = await self.poll(name)
            if event is not None:
                await queue.put(event)
            due = max(due + self.settings.interval, loop.time())
            await asyncio.sleep(due - loop.time())


def warn_plain_http(settings: Settings, utils: dict[str, ModuleType]) -> None:
    """Warn, once per cafe, when its Basic Auth pair would cross the network in plain http."""
    if settings.client['username'] is None:
        return
    for name, url in settings.cafes.items():
        parts = urlsplit(url)
        if parts.scheme == 'http' and not utils['_connection'].is_loopback(parts.hostname):
            LOGGER.warning(
                '%s: api_url uses plain http to a host that is not a loopback address: the Basic Auth password '
                'crosses the network unencrypted. Use https (for example behind a TLS reverse proxy).',
                name,
            )


async def main(queue: asyncio.Queue[Any], args: dict[str, Any]) -> None:
    """Watch the cafes of ``args`` and put an event on ``queue`` when a cafe's state changes."""
    settings, utils = configure(args)
    warn_plain_http(settings, utils)
    fleet = Fleet(settings, utils)
    LOGGER.info(
        'watching %d cafes%s (at most %d at once)',
        len(settings.cafes),
        ' once' if settings.once else f' every {settings.interval:g} s',
        settings.concurrency,
    )
    try:
        if settings.once:
            for event in await fleet.poll_all():
                await queue.put(event)
            return
        await asyncio.gather(*(fleet.watch(name, queue) for name in settings.cafes))
    finally:
        fleet.close()


if __name__ == '__main__':
    # MockQueue if running directly: one poll (no retry) of the cafe of TEXTILE_API_URL, else this host's, printed.

    class MockQueue(asyncio.Queue[Any]):
        """A fake queue."""

        async def put(self, event: dict[str, Any]) -> None:
            """Print the event."""
            print(event)  # noqa: T201

    asyncio.run(main(MockQueue(), {'cafes': {'localhost': None}, 'once': True, 'retries': 0}))
