# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to this collection: it is not part of its public API
# and may change without notice.

"""The go-textile Cafe token format: base58 (Bitcoin alphabet), IDs, list entries.

A token is base58 of 44 bytes: a 12-byte ID followed by a 32-byte secret. The cafe stores the
ID as 24 lowercase hex characters. A ``GET /tokens`` entry is base58 of the 12-byte ID
followed by the 60-byte bcrypt hash of the secret. No I/O here, and no third-party import but
``bcrypt``, imported only when a secret is checked. No error raised here ever contains the value it was given.
"""

from __future__ import annotations

import binascii
import collections
import re

ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
TOKEN_BYTES = 44
ID_BYTES = 12
SECRET_BYTES = 32
# The longest text of a token (44 bytes are at most 61 base58 characters) and of a list entry (the ID and a
# bcrypt hash, 72 bytes, are at most 99); longer input is refused before it is decoded, so that decoding, which
# is quadratic in the length, stays cheap whatever a user or a server sends.
TOKEN_MAX_CHARS = 64
LIST_ENTRY_MAX_CHARS = 200
# A base58 run this long may be (part of) a token: redact() never shows one.
TOKEN_RUN_MIN_CHARS = 40
TOKEN_RUN = re.compile(f'[{ALPHABET}]{{{TOKEN_RUN_MIN_CHARS},}}')

# base58 decoding: the text checked by one search, then its bytes turned into digit values by one translate
_NOT_BASE58 = re.compile(f'[^{ALPHABET}]')
_DIGITS = bytes.maketrans(ALPHABET.encode('ascii'), bytes(range(58)))

ParsedToken = collections.namedtuple('ParsedToken', ['id', 'secret'])
ListEntry = collections.namedtuple('ListEntry', ['id', 'bcrypt_hash'])


class TokenFormatError(ValueError):
    """A token, ID or list entry is malformed. The message never contains the value."""


def b58encode(data: bytes) -> str:
    """Base58 (Bitcoin alphabet) of ``data``; each leading zero byte becomes ``1``."""
    data = bytes(data)
    stripped = data.lstrip(b'\0')
    number = int.from_bytes(stripped, 'big')
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(ALPHABET[rest])
    return '1' * (len(data) - len(stripped)) + ''.join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Decode base58 (Bitcoin alphabet); each leading ``1`` becomes a zero byte.

    Raises ValueError, whose text never contains the input.
    """
    if not isinstance(text, str):
        raise ValueError('a base58 value must be a string')
    if not text:
        raise ValueError('a base58 value must not be empty')
    wrong = _NOT_BASE58.search(text)
    if wrong:
        raise ValueError(f'character {wrong.start() + 1} is not in the base58 alphabet')
    number = 0
    for value in text.encode('ascii').translate(_DIGITS):  # a no-op at N=1000 decodes 2000 values
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip('1'))
    body = number.to_bytes((number.bit_length() + 7) // 8, 'big') if number else b''
    return b'\0' * zeros + body


def _decode(text: object, what: str, max_chars: int) -> bytes:
    if not isinstance(text, str):
        raise TokenFormatError(f'{what} must be a string')
    text = text.strip()
    if len(text) > max_chars:
        raise TokenFormatError(f'{what} is longer than {max_chars} characters')
    try:
        return b58decode(text)
    except ValueError as exc:
        raise TokenFormatError(f'{what} is not base58: {exc}') from None


def parse_token(text: object) -> ParsedToken:
    """Split a token into its hex ID and its 32-byte secret; it must decode to exactly 44 bytes."""
    raw = _decode(text, 'a token', TOKEN_MAX_CHARS)
    if len(raw) != TOKEN_BYTES:
        raise TokenFormatError(f'a token must decode to {TOKEN_BYTES} bytes, this one decodes to {len(raw)}')
    return ParsedToken(raw[:ID_BYTES].hex(), raw[ID_BYTES:])


def token_id(text: object) -> str:
    """The 24-hex-char ID (lowercase) of a token."""
    return parse_token(text).id


def is_id(text: object) -> bool:
    """Whether ``text`` is a token ID in canonical form: 24 lowercase hexadecimal characters."""
    return isinstance(text, str) and len(text) == 2 * ID_BYTES and all(char in '0123456789abcdef' for char in text)


def normalize_id(text: object) -> str:
    """A token ID in canonical form: surrounding whitespace stripped, lowercase, 24 hex chars."""
    if not isinstance(text, str):
        raise TokenFormatError('a token ID must be a string')
    value = text.strip().lower()
    if not is_id(value):
        raise TokenFormatError(f'a token ID must be {2 * ID_BYTES} hexadecimal characters')
    return value


def parse_list_entry(entry: object) -> ListEntry:
    """Decode one element of a ``GET /tokens`` answer into the hex ID and the bcrypt hash (bytes)."""
    raw = _decode(entry, 'a token list entry', LIST_ENTRY_MAX_CHARS)
    if len(raw) <= ID_BYTES:
        raise TokenFormatError(f'a token list entry must decode to more than {ID_BYTES} bytes')
    return ListEntry(raw[:ID_BYTES].hex(), raw[ID_BYTES:])


def id_path_segment(id_hex: str) -> str:
    """``base58(id_bytes + 32 zero bytes)``: names a token in a URL without its secret.

    go-textile's DELETE reads only the first 12 decoded bytes, so this removes the token.
    """
    return b58encode(binascii.unhexlify(normalize_id(id_hex)) + b'\0' * SECRET_BYTES)


def redact(text: str) -> str:
    """``text`` with every base58 run long enough to be part of a token hidden.

    A run that decodes to a token or a list entry is shown as its ID (the first 12 bytes in hex); any other
    run of ``TOKEN_RUN_MIN_CHARS`` or more (a token cut short, or glued to other text) as ``<redacted>``.
    Linear in the length of ``text``.
    """

    def hide(match: re.Match) -> str:
        run = match.group(0)
        if len(run) <= LIST_ENTRY_MAX_CHARS:
            raw = b58decode(run)
            if len(raw) >= TOKEN_BYTES:
                return raw[:ID_BYTES].hex()
        return '<redacted>'

    return TOKEN_RUN.sub(hide, text)


def check_secret(token_secret: bytes, bcrypt_hash: bytes) -> bool | None:
    """Whether a token's 32-byte secret matches a list entry's bcrypt hash; None when ``bcrypt`` is not importable
    (the caller then asks the cafe). ``bcrypt`` is imported here, only when a secret is checked."""
    try:
        import bcrypt  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    try:
        return bcrypt.checkpw(bytes(token_secret), bytes(bcrypt_hash))
    except ValueError:
        # bcrypt before 4.0 refuses a secret that holds a NUL byte (go-textile's bcrypt takes it): the cafe
        # decides then. Otherwise the stored hash is not a bcrypt hash, which no secret matches.
        return None if b'\0' in bytes(token_secret) else False
