# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The four tokens routes of the simulator against textile-cafe-api.md section 1 and 2."""

from __future__ import annotations

import bcrypt
import pytest

from ansible_collections.textileio.textile.tests.unit.simulator.simhelpers import b58, new_key, unb58

TEXT = "text/plain; charset=utf-8"
JSON = "application/json; charset=utf-8"


# ---------------------------------------------------------------- POST /api/v0/tokens


def test_create_returns_a_bare_44_byte_token_as_text_and_stores_it(sim):
    answer = sim.create("store=true")
    assert answer.status_code == 201
    assert answer.headers["Content-Type"] == TEXT
    token = answer.text
    assert token == token.strip() and '"' not in token
    key = unb58(token)
    assert len(key) == 44
    assert sim.control.state_ids() == [key[:12].hex()]
    assert answer.headers["Content-Length"] == str(len(token))


@pytest.mark.parametrize(
    "opts",
    [
        None,
        "",
        "store=false",
        "store=",
        "store=True",
        "store=1",
        "store=TRUE",
        "store=yes",
        "store = true",
        "store=true=1",
    ],
)
def test_create_stores_only_on_exact_true(sim, opts):
    answer = sim.create(opts)
    assert answer.status_code == 201
    assert len(unb58(answer.text)) == 44
    assert sim.control.state_ids() == []


@pytest.mark.parametrize(
    "opts",
    [
        "store=true",
        "x=1 ,  store=true\t, y",
        ",,store=true,",
        "x=1, store=true",
        "store=tru%65",
        "store=false,store=true",
    ],
)
def test_create_reads_opts_like_go_textile(sim, opts):
    assert sim.create(opts).status_code == 201
    assert len(sim.control.state_ids()) == 1


def test_create_ignores_query_body_and_args(sim):
    answer = sim.call("POST", "/api/v0/tokens?store=true", data="store=true", headers={"X-Textile-Args": "store=true"})
    assert answer.status_code == 201
    assert sim.control.state_ids() == []


def test_import_stores_the_given_token_and_echoes_it(sim):
    key = new_key(b"\x00")  # base58 starting with "1"
    token = b58(key)
    assert token.startswith("1")
    answer = sim.create("token=%s,store=true" % token)
    assert (answer.status_code, answer.text) == (201, token)
    assert sim.control.state_ids() == [key[:12].hex()]
    assert sim.call("GET", "/api/v0/tokens/" + token).status_code == 200


def test_import_with_a_zero_byte_in_the_secret_validates(sim):
    key = bytes(range(1, 13)) + b"\xff" * 5 + b"\x00" + b"\xee" * 26
    token = b58(key)
    assert sim.create("store=true,token=" + token).status_code == 201
    assert sim.call("GET", "/api/v0/tokens/" + token).text == "ok"
    wrong = b58(key[:17] + b"\x01" + key[18:])
    assert sim.call("GET", "/api/v0/tokens/" + wrong).status_code == 401


def test_import_without_store_writes_nothing(sim):
    token = b58(new_key())
    answer = sim.create("token=" + token)
    assert (answer.status_code, answer.text) == (201, token)
    assert sim.control.state_ids() == []


def test_import_value_is_path_unescaped(sim):
    token = b58(new_key())
    escaped = "".join("%%%02X" % ord(char) for char in token)
    assert sim.create("token=%s,store=true" % escaped).text == token
    assert sim.control.state_ids() == [unb58(token)[:12].hex()]


def test_import_twice_fails_with_the_sqlite_text(sim):
    token = b58(new_key())
    assert sim.create("store=true,token=" + token).status_code == 201
    answer = sim.create("store=true,token=" + token)
    assert (answer.status_code, answer.text) == (400, "UNIQUE constraint failed: cafe_tokens.id")
    assert answer.headers["Content-Type"] == TEXT
    # same ID, other secret: still the primary key
    other = b58(unb58(token)[:12] + new_key()[:32])
    assert sim.create("store=true,token=" + other).text == "UNIQUE constraint failed: cafe_tokens.id"


