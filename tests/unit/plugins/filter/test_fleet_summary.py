# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The textileio.textile.fleet_summary filter (the report's logic, computed once) over generated fleets, and the
role's HTML template rendering it: each cell of the page has the class of the state the summary gives it."""

from __future__ import annotations

import html
import json
import os
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest
from ansible.errors import AnsibleFilterError
from ansible.plugins.filter.core import to_nice_json
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.textileio.textile.plugins.filter.fleet_summary import NO_ENTRY, STATES
from ansible_collections.textileio.textile.plugins.filter.fleet_summary import FilterModule as Summary
from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58encode

fleet_summary = Summary().filters()['fleet_summary']

TEMPLATES = Path(__file__).resolve().parents[4] / 'roles' / 'cafe_token_report' / 'templates'
# four token IDs (one assignment each: ansible-lint reads module-level assignments as plugin docs)
A = '%024x' % 0xA1
B = '%024x' % 0xB2
C = '%024x' % 0xC3
D = '%024x' % 0xD4

HOSTS = st.lists(st.from_regex(r'\Acafe[a-z0-9-]{1,6}\Z'), unique=True, max_size=6)
POOL = st.lists(st.binary(min_size=12, max_size=12).map(bytes.hex), unique=True, max_size=6)


@st.composite
def fleets(draw):
    """``(entries, expected IDs as a user may give them, labels)`` of a generated fleet: each host has no entry
    (None or {}), an entry of a cafe that could not be read, or the IDs it read, from one pool of IDs."""
    hosts, pool = draw(HOSTS), draw(POOL)
    entries = {}
    for host in hosts:
        kind = draw(st.sampled_from(['none', 'empty', 'unread', 'read', 'read']))
        if kind == 'none':
            entries[host] = None
        elif kind == 'empty':
            entries[host] = {}
        elif kind == 'unread':
            entries[host] = {'reachable': False, 'error': draw(st.text(min_size=1, max_size=20)), 'ids': None}
        else:
            ids = draw(st.lists(st.sampled_from(pool), unique=True)) if pool else []
            entries[host] = {'reachable': True, 'error': None, 'ids': ids, 'api_url': draw(st.none() | st.just('u'))}
    extra = draw(st.lists(st.binary(min_size=12, max_size=12).map(bytes.hex), max_size=2))
    expected = draw(st.lists(st.sampled_from(pool + extra), unique=True)) if pool + extra else []
    expected = [draw(st.sampled_from([e, e.upper(), f' {e}\n'])) for e in expected]
    labels = {e: draw(st.text(max_size=8)) for e in draw(st.lists(st.sampled_from(pool), unique=True))} if pool else {}
    return entries, expected, labels


def read_hosts(entries):
    return {h for h, e in entries.items() if isinstance(e, dict) and e.get('reachable') is True}


@settings(max_examples=300)
@given(fleet=fleets())
def test_each_id_of_each_cafe_read_is_in_exactly_one_state_and_unread_cafes_are_unknown(fleet):
    entries, expected, labels = fleet
    result = fleet_summary(entries, expected, labels)
    read = read_hosts(entries)
    wanted = {e.strip().lower() for e in expected} or set().union(*(entries[h]['ids'] for h in read))
    assert result['hosts'] == sorted(entries)
    assert set(result['cells']) == set(entries)
    for host in entries:
        cells = result['cells'][host]
        assert set(cells) == set(result['ids'])
        by_state = {state: {i for i, s in cells.items() if s == state} for state in STATES}
        assert set(cells.values()) <= set(STATES)
        if host not in read:
            # a host without an entry, or one that could not be read: unknown everywhere, never reachable
            assert by_state['unknown'] == set(result['ids'])
            assert result['cafes'][host]['reachable'] is False
            assert result['cafes'][host]['count'] is None and result['cafes'][host]['ids'] is None
            assert host in result['summary']['unreadable']
            if not entries[host]:
                assert result['summary']['unreadable'][host] == NO_ENTRY
            continue
        ids = set(entries[host]['ids'])
        assert by_state['unknown'] == set()
        assert by_state['stored'] | by_state['unexpected'] == ids  # every stored ID: stored or unexpected
        assert by_state['stored'] == ids & wanted and by_state['unexpected'] == ids - wanted
        assert by_state['missing'] == wanted - ids and by_state['blank'] == set(result['ids']) - ids - wanted
        assert result['cafes'][host]['ids'] == sorted(ids) and result['cafes'][host]['count'] == len(ids)
        assert host not in result['summary']['unreadable']


