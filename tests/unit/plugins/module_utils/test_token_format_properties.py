# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property-based tests (hypothesis) of the token and ID parsing in plugins/module_utils/_token_format.py
(its examples: test_token_format.py)."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from ansible_collections.textileio.textile.plugins.module_utils import _token_format as tf

# More examples than the unit suite's profile gives (tests/unit/conftest.py): these are the format's own properties.
EXAMPLES = settings(max_examples=300)

WHITESPACE = st.text(alphabet=" \t\r\n", max_size=3)
TOKEN_BYTES = st.binary(min_size=44, max_size=44)
# Keys whose first bytes are zero encode with leading "1"s: make them common, not a one-in-256 accident.
LEADING_ZERO_BYTES = st.builds(
    lambda zeros, rest: b"\0" * zeros + rest[zeros:], st.integers(min_value=0, max_value=13), TOKEN_BYTES
)
ANY_TOKEN_BYTES = st.one_of(TOKEN_BYTES, LEADING_ZERO_BYTES)
NOT_BASE58 = st.sampled_from("0OIl+/=-_.!\u00e9\u0000")


def assert_quiet(exc_info, value):
    """The error never repeats the value it was given (values too short to tell are not checked)."""
    if len(value.strip()) >= 8:
        assert value.strip() not in str(exc_info.value)


@EXAMPLES
@given(st.binary(max_size=100))
def test_base58_round_trip(data):
    text = tf.b58encode(data)
    assert set(text) <= set(tf.ALPHABET)
    assert len(text) - len(text.lstrip("1")) == len(data) - len(data.lstrip(b"\0"))
    if data:
        assert tf.b58decode(text) == data


@EXAMPLES
@given(st.binary(max_size=100))
def test_base58_matches_an_independent_implementation(data):
    base58 = pytest.importorskip("base58")
    assert tf.b58encode(data) == base58.b58encode(data).decode("ascii")


@EXAMPLES
@given(ANY_TOKEN_BYTES, WHITESPACE, WHITESPACE)
def test_parse_token_splits_id_and_secret(raw, before, after):
    text = before + tf.b58encode(raw) + after
    parsed = tf.parse_token(text)
    assert parsed.id == raw[:12].hex()
    assert parsed.secret == raw[12:]
    assert tf.token_id(text) == parsed.id


@EXAMPLES
@given(st.binary(min_size=1, max_size=90).filter(lambda b: len(b) != 44))
@example(b"\x01" + b"\0" * 47)  # 65 characters: found by units-2.20 on 3 December 2026
def test_parse_token_rejects_wrong_lengths_quietly(raw):
    text = tf.b58encode(raw)
    with pytest.raises(tf.TokenFormatError) as exc_info:
        tf.parse_token(text)
    if len(text) > tf.TOKEN_MAX_CHARS:  # the bound on the text answers first (48 bytes and more can exceed it)
        assert str(exc_info.value) == f"a token is longer than {tf.TOKEN_MAX_CHARS} characters"
    else:
        assert "44" in str(exc_info.value)
    assert_quiet(exc_info, text)


@EXAMPLES
@given(ANY_TOKEN_BYTES, st.data())
def test_parse_token_rejects_foreign_characters_quietly(raw, data):
    text = tf.b58encode(raw)
    position = data.draw(st.integers(min_value=0, max_value=len(text)))
    bad = text[:position] + data.draw(NOT_BASE58) + text[position:]
    assume(bad.strip() != text)  # a stripped whitespace-like character would leave a valid token
    with pytest.raises(tf.TokenFormatError) as exc_info:
        tf.parse_token(bad)
    assert_quiet(exc_info, bad)


@EXAMPLES
@given(st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text(max_size=3), max_size=2)))
def test_non_strings_are_refused(value):
    for parse in (tf.parse_token, tf.normalize_id, tf.parse_list_entry):
        with pytest.raises(tf.TokenFormatError):
            parse(value)


@EXAMPLES
@given(st.binary(min_size=12, max_size=12), st.data(), WHITESPACE, WHITESPACE)
def test_normalize_id_accepts_any_case_and_returns_lowercase(raw, data, before, after):
    hex_id = raw.hex()
    mixed = "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in hex_id)
    assert tf.normalize_id(before + mixed + after) == hex_id


@EXAMPLES
@given(st.text(max_size=40))
def test_normalize_id_rejects_everything_else_quietly(text):
    stripped = text.strip()
    assume(not (len(stripped) == 24 and all(c in "0123456789abcdefABCDEF" for c in stripped)))
    with pytest.raises(tf.TokenFormatError) as exc_info:
        tf.normalize_id(text)
    assert_quiet(exc_info, text)


@EXAMPLES
@given(ANY_TOKEN_BYTES)
def test_delete_path_segment_carries_the_id_and_no_secret(raw):
    token_id = raw[:12].hex()
    segment = tf.id_path_segment(token_id.upper())
    assert tf.b58decode(segment) == raw[:12] + b"\0" * 32
    assert tf.parse_token(segment).id == token_id
    if raw[12:] != b"\0" * 32:
        assert segment != tf.b58encode(raw)


@EXAMPLES
@given(st.binary(min_size=12, max_size=12), st.binary(min_size=60, max_size=60))
def test_list_entry_gives_the_id_the_token_has(id_bytes, bcrypt_hash):
    entry = tf.parse_list_entry(tf.b58encode(id_bytes + bcrypt_hash))
    assert entry.id == id_bytes.hex()
    assert entry.bcrypt_hash == bcrypt_hash
