# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a message may quote of a server's answer (``server_words``) and the token redaction under it."""

from __future__ import annotations

import base64
import os

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.textileio.textile.plugins.module_utils import _client, _server_text
from ansible_collections.textileio.textile.plugins.module_utils import _token_format as tf
from ansible_collections.textileio.textile.plugins.module_utils._server_text import SERVER_TEXT_LIMIT, server_words

BASE58 = set(tf.ALPHABET)
NOT_BASE58 = ' \t\n0OIl.,;:!"()[]=+-_/\u00e9'
TOKEN_KEYS = st.binary(min_size=44, max_size=44)


def unmarked(text, *tokens):
    """``text`` without the marks redaction leaves: the IDs of ``tokens`` and ``<redacted>``."""
    for token in tokens:
        text = text.replace(tf.token_id(token), ' ')
    return text.replace('<redacted>', ' ')


@given(
    TOKEN_KEYS,
    st.integers(min_value=0, max_value=2 * SERVER_TEXT_LIMIT),
    st.text(alphabet=NOT_BASE58, min_size=1, max_size=1),
)
def test_a_token_is_fully_redacted_wherever_the_cut_falls(key, pad, filler):
    # The filler holds no base58 character, so every base58 character left must come from the token.
    token = tf.b58encode(key)
    words = server_words(f'{filler * pad}{token}{filler * pad}')
    assert len(words) <= SERVER_TEXT_LIMIT
    assert not BASE58 & set(unmarked(words, token))


@given(
    TOKEN_KEYS,
    st.text(alphabet=tf.ALPHABET, max_size=80),
    st.text(alphabet=tf.ALPHABET, max_size=80),
    st.integers(min_value=0, max_value=SERVER_TEXT_LIMIT),
)
def test_a_token_glued_to_other_base58_text_shows_no_part_of_its_secret(key, before, after, pad):
    token = tf.b58encode(key)
    words = server_words(' ' * pad + before + token + after)
    assert not any(token[start : start + 12] in words for start in range(len(token) - 11))


@given(st.integers(min_value=tf.TOKEN_RUN_MIN_CHARS, max_value=tf.TOKEN_MAX_CHARS), st.randoms(use_true_random=False))
def test_a_token_prefix_long_enough_to_be_one_is_redacted(length, rnd):
    run = ''.join(rnd.choice(tf.ALPHABET) for dummy in range(length))
    assert run not in server_words(f'echo: {run}')


def test_an_html_page_becomes_one_line_of_text_without_tags():
    page = (
        '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title>\n<style>body { color: red }</style></head>'
        '\n<body>\n<h1>Bad Gateway</h1>\n<p>The proxy could not reach\nthe upstream.</p>'
        + '<p>x</p>\n' * 500
        + '</body></html>\n'
    )
    words = server_words(page)
    assert '\n' not in words and '<' not in words and '>' not in words
    assert words.startswith('Bad Gateway The proxy could not reach the upstream. x x')  # the head says it twice
    assert len(words) <= SERVER_TEXT_LIMIT and words.endswith('...')


def test_control_and_formatting_characters_never_reach_a_message():
    words = server_words('bad\x1b[31m request\x00\r\nsecond\u202eline\u200b\x7f')
    assert words == 'bad [31m request second line'


def test_text_with_a_lone_angle_bracket_is_kept():
    assert server_words('store must be < 2 and > 0') == 'store must be < 2 and > 0'


def test_only_bounded_runs_are_decoded(monkeypatch):
    lengths = []
    real = tf.b58decode
    huge = tf.b58encode(os.urandom(40)) * 1000  # one run of about 55,000 characters
    token = tf.b58encode(os.urandom(44))
    expected = f'<redacted> and {tf.token_id(token)}'
    monkeypatch.setattr(tf, 'b58decode', lambda text: lengths.append(len(text)) or real(text))
    assert server_words(f'{huge} and {token}') == expected
    assert lengths == [len(token)]