@settings(max_examples=300)
@given(fleet=fleets())
def test_the_counts_add_up(fleet):
    entries, expected, labels = fleet
    result = fleet_summary(entries, expected, labels)
    summary, cells = result['summary'], result['cells']
    read = read_hosts(entries)

    def cells_in(state):
        return sorted((host, i) for host, row in cells.items() for i, s in row.items() if s == state)

    assert summary['cafes'] == len(entries) == summary['reachable'] + len(summary['unreadable'])
    assert summary['reachable'] == len(read)
    assert summary['total_stored'] == sum(len(entries[h]['ids']) for h in read)
    assert summary['total_stored'] == len(cells_in('stored')) + len(cells_in('unexpected'))
    assert summary['distinct_ids'] == len(set().union(*(entries[h]['ids'] for h in read)))
    assert summary['expected_ids'] == sorted({e.strip().lower() for e in expected})
    assert cells_in('missing') == sorted((h, i) for i, hosts in summary['missing'].items() for h in hosts)
    assert cells_in('unexpected') == sorted((h, i) for h, ids in summary['unexpected'].items() for i in ids)
    assert result['counts'] == {'missing': len(cells_in('missing')), 'unexpected': len(cells_in('unexpected'))}
    assert len(cells_in('unknown')) == len(result['ids']) * len(summary['unreadable'])
    if not expected:
        assert summary['unexpected'] == {}


@settings(max_examples=200)
@given(fleet=fleets())
def test_the_verdict_covers_only_the_cafes_read(fleet):
    entries, expected, labels = fleet
    result = fleet_summary(entries, expected, labels)
    verdict, summary = result['verdict'], result['summary']
    read, unread = summary['reachable'], len(summary['unreadable'])
    drift = result['counts']['missing'] + result['counts']['unexpected'] > 0
    if read == 0:
        assert verdict == {
            'state': 'unknown',
            'partial': False,
            'text': 'No verdict: no cafe could be read, so the tokens of the fleet are unknown.',
        }
        return
    assert verdict['state'] == ('drift' if drift else 'in_sync')
    assert verdict['partial'] is (unread > 0)
    if unread:
        assert (
            f'on the {read} of {len(entries)} ' in verdict['text'] and f'{unread} could not be read' in verdict['text']
        )
    else:
        assert 'could not be read' not in verdict['text']


def test_a_host_without_an_entry_is_not_reachable():
    """The planted fault of the issue: a host whose report tasks did not run was counted as reachable."""
    result = fleet_summary({'cafe1': {}, 'cafe2': None, 'cafe3': {'reachable': True, 'ids': [A]}})
    assert result['summary']['reachable'] == 1
    assert result['summary']['unreadable'] == {'cafe1': NO_ENTRY, 'cafe2': NO_ENTRY}
    assert result['cafes']['cafe1'] == {
        'reachable': False,
        'error': NO_ENTRY,
        'api_url': None,
        'node_version': None,
        'count': None,
        'ids': None,
    }
    assert result['url_notes'] == {'cafe1': 'not known', 'cafe2': 'not known', 'cafe3': 'default'}


def test_a_broken_entry_is_a_cafe_that_could_not_be_read():
    result = fleet_summary({'cafe1': {'reachable': 'yes', 'ids': [A]}, 'cafe2': {'reachable': True, 'ids': None}})
    assert result['summary']['reachable'] == 0
    assert result['summary']['unreadable'] == {'cafe1': 'no result', 'cafe2': 'no result'}


def test_missing_and_unexpected_are_told_apart():
    entries = {'cafe1': {'reachable': True, 'ids': [A, B, C]}, 'cafe2': {'reachable': True, 'ids': [A]}}
    result = fleet_summary(entries, [A, B.upper()], {f' {A.upper()} ': 'fleet'})
    assert result['cells'] == {
        'cafe1': {A: 'stored', B: 'stored', C: 'unexpected'},
        'cafe2': {A: 'stored', B: 'missing', C: 'blank'},
    }
    assert result['summary']['missing'] == {B: ['cafe2']}
    assert result['summary']['unexpected'] == {'cafe1': [C]}
    assert result['labels'] == {A: 'fleet'}


def test_a_token_in_a_label_is_shown_as_its_id():
    token = b58encode(bytes.fromhex(D) + os.urandom(32))
    result = fleet_summary({}, [], {A: f'owner {token}'})
    assert result['labels'] == {A: f'owner {D}'}


@pytest.mark.parametrize(
    'entries, expected, labels, message',
    [
        ([], [], {}, 'the input must be a mapping of each host'),
        ({}, A, {}, 'expected_ids must be a list of token IDs'),
        ({}, [A, 'xyz'], {}, 'expected_ids[1]: 3 characters long'),
        ({}, [], {'web': 'x'}, 'labels[key 0]: 3 characters long'),
        ({}, [], [A], 'labels must be a mapping of token IDs to owners'),
    ],
)
def test_bad_input_fails_naming_it_never_showing_it(entries, expected, labels, message):
    with pytest.raises(AnsibleFilterError) as info:
        fleet_summary(entries, expected, labels)
    assert message in str(info.value)


# ---- the HTML template renders the summary: one class per cell, the state the summary gives it ----------------


