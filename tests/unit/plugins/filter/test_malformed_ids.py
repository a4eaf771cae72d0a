# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The textileio.textile.malformed_ids and canonical_ids filters: the one check of every ID list of the roles,
playbooks and report (positions named, values never shown), and the one normalisation."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.textileio.textile.plugins.filter.canonical_ids import FilterModule as Canonical
from ansible_collections.textileio.textile.plugins.filter.malformed_ids import FilterModule as Malformed
from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58encode
from ansible_collections.textileio.textile.plugins.plugin_utils._id_lists import MAX_PROBLEMS
from ansible_collections.textileio.textile.tests.unit.plugins.filter.id_strategies import (
    ENTRIES,
    IDS,
    NEAR_IDS,
    TOKENS,
    VALUES,
    is_canonical_after_strip,
)

malformed_ids = Malformed().filters()['malformed_ids']
canonical_ids = Canonical().filters()['canonical_ids']

ID = '0f1e2d3c4b5a69788796a5b4'
# a fixed token (a random one in a parameter's name would differ between pytest-xdist workers)
TOKEN = b58encode(bytes.fromhex(ID) + bytes(range(100, 132)))


def test_each_problem_is_named_by_the_variable_and_position():
    found = malformed_ids(
        [ID, TOKEN, 'xyz', ID[:23], ID + 'a', ' %s ' % ID.upper(), 'g' * 24, '', 7, None, {'a': ID}, [ID], True],
        'cafe_tokens_absent_ids',
        tokens_in='cafe_tokens_absent',
    )
    # eleven problems: the first nine, then how many more (a message stays readable)
    assert found == [
        'cafe_tokens_absent_ids[1]: a token, not a token ID: tokens belong in cafe_tokens_absent',
        'cafe_tokens_absent_ids[2]: 3 characters long, not a token ID (24 hexadecimal characters)',
        'cafe_tokens_absent_ids[3]: 23 characters long, not a token ID (24 hexadecimal characters)',
        'cafe_tokens_absent_ids[4]: 25 characters long, not a token ID (24 hexadecimal characters)',
        'cafe_tokens_absent_ids[6]: not hexadecimal, not a token ID (24 characters 0-9 and a-f)',
        'cafe_tokens_absent_ids[7]: empty, not a token ID (24 hexadecimal characters)',
        'cafe_tokens_absent_ids[8]: a number, not a token ID: quote it (an ID of digits only reads as a number in YAML)',
        'cafe_tokens_absent_ids[9]: nothing (null), not a token ID (24 hexadecimal characters)',
        'cafe_tokens_absent_ids[10]: a mapping, not a token ID (24 hexadecimal characters)',
        'and 2 more entries of cafe_tokens_absent_ids',
    ]
    assert malformed_ids([[ID], True, 1.5], 'ids') == [
        'ids[0]: a list, not a token ID (24 hexadecimal characters)',
        'ids[1]: a boolean, not a token ID (24 hexadecimal characters)',
        'ids[2]: a number, not a token ID: quote it (an ID of digits only reads as a number in YAML)',
    ]


def test_a_token_points_to_the_token_id_filter_without_a_list_for_tokens():
    assert malformed_ids([TOKEN], 'cafe_token_report_expected_ids') == [
        'cafe_token_report_expected_ids[0]: a token, not a token ID: give its ID (<token> | textileio.textile.token_id)'
    ]


@pytest.mark.parametrize(
    'value, given',
    [(ID, 'a string'), (TOKEN, 'a string'), (None, 'nothing (null)'), (5, 'a number'), ({ID: 1}, 'a mapping')],
    ids=['id', 'token', 'none', 'number', 'mapping'],
)
def test_a_value_that_is_not_a_list_is_named_once(value, given):
    (line,) = malformed_ids(value, 'textile_rotate_old_ids')
    assert line.startswith('textile_rotate_old_ids must be a list of token IDs')
    assert line.split('; ', 1)[1].startswith(f'{given} was given')
    assert ID not in line and TOKEN not in line


def test_a_string_from_the_command_line_says_how_to_pass_a_list():
    (line,) = malformed_ids(ID, 'cafe_tokens_absent_ids')
    assert line == (
        'cafe_tokens_absent_ids must be a list of token IDs, even for a single one; a string was given '
        '(-e cafe_tokens_absent_ids=... gives a string: pass a list as JSON, -e \'{"cafe_tokens_absent_ids": [...]}\')'
    )


def test_the_keys_of_a_mapping_are_checked_with_keys():
    labels = {ID.upper(): 'mobile app', TOKEN: 'pasted', 'web': 'web app'}
    assert malformed_ids(labels, 'cafe_token_report_labels', keys=True) == [
        'cafe_token_report_labels[key 1]: a token, not a token ID: give its ID (<token> | textileio.textile.token_id)',
        'cafe_token_report_labels[key 2]: 3 characters long, not a token ID (24 hexadecimal characters)',
    ]
    assert malformed_ids([ID], 'cafe_token_report_labels', keys=True) == [
        'cafe_token_report_labels must be a mapping of token IDs to owners; a list was given'
    ]