def test_a_huge_answer_is_looked_at_only_up_to_a_bound_and_the_split_run_is_dropped():
    token = tf.b58encode(os.urandom(44))
    text = ' ' * (_server_text.SERVER_TEXT_READ - 30) + token + ' tail'
    # The first cut splits the token: none of it may show, however few characters the cut left.
    assert not BASE58 & set(server_words(text))


# Words shorter than a token run, with no tag or control character: only the cut changes them.
WORDS = st.lists(st.text(alphabet=tf.ALPHABET + '0Il.', min_size=1, max_size=30), min_size=1, max_size=40)


@given(WORDS)
def test_the_cut_keeps_every_whole_word_that_fits_and_no_part_of_the_next(words):
    words = ['lead'] * 56 + words  # 280 characters first, so that the cut falls among the generated words
    text = ' '.join(words)
    shown = server_words(text)
    if len(text) <= SERVER_TEXT_LIMIT:
        assert shown == text
        return
    assert shown.endswith('...') and len(shown) <= SERVER_TEXT_LIMIT
    kept = shown[:-3]
    count = len(kept.split())
    assert kept == ' '.join(words[:count])
    assert len(' '.join(words[: count + 1])) > SERVER_TEXT_LIMIT - 3  # the next word would not have fit


def test_a_text_of_exactly_the_limit_is_shown_whole_and_a_word_ending_at_the_cut_is_kept():
    exact = ('abc ' * SERVER_TEXT_LIMIT)[: SERVER_TEXT_LIMIT - 1] + 'd'
    assert len(exact) == SERVER_TEXT_LIMIT and server_words(exact) == exact
    fits = 'abc ' * ((SERVER_TEXT_LIMIT - 3) // 4) + 'a'  # the last word ends exactly at limit - 3
    assert len(fits) == SERVER_TEXT_LIMIT - 3
    assert server_words(fits + ' and more') == fits + '...'
    crossing = 'abc ' * ((SERVER_TEXT_LIMIT - 3) // 4) + 'abcdef more'  # the cut falls inside abcdef
    assert server_words(crossing) == 'abc ' * ((SERVER_TEXT_LIMIT - 3) // 4 - 1) + 'abc...'


def test_an_answer_of_exactly_the_read_bound_is_looked_at_whole():
    text = ' ' * (_server_text.SERVER_TEXT_READ - 4) + ' end'
    assert len(text) == _server_text.SERVER_TEXT_READ and server_words(text) == 'end'
    assert server_words(text + 'x') == ''  # one more character: the run the bound split is dropped


SECRET_TEXT = st.text(st.characters(blacklist_categories=('Cs',), blacklist_characters='[]'), min_size=4, max_size=40)


@given(
    SECRET_TEXT, st.text(max_size=80), st.text(max_size=80), st.integers(min_value=0, max_value=2 * SERVER_TEXT_LIMIT)
)
def test_a_credential_the_server_echoes_is_never_quoted(password, before, after, pad):
    # A server or proxy that echoes the request: the pin, and the Authorization header built from it.
    session = _client.TextileAPI(username='P1', password=password).session  # the header as the client sends it
    header = session.prepare_request(requests.Request('GET', 'http://cafe')).headers['Authorization']
    session.close()
    basic = header.split()[1]
    forms = _server_text.credential_forms('P1', password, {'X-Api-Key': password + '-key'})
    words = server_words(f'{" " * pad}{before}{password}<b>Authorization: {header}</b>{after}', hidden=forms)
    folded = ' '.join(''.join(c if c.isprintable() else ' ' for c in password).split())
    assert basic not in words
    assert len(folded) < _server_text.HIDDEN_MIN_CHARS or folded not in words


def test_credential_forms():
    basic = base64.b64encode('P1:pin-\u00e9'.encode('utf-8')).decode()  # as the client sends it
    assert _server_text.credential_forms('P1', 'pin-\u00e9', {'X-Key': 'key-1', 'X-Short': 'no'}) == {
        'pin-\u00e9',
        basic,
        'key-1',
    }
    assert _server_text.credential_forms(None, None, None) == set()
    assert _server_text.credential_forms('P1', None, None) == {base64.b64encode(b'P1:').decode()}


HTTP_SERVER_404 = (
    '<!DOCTYPE HTML>\n<html lang="en">\n    <head>\n        <meta charset="utf-8">\n'
    '        <title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n'
    '        <p>Error code: 404</p>\n        <p>Message: File not found.</p>\n'
    '        <p>Error code explanation: 404 - Nothing matches the given URI.</p>\n    </body>\n</html>\n'
)


def test_an_html_error_page_says_its_words_once():
    """A page's title repeats its heading: the head (and style and script) are not the page's words."""
    assert server_words(HTTP_SERVER_404) == (
        'Error response Error code: 404 Message: File not found. Error code explanation: 404 - Nothing matches the '
        'given URI.'
    )


def test_an_html_404_is_quoted_once_in_the_error(raw_server):
    body = HTTP_SERVER_404.encode()
    server = raw_server(
        b'HTTP/1.0 404 Not Found\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: %d\r\n\r\n%s'
        % (len(body), body)
    )
    with pytest.raises(_client.TextileError) as info:
        _client.TextileAPI(server.url, retries=0).send_get('tokens')
    message = str(info.value)
    assert '(HTTP 404: "Error response Error code: 404 Message: File not found.' in message
    assert message.count('Error response') == 1


@pytest.mark.parametrize(
    'page, words',
    [
        ('<TITLE>Title</TITLE><H1>Heading</H1>', 'Heading'),
        ('<style type="text/css">p { color: red }</style ><p>Text</p>', 'Text'),
        ('<script>var token = 1;</script>After <SCRIPT src="x"></Script>end', 'After end'),
        ('<head><title>T</title><style>s</style></head><body>Body</body>', 'Body'),
        ('Before <title>never closed', 'Before never closed'),  # an element never closed keeps the words after it
        ('<title>a</title>b<title>c', 'b c'),
        ('<header>Kept</header><titles>kept</titles>', 'Kept kept'),  # other elements that start alike
    ],
)
def test_the_content_of_head_title_style_and_script_is_dropped(page, words):
    assert server_words(page) == words


def test_elements_never_closed_are_looked_for_once(monkeypatch):
    searches = []

    class Counted:
        def __init__(self, pattern):
            self.pattern = pattern

        def search(self, text, position):
            searches.append(position)
            return self.pattern.search(text, position)

    monkeypatch.setattr(
        _server_text, '_UNSHOWN_END', {name: Counted(p) for name, p in _server_text._UNSHOWN_END.items()}
    )
    assert server_words('<title><script>' * 2000 + 'end') == 'end'
    assert len(searches) == 2  # one search per element name, however many start tags follow


def test_a_credential_inside_another_goes_with_the_longer_one():
    # Longest first: a header value that holds the pin is hidden whole, never as the pin's mark and a tail of it
    # ('key-' sorts before the pin, so neither order by text nor shortest first would do).
    forms = _server_text.credential_forms('P1', 'zpin-1234', {'X-Api-Key': 'key-zpin-1234'})
    assert server_words('echo key-zpin-1234 end', hidden=forms) == 'echo [redacted] end'


def test_hiding_looks_at_as_much_as_is_shown():
    # The text is cut for hiding past the bound by the longest value, never before the bound.
    assert server_words(' ' * (_server_text.SERVER_TEXT_READ - 10) + 'end', hidden={'long-secret-value'}) == 'end'


def test_a_credential_that_folding_shortens_to_the_minimum_is_still_hidden():
    # 'a  bc' folds to 'a bc', exactly HIDDEN_MIN_CHARS long: hidden where the server's tab folds into a space
    assert server_words('say a\tbc now', hidden={'a  bc'}) == 'say [redacted] now'
