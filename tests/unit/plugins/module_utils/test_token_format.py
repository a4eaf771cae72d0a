# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The token format helpers, checked against the ``base58`` package as an oracle (tests only)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.textileio.textile.plugins.module_utils import _token_format as tf

oracle = pytest.importorskip('base58')

# Fixtures named in the design: a 59-character token, a key whose first byte is 0x00, a secret holding 0x00.
SHORT_KEY = b'\x01' + bytes(range(200, 243))
ZERO_FIRST_KEY = b'\x00' + bytes(range(1, 44))
ZERO_IN_SECRET_KEY = bytes(range(101, 113)) + b'\xff' * 10 + b'\x00' + b'\xee' * 21
FIXTURE_KEYS = [SHORT_KEY, ZERO_FIRST_KEY, ZERO_IN_SECRET_KEY]


def oracle_encode(data):
    return oracle.b58encode(data).decode('ascii')


@pytest.mark.parametrize('key', FIXTURE_KEYS, ids=['59-chars', 'zero-first-byte', 'zero-in-secret'])
def test_fixture_tokens_encode_decode_and_split_like_the_oracle(key):
    token = oracle_encode(key)
    assert tf.b58encode(key) == token
    assert tf.b58decode(token) == oracle.b58decode(token) == key
    parsed = tf.parse_token(f'  {token}\n')
    assert parsed == (key[:12].hex(), key[12:])
    assert tf.token_id(token) == key[:12].hex()


def test_the_documented_example_token_is_44_bytes():
    example = 'RgUbEwnaifcr6WoM2ZfnnGr9dAf1QtWhdWVChzd6ui55To52F1DRkGsRni4H'  # textile-cafe-api.md 1.1
    assert tf.parse_token(example).id == oracle.b58decode(example)[:12].hex()


def test_leading_zero_bytes_are_ones_and_back():
    assert tf.b58encode(b'\0\0\x01') == '112'
    assert tf.b58decode('112') == b'\0\0\x01'
    assert tf.b58encode(b'') == ''


@pytest.mark.parametrize(
    'text, words',
    [
        ('', 'a base58 value must not be empty'),
        (b'abc', 'a base58 value must be a string'),
        ('abc0def', 'character 4 is not in the base58 alphabet'),
        ('abcOdef', 'character 4 is not in the base58 alphabet'),
        ('ab\u00e9', 'character 3 is not in the base58 alphabet'),
        ('ab\n', 'character 3 is not in the base58 alphabet'),
        ('\u0661\u0662', 'character 1 is not in the base58 alphabet'),  # digits to str.isdigit, not to base58
    ],
)
def test_b58decode_errors_name_the_position_not_the_value(text, words):
    with pytest.raises(ValueError) as exc_info:
        tf.b58decode(text)
    assert str(exc_info.value) == words
    if text and isinstance(text, str):
        assert text not in str(exc_info.value)


@pytest.mark.parametrize('length', [43, 45])
def test_parse_token_wants_exactly_44_bytes(length):
    text = oracle_encode(b'\x07' * length)
    with pytest.raises(tf.TokenFormatError) as exc_info:
        tf.parse_token(text)
    assert f'decodes to {length}' in str(exc_info.value)


def test_text_longer_than_any_token_is_refused_before_it_is_decoded(monkeypatch):
    text = oracle_encode(b'\x07' * 72)
    monkeypatch.setattr(tf, 'b58decode', lambda text: pytest.fail('decoded'))
    with pytest.raises(tf.TokenFormatError) as exc_info:
        tf.parse_token(text)
    assert str(exc_info.value) == f'a token is longer than {tf.TOKEN_MAX_CHARS} characters'
    with pytest.raises(tf.TokenFormatError):
        tf.parse_list_entry(text * 3)
    assert text not in str(exc_info.value)


def test_parse_token_error_does_not_echo_a_bad_token():
    bad = oracle_encode(ZERO_IN_SECRET_KEY) + '0'
    with pytest.raises(tf.TokenFormatError) as exc_info:
        tf.parse_token(bad)
    assert bad[:20] not in str(exc_info.value)


@pytest.mark.parametrize(
    'text', ['0123456789abcdef0123456', '0123456789abcdef012345678', 'g123456789abcdef01234567', 12]
)
def test_normalize_id_refuses(text):
    with pytest.raises(tf.TokenFormatError):
        tf.normalize_id(text)


def test_normalize_id_lowercases_and_strips():
    assert tf.normalize_id(' 0123456789ABCDEF01234567\t') == '0123456789abcdef01234567'


def test_list_entry_and_token_share_the_id():
    bcrypt_hash = b'$2a$10$' + b'N' * 53
    entry = oracle_encode(ZERO_FIRST_KEY[:12] + bcrypt_hash)
    assert tf.parse_list_entry(entry) == (tf.token_id(oracle_encode(ZERO_FIRST_KEY)), bcrypt_hash)
    with pytest.raises(tf.TokenFormatError):
        tf.parse_list_entry(oracle_encode(b'\x05' * 12))


@pytest.mark.parametrize('key', FIXTURE_KEYS, ids=['59-chars', 'zero-first-byte', 'zero-in-secret'])
def test_id_path_segment_names_the_id_and_hides_the_secret(key):
    segment = tf.id_path_segment(key[:12].hex().upper())
    assert oracle.b58decode(segment) == key[:12] + b'\0' * 32
    assert tf.token_id(segment) == key[:12].hex()
    assert segment != oracle_encode(key)


@settings(max_examples=300)
@given(st.binary(max_size=80))
def test_property_round_trip_agrees_with_the_oracle(data):
    text = tf.b58encode(data)
    assert text == oracle_encode(data)
    if data:
        assert tf.b58decode(text) == data


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=12), st.binary(min_size=44, max_size=44))
def test_property_ids_of_tokens_entries_and_segments_agree(zeros, key):
    key = b'\0' * zeros + key[zeros:]
    token = oracle_encode(key)
    expected = oracle.b58decode(token)[:12].hex()
    assert tf.token_id(token) == expected
    assert tf.parse_token(token).secret == key[12:]
    assert tf.parse_list_entry(oracle_encode(key[:12] + b'$2a$10$' + b'x' * 53)).id == expected
    assert tf.token_id(tf.id_path_segment(expected)) == expected


@given(st.text(alphabet='0123456789abcdefABCDEFgG \t', min_size=23, max_size=25))
def test_is_id_is_the_canonical_form_only(text):
    """24 lowercase hex characters, nothing else: an ID in upper (or mixed) case, or with spaces, is not canonical
    (normalize_id makes it so; the plan and the path redaction compare canonical IDs)."""
    canonical = len(text) == 24 and all(char in '0123456789abcdef' for char in text)
    assert tf.is_id(text) is canonical


@pytest.mark.parametrize('text', ['0123456789ABCDEF01234567', '0123456789abcdeF01234567', 'ABCDEFABCDEFABCDEFABCDEF'])
def test_an_id_in_upper_case_is_not_canonical(text):
    assert tf.is_id(text) is False and tf.is_id(text.lower()) is True
    assert tf.normalize_id(text) == text.lower()