def test_a_long_list_gives_a_bounded_message():
    found = malformed_ids(['x'] * 1000, 'ids')
    assert len(found) == MAX_PROBLEMS
    assert found[-1] == f'and {1000 - MAX_PROBLEMS + 1} more entries of ids'
    assert found[-2] == f'ids[{MAX_PROBLEMS - 2}]: 1 characters long, not a token ID (24 hexadecimal characters)'


def test_bad_filter_arguments_fail_clearly():
    with pytest.raises(AnsibleFilterError, match='name must be the name of the list'):
        malformed_ids([ID], None)
    with pytest.raises(AnsibleFilterError, match='tokens_in must be the name of a list'):
        malformed_ids([ID], 'ids', tokens_in=['x'])


def test_canonical_ids_strips_lowers_and_keeps_the_first_of_duplicates():
    other = 'a7d0589658d9f2a58c647400'
    assert canonical_ids([' %s\n' % ID.upper(), other, ID], 'keep') == [ID, other]
    assert canonical_ids([]) == []


@pytest.mark.parametrize('value', [[TOKEN], ID, [ID, 'xyz'], None], ids=['token', 'string', 'not-an-id', 'none'])
def test_canonical_ids_refuses_anything_else_without_showing_it(value):
    with pytest.raises(AnsibleFilterError) as info:
        canonical_ids(value, 'cafe_tokens_keep_ids')
    assert str(info.value).startswith('canonical_ids: cafe_tokens_keep_ids')
    assert TOKEN not in str(info.value) and 'xyz' not in str(info.value)
    assert info.value.__cause__ is None


def shown_values(value):
    """The values of ``value`` that a message must never show: tokens and near-IDs, which are long and distinctive."""
    entries = value if isinstance(value, list) else list(value) if isinstance(value, dict) else [value]
    return [e.strip() for e in entries if isinstance(e, str) and len(e.strip()) >= 12]


@settings(max_examples=400)
@given(value=VALUES, name=st.sampled_from(['cafe_tokens_absent_ids', 'textile_rotate_old_ids']))
def test_every_value_gives_lines_that_name_the_variable_and_position_and_never_a_value(value, name):
    found = malformed_ids(value, name)
    assert all(isinstance(line, str) for line in found)
    if isinstance(value, list):
        bad = [position for position, entry in enumerate(value) if not is_canonical_after_strip(entry)]
        assert [line.split(':', 1)[0] for line in found] == [f'{name}[{position}]' for position in bad]
    else:
        assert len(found) == 1 and found[0].startswith(f'{name} must be a list of token IDs')
    text = '\n'.join(found)
    for shown in shown_values(value):
        assert shown not in text and shown.lower() not in text


@settings(max_examples=200)
@given(labels=st.dictionaries(st.one_of(IDS, TOKENS, NEAR_IDS), st.text(max_size=5), max_size=5))
def test_every_mapping_names_each_bad_key_by_position(labels):
    found = malformed_ids(labels, 'cafe_token_report_labels', keys=True)
    bad = [position for position, key in enumerate(labels) if not is_canonical_after_strip(key)]
    assert [line.split(':', 1)[0] for line in found] == [
        f'cafe_token_report_labels[key {position}]' for position in bad
    ]
    for key in labels:
        assert key.strip() not in '\n'.join(found)


@given(token=TOKENS, ids=st.lists(IDS, max_size=3), position=st.integers(0, 3))
def test_a_token_anywhere_in_a_list_is_named_as_a_token(token, ids, position):
    position = min(position, len(ids))
    value = ids[:position] + [token] + ids[position:]
    assert malformed_ids(value, 'cafe_tokens_keep_ids', tokens_in='cafe_tokens_present') == [
        f'cafe_tokens_keep_ids[{position}]: a token, not a token ID: tokens belong in cafe_tokens_present'
    ]


@given(ids=st.lists(IDS, max_size=8))
def test_canonical_ids_of_ids_in_any_case_compare_equal(ids):
    result = canonical_ids(ids)
    assert result == list(dict.fromkeys(entry.strip().lower() for entry in ids))
    assert canonical_ids([entry.upper() for entry in ids]) == result
    assert all(is_canonical_after_strip(entry) and entry == entry.strip().lower() for entry in result)


@given(entries=st.lists(ENTRIES, min_size=1, max_size=6))
def test_canonical_ids_takes_exactly_what_malformed_ids_passes(entries):
    problems = malformed_ids(entries)
    if problems:
        with pytest.raises(AnsibleFilterError):
            canonical_ids(entries)
    else:
        assert len(canonical_ids(entries)) <= len(entries)