@pytest.mark.parametrize(
    "value, message",
    [
        (b58(b"\x07" * 43), "invalid token format"),
        (b58(b"\x07" * 45), "invalid token format"),
        ("abc", "invalid token format"),
        ("0abc", "Invalid base58 digit ('0')"),
        ("abcI", "Invalid base58 digit ('I')"),
        ("ab'c", "Invalid base58 digit ('\\'')"),
        ("ab%22c", "Invalid base58 digit ('\"')"),
        ("ab%09c", "Invalid base58 digit ('\\t')"),
        ("ab%00c", "Invalid base58 digit ('\\x00')"),
        ("ab+c", "Invalid base58 digit ('+')"),
        ("ab%C3%A9", "High-bit set on invalid digit"),
        ("ab\u00e9", "High-bit set on invalid digit"),
    ],
)
def test_import_errors_are_400_with_go_texts(sim, value, message):
    answer = sim.create("store=true,token=" + value)
    assert (answer.status_code, answer.text) == (400, message)
    assert answer.headers["Content-Type"] == TEXT
    assert sim.control.state_ids() == []


@pytest.mark.parametrize(
    "opts, message",
    [
        ("token=%zz,store=true", 'invalid URL escape "%zz"'),
        ("token=abc%4", 'invalid URL escape "%4"'),
        ("token=abc%", 'invalid URL escape "%"'),
        ("store=%g1x", 'invalid URL escape "%g1"'),
    ],
)
def test_bad_percent_escape_is_500_with_the_go_url_error(sim, opts, message):
    answer = sim.create(opts)
    assert (answer.status_code, answer.text) == (500, message)
    assert answer.headers["Content-Type"] == TEXT


def test_a_pair_with_more_than_two_parts_is_dropped(sim):
    # "token=a=b" has three parts: ignored, so a new token is generated and not an error
    answer = sim.create("token=a=b,store=true")
    assert answer.status_code == 201
    assert len(unb58(answer.text)) == 44


# ---------------------------------------------------------------- GET /api/v0/tokens


def test_list_is_an_empty_json_array_not_null(sim):
    answer = sim.call("GET", "/api/v0/tokens")
    assert (answer.status_code, answer.content) == (200, b"[]")
    assert answer.headers["Content-Type"] == JSON


def test_list_entries_are_id_plus_bcrypt_hash_ordered_by_id_desc(sim):
    keys = [bytes([first]) + new_key()[1:] for first in (0x10, 0xF0, 0x00, 0x80)]
    for key in keys:
        assert sim.create("store=true,token=" + b58(key)).status_code == 201
    answer = sim.call("GET", "/api/v0/tokens")
    entries = answer.json()
    assert answer.content == ('["%s"]' % '","'.join(entries)).encode()
    decoded = [unb58(entry) for entry in entries]
    assert all(len(raw) == 72 for raw in decoded)
    assert [raw[:12] for raw in decoded] == sorted((key[:12] for key in keys), reverse=True)
    by_id = {key[:12]: key[12:] for key in keys}
    for raw in decoded:
        assert raw[12:].startswith(b"$2a$04$")
        assert bcrypt.checkpw(by_id[raw[:12]], raw[12:])
        assert not bcrypt.checkpw(b"\x00" * 32, raw[12:])


def test_list_entry_of_a_zero_first_id_keeps_its_leading_ones(sim):
    key = b"\x00\x00" + new_key()[2:]
    sim.create("store=true,token=" + b58(key))
    (entry,) = sim.call("GET", "/api/v0/tokens").json()
    assert entry.startswith("11") and unb58(entry)[:12] == key[:12]


# ---------------------------------------------------------------- GET /api/v0/tokens/:token


def test_validate_ok_for_a_stored_token(sim):
    token = sim.create().text
    answer = sim.call("GET", "/api/v0/tokens/" + token)
    assert (answer.status_code, answer.text, answer.headers["Content-Type"]) == (200, "ok", TEXT)


def _stored(sim):
    return sim.create().text