class Page(HTMLParser):
    """The states a rendered page shows: ``matrix[(id, host)]`` and ``sections[(host, id)]`` as (classes, text),
    the verdict banner's classes and data-state, and the ids of the footnotes."""

    def __init__(self):
        super().__init__()
        self.matrix, self.sections, self.verdict, self.notes = {}, {}, None, set()
        self._table = self._row_id = self._section = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'table':
            self._table = attrs.get('id') or attrs.get('class')
        elif tag == 'section':
            self._section = attrs.get('data-host')
        elif tag == 'tr':
            self._row_id = attrs.get('data-id')
        elif tag == 'td' and self._row_id is not None:
            self._cell = [set((attrs.get('class') or '').split()), attrs.get('data-host'), []]
        elif tag == 'p' and attrs.get('id') == 'verdict':
            self.verdict = (set(attrs['class'].split()), attrs['data-state'])
        elif tag == 'p' and (attrs.get('id') or '').startswith('note-'):
            self.notes.add(attrs['id'])

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[2].append(data)

    def handle_endtag(self, tag):
        if tag == 'td' and self._cell is not None:
            classes, host, text = self._cell
            text = ''.join(text).strip()
            if self._table == 'matrix' and host is not None:
                self.matrix[(self._row_id, host)] = (classes, text)
            elif self._table == 'cafe-tokens' and classes & set(STATES):
                self.sections[(self._section, self._row_id)] = (classes, text)
            self._cell = None
        elif tag == 'section':
            self._section = None


ENVIRONMENT = jinja2.Environment(undefined=jinja2.StrictUndefined, loader=jinja2.FileSystemLoader(str(TEMPLATES)))
ENVIRONMENT.filters.update(to_nice_json=to_nice_json)
GENERATED_AT = '2026-01-31T12:00:00Z'


def render_html(result):
    """The role's page of ``result``, rendered by its template."""
    return ENVIRONMENT.get_template('report.html.j2').render(
        cafe_token_report_fleet=result, cafe_token_report_generated_at=GENERATED_AT
    )


def render(result):
    """``(the page as parsed, the JSON report)`` of ``result``, rendered by the role's templates."""
    page = Page()
    page.feed(render_html(result))
    data = ENVIRONMENT.get_template('report.json.j2').render(
        cafe_token_report_fleet=result, cafe_token_report_generated_at=GENERATED_AT
    )
    return page, json.loads(data)


@settings(max_examples=150)
@given(fleet=fleets())
def test_the_page_shows_each_cell_in_the_state_the_summary_gives_it(fleet):
    result = fleet_summary(*fleet)
    page, data = render(result)
    assert data == {'generated_at': GENERATED_AT, 'cafes': result['cafes'], 'summary': result['summary']}
    expected_cells = {(i, h): s for h, row in result['cells'].items() for i, s in row.items()}
    assert {key: (classes - {'state'}, text) for key, (classes, text) in page.matrix.items()} == {
        key: ({s}, '' if s == 'blank' else s) for key, s in expected_cells.items()
    }
    # each cafe that was read lists its IDs that are not blank, each with its state
    assert page.sections == {(h, i): ({s}, s) for (i, h), s in expected_cells.items() if s not in ('blank', 'unknown')}
    classes, state = page.verdict
    assert state == result['verdict']['state']
    assert (
        classes - {'banner'}
        == {
            'drift': {'drift'},
            'in_sync': {'partial' if result['verdict']['partial'] else 'ok'},
            'unknown': {'unread'},
        }[state]
    )
    notes = set(result['url_notes'].values())
    assert page.notes == {'note-' + note.replace(' ', '-') for note in notes}


def test_the_page_of_a_fleet_with_every_state():
    """The planted fault of the issue, missing and unexpected swapped in the page, shows here cell by cell."""
    entries = {
        'cafe1': {'reachable': True, 'ids': [A, B, C], 'api_url': 'http://cafe1'},
        'cafe2': {'reachable': True, 'ids': [A], 'api_url': 'http://cafe2'},
        'cafe3': {'reachable': False, 'error': '<b>Basic Auth</b> failed', 'ids': None, 'api_url': 'http://cafe3'},
    }
    result = fleet_summary(entries, [A, B], {C: '<script>x</script>'})
    page, _data = render(result)
    states = {key: (classes - {'state'}).pop() for key, (classes, _text) in page.matrix.items()}
    assert states == {
        (A, 'cafe1'): 'stored',
        (A, 'cafe2'): 'stored',
        (A, 'cafe3'): 'unknown',
        (B, 'cafe1'): 'stored',
        (B, 'cafe2'): 'missing',
        (B, 'cafe3'): 'unknown',
        (C, 'cafe1'): 'unexpected',
        (C, 'cafe2'): 'blank',
        (C, 'cafe3'): 'unknown',
    }
    assert page.notes == set()  # every cafe has its URL: no footnote
    text = render_html(result)
    assert '<script>x' not in text and html.escape('<script>x</script>') in text
    assert '<b>Basic' not in text
