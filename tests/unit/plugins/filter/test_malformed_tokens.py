# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The textileio.textile.malformed_tokens filter: positions of bad entries, never their values."""

from __future__ import annotations

import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.textileio.textile.plugins.filter.malformed_tokens import FilterModule
from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58encode

malformed_tokens = FilterModule().filters()['malformed_tokens']


def test_names_each_bad_entry_by_position_and_never_shows_it():
    short, words, hashed = b58encode(os.urandom(43)), 'NotAToken0OIl', b58encode(os.urandom(72))
    good = b58encode(os.urandom(44))
    found = malformed_tokens([good, short, f' {good}\n', words, hashed, None], 'cafe_tokens_present')
    assert [line.split(':')[0] for line in found] == [
        'cafe_tokens_present[1]',
        'cafe_tokens_present[3]',
        'cafe_tokens_present[4]',
        'cafe_tokens_present[5]',
    ]
    assert found[0] == 'cafe_tokens_present[1]: a token must decode to 44 bytes, this one decodes to 43'
    for value in (short, words, hashed, good):
        assert not any(value in line for line in found)


def test_good_tokens_and_an_empty_list_give_nothing():
    assert malformed_tokens([b58encode(os.urandom(44)), b58encode(b'\0' + os.urandom(43))]) == []
    assert malformed_tokens([]) == []


@pytest.mark.parametrize(
    'value, given', [('a string', 'a string'), ({'a': 1}, 'a mapping'), (42, 'a number'), (None, 'nothing (null)')]
)
def test_a_value_that_is_not_a_list_is_one_line_naming_the_variable(value, given):
    (line,) = malformed_tokens(value, 'cafe_tokens_absent')
    assert line.startswith('cafe_tokens_absent must be a list of tokens')
    assert line.split('; ', 1)[1].startswith(f'{given} was given')


def test_a_token_given_as_a_string_is_not_shown():
    token = b58encode(os.urandom(44))
    (line,) = malformed_tokens(token, 'cafe_tokens_present')
    assert line.startswith('cafe_tokens_present must be a list of tokens, even for a single one; a string was given')
    assert token not in line


def test_a_long_list_gives_a_bounded_message():
    found = malformed_tokens(['x'] * 50, 'cafe_tokens_present')
    assert len(found) == 10 and found[-1] == 'and 41 more entries of cafe_tokens_present'


def test_a_bad_name_fails_clearly():
    with pytest.raises(AnsibleFilterError, match='name must be the name of the list'):
        malformed_tokens([], '')