@pytest.mark.parametrize(
    "make",
    [
        lambda sim, token: b58(new_key()),  # unknown ID
        lambda sim, token: b58(unb58(token)[:12] + b"\x01" * 32),  # wrong secret
        lambda sim, token: token[:-1] + ("2" if token[-1] != "2" else "3"),  # one character changed
        lambda sim, token: "abc",  # malformed, short
        lambda sim, token: "0" + token,  # not base58
        lambda sim, token: b58(unb58(token)[:43]),  # 43 bytes
        lambda sim, token: sim.call("GET", "/api/v0/tokens").json()[0],  # a list entry (ID + hash)
        lambda sim, token: b58(unb58(token) + b"\x00"),  # 45 bytes: the secret part is 33 bytes
    ],
)
def test_validate_is_401_invalid_credentials_for_every_failure(sim, make):
    token = _stored(sim)
    answer = sim.call("GET", "/api/v0/tokens/" + make(sim, token))
    assert (answer.status_code, answer.text) == (401, "invalid credentials")
    assert answer.headers["Content-Type"] == TEXT
    assert "WWW-Authenticate" not in answer.headers


def test_validate_of_a_not_stored_token_is_401(sim):
    token = sim.create("store=false").text
    assert sim.call("GET", "/api/v0/tokens/" + token).status_code == 401


def test_validate_of_a_longer_token_uses_the_first_12_bytes_as_id_and_the_rest_as_secret(sim):
    key = new_key() + b"extra"
    sim.server.store.add(key[:12].hex(), bcrypt.hashpw(key[12:], bcrypt.gensalt(4, prefix=b"2a")))
    assert sim.call("GET", "/api/v0/tokens/" + b58(key)).text == "ok"
    assert sim.call("GET", "/api/v0/tokens/" + b58(key[:44])).status_code == 401


def test_validate_of_a_very_long_secret_is_401_not_an_error(sim):
    token = _stored(sim)
    answer = sim.call("GET", "/api/v0/tokens/" + b58(unb58(token) + b"\x01" * 100))
    assert answer.status_code == 401


# ---------------------------------------------------------------- DELETE /api/v0/tokens/:token


def test_delete_removes_and_answers_204_without_body(sim):
    token = sim.create().text
    answer = sim.call("DELETE", "/api/v0/tokens/" + token)
    assert (answer.status_code, answer.content) == (204, b"")
    assert "Content-Type" not in answer.headers
    assert "Content-Length" not in answer.headers
    assert sim.control.state_ids() == []


def test_delete_of_an_absent_token_is_204(sim):
    kept = sim.create().text
    assert sim.call("DELETE", "/api/v0/tokens/" + b58(new_key())).status_code == 204
    assert sim.call("DELETE", "/api/v0/tokens/" + b58(new_key())).status_code == 204
    assert sim.control.state_ids() == [unb58(kept)[:12].hex()]


@pytest.mark.parametrize(
    "segment",
    [
        lambda token, entry: b58(unb58(token)[:12] + b"\x00" * 32),  # the ID path segment: no secret in the URL
        lambda token, entry: b58(unb58(token)[:12] + b"\x05" * 32),  # wrong secret: only the ID counts
        lambda token, entry: entry,  # a list entry
        lambda token, entry: b58(unb58(token) + b"more"),  # longer than 44 bytes
    ],
)
def test_delete_uses_only_the_first_12_bytes(sim, segment):
    token = sim.create().text
    other = sim.create().text
    (entry,) = [e for e in sim.call("GET", "/api/v0/tokens").json() if unb58(e)[:12] == unb58(token)[:12]]
    assert sim.call("DELETE", "/api/v0/tokens/" + segment(token, entry)).status_code == 204
    assert sim.control.state_ids() == [unb58(other)[:12].hex()]


@pytest.mark.parametrize(
    "segment, message",
    [
        ("abc", "invalid token format"),
        (b58(b"\x01" * 43), "invalid token format"),
        ("0" * 60, "Invalid base58 digit ('0')"),
        ("ab%C3%A9", "High-bit set on invalid digit"),
    ],
)
def test_delete_of_malformed_input_is_500_with_the_error(sim, segment, message):
    kept = sim.create().text
    answer = sim.call("DELETE", "/api/v0/tokens/" + segment)
    assert (answer.status_code, answer.text, answer.headers["Content-Type"]) == (500, message, TEXT)
    assert sim.control.state_ids() == [unb58(kept)[:12].hex()]
