# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hypothesis strategies for the values a user may give an ID list of the roles, playbooks and report: token
IDs in any case, tokens pasted where an ID belongs, near-IDs, unicode, numbers, mappings, None. Shared by the
unit tests of the filters and the playbook property tests (tests/scenarios/test_id_variables.py)."""

from __future__ import annotations

from hypothesis import strategies as st

from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58encode

HEX = '0123456789abcdef'
# Text a playbook can carry as is: no surrogates (not UTF-8) and no '{' (Ansible would template it).
TEXT = st.text(alphabet=st.characters(codec='utf-8', exclude_categories=('Cs',), exclude_characters='{'), max_size=30)
SPACE = st.sampled_from(['', ' ', '\t', '\n', '  '])

# A token ID as a user may write it: any case, surrounding whitespace.
IDS = st.builds(
    lambda raw, upper, before, after: before + (raw.hex().upper() if upper else raw.hex()) + after,
    st.binary(min_size=12, max_size=12),
    st.booleans(),
    SPACE,
    SPACE,
)
# A whole token (base58 of 44 bytes), which must never be shown, with the whitespace a paste brings.
TOKENS = st.builds(lambda raw, after: b58encode(raw) + after, st.binary(min_size=44, max_size=44), SPACE)
# Almost an ID: one character short or long, one character that is not hex (an ASCII letter, a full-width or
# Arabic-Indic digit), whitespace inside, or base58 of the wrong length.
NEAR_IDS = st.one_of(
    st.text(alphabet=HEX, min_size=23, max_size=23),
    st.text(alphabet=HEX, min_size=25, max_size=25),
    st.builds(
        lambda text, position, char: text[:position] + char + text[position + 1 :],
        st.text(alphabet=HEX, min_size=24, max_size=24),
        st.integers(0, 23),
        st.sampled_from(['g', 'G', 'x', 'z', '\uff10', '\u0663', '\u00e9', '-', ' ', '\u0130']),
    ),
    st.builds(b58encode, st.binary(min_size=43, max_size=43)),
    st.builds(b58encode, st.binary(min_size=12, max_size=12)),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), TEXT)
# Anything an entry of an ID list may be.
ENTRIES = st.one_of(
    IDS,
    TOKENS,
    NEAR_IDS,
    SCALARS,
    st.dictionaries(TEXT, SCALARS, max_size=2),
    st.lists(SCALARS, max_size=2),
)
# Anything an ID list variable may be: a list of entries, or a string, a number, a mapping, None.
VALUES = st.one_of(
    st.lists(ENTRIES, max_size=6),
    IDS,
    TOKENS,
    TEXT,
    SCALARS,
    st.dictionaries(TEXT, ENTRIES, max_size=3),
)


def is_canonical_after_strip(entry: object) -> bool:
    """Whether an entry is a token ID as the roles take it (stripped and lowercased), the oracle of the tests."""
    if not isinstance(entry, str):
        return False
    text = entry.strip().lower()
    return len(text) == 24 and all(char in HEX for char in text)
