# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The textileio.textile.fleet_summary filter (documented in fleet_summary.yml): the report's logic, computed
once; the report's JSON and HTML templates only render what it returns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from ansible.errors import AnsibleFilterError

from ansible_collections.textileio.textile.plugins.module_utils._token_format import redact
from ansible_collections.textileio.textile.plugins.plugin_utils._id_lists import canonical_ids, id_problems

# What a cafe/ID cell of the report is: expected and stored, expected and not stored, stored and not expected,
# neither, or not known because the cafe could not be read.
STATES = ('stored', 'missing', 'unexpected', 'blank', 'unknown')
# The error of a host that has no entry: the report's tasks did not run there (it failed or was unreachable).
NO_ENTRY = 'Ansible could not run the report tasks on this host'


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def read_entry(entry: object) -> tuple[dict, set[str] | None, str | None]:
    """``(the cafe as the JSON report has it, its stored IDs or None when unknown, the note for a null URL)``.

    A cafe is reachable only when its entry says so and holds the list of IDs it read; anything else (no entry:
    null, or a mapping without ``reachable``; a broken one) is a cafe whose tokens are unknown.
    """
    if not isinstance(entry, Mapping) or 'reachable' not in entry:
        cafe = {'reachable': False, 'error': NO_ENTRY, 'api_url': None, 'node_version': None}
        return dict(cafe, count=None, ids=None), None, 'not known'
    listed = entry.get('ids')
    reachable = entry.get('reachable') is True and isinstance(listed, (list, tuple))
    ids = {str(i).strip().lower() for i in listed} if reachable else None  # type: ignore[union-attr]
    api_url = _text(entry.get('api_url'))
    cafe = {
        'reachable': reachable,
        'error': None if reachable else str(entry.get('error') or 'no result'),
        'api_url': api_url,
        'node_version': _text(entry.get('node_version')),
        'count': None if ids is None else len(ids),
        'ids': None if ids is None else sorted(ids),
    }
    note = None if api_url is not None else str(entry.get('api_url_note') or 'default')
    return cafe, ids, note


def cafe_count(number: int) -> str:
    return f'{number} cafe' if number == 1 else f'{number} cafes'


def verdict(total: int, read: int, missing: int, unexpected: int) -> dict:
    """The report's verdict: none when no cafe was read; otherwise drift or not, covering only the cafes read."""
    unread = total - read
    if read == 0:
        text = 'No verdict: no cafe could be read, so the tokens of the fleet are unknown.'
        return {'state': 'unknown', 'partial': False, 'text': text}
    covers = f' on the {read} of {cafe_count(total)} that could be read; {unread} could not be read' if unread else ''
    if missing or unexpected:
        text = f'Drift: {missing} missing, {unexpected} unexpected (cafe/token pairs){covers}.'
        return {'state': 'drift', 'partial': bool(unread), 'text': text}
    if unread:
        text = f'No drift{covers}, so the fleet as a whole is not known to be in sync.'
    else:
        text = 'No drift: every cafe holds exactly the expected tokens.'
    return {'state': 'in_sync', 'partial': bool(unread), 'text': text}


def fleet_summary(entries: object, expected_ids: object = None, labels: object = None) -> dict:
    """The fleet report from each host's entry (``{host: entry}``, null or ``{}`` for a host without one), the
    expected IDs and the labels.

    Returns ``cafes`` and ``summary`` (the JSON report's schema), and what the HTML page shows besides:
    ``verdict``, ``hosts`` (sorted), ``ids`` (the matrix rows), ``cells`` (``{host: {id: state}}``), ``counts``
    (missing and unexpected cells), ``labels`` (canonical ID to owner) and ``url_notes`` (for a null URL).
    """
    if not isinstance(entries, Mapping):
        raise AnsibleFilterError('fleet_summary: the input must be a mapping of each host to its report entry.')
    try:
        expected = sorted(canonical_ids([] if expected_ids is None else expected_ids, 'expected_ids'))
    except ValueError as err:
        raise AnsibleFilterError(f'fleet_summary: {err}.') from None
    labels = {} if labels is None else labels
    problems = id_problems(labels, 'labels', keys=True)
    if problems:
        raise AnsibleFilterError('fleet_summary: ' + '; '.join(problems) + '.')

    by_host = {str(host): entry for host, entry in entries.items()}
    hosts = sorted(by_host)
    cafes, stored, url_notes = {}, {}, {}
    for host in hosts:
        cafes[host], ids, note = read_entry(by_host[host])
        if ids is not None:
            stored[host] = ids
        if note is not None:
            url_notes[host] = note
    read = sorted(stored)
    held = set().union(*stored.values())
    # Without expected IDs, every ID some cafe that was read holds is expected on all of them.
    wanted = set(expected) if expected else held
    missing = {}
    for token_id in sorted(wanted):
        lacking = [host for host in read if token_id not in stored[host]]
        if lacking:
            missing[token_id] = lacking
    unexpected = {}
    for host in read:
        extra = sorted(stored[host] - wanted)
        if extra:
            unexpected[host] = extra
    rows = sorted(wanted | held)
    cells = {}
    for host in hosts:
        ids = stored.get(host)
        cells[host] = {token_id: state(token_id, ids, wanted) for token_id in rows}
    counts = {'missing': sum(map(len, missing.values())), 'unexpected': sum(map(len, unexpected.values()))}
    summary = {
        'cafes': len(hosts),
        'reachable': len(read),
        'total_stored': sum(map(len, stored.values())),
        'distinct_ids': len(held),
        'expected_ids': expected,
        'missing': missing,
        'unexpected': unexpected,
        'unreadable': {host: cafes[host]['error'] for host in hosts if host not in stored},
    }
    return {
        'cafes': cafes,
        'summary': summary,
        'verdict': verdict(len(hosts), len(read), counts['missing'], counts['unexpected']),
        'hosts': hosts,
        'ids': rows,
        'cells': cells,
        'counts': counts,
        'labels': {
            key.strip().lower(): redact('' if owner is None else str(owner))
            for key, owner in cast(Mapping, labels).items()
        },
        'url_notes': url_notes,
    }


def state(token_id: str, ids: set[str] | None, wanted: set[str]) -> str:
    """The state of one cafe/ID cell (one of STATES)."""
    if ids is None:
        return 'unknown'
    if token_id in ids:
        return 'stored' if token_id in wanted else 'unexpected'
    return 'missing' if token_id in wanted else 'blank'


class FilterModule:
    """Filters of textileio.textile."""

    def filters(self) -> dict:
        return {'fleet_summary': fleet_summary}
