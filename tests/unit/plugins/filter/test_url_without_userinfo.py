# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The textileio.textile.url_without_userinfo filter and the url_with_userinfo test: user info is never shown."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ansible_collections.textileio.textile.plugins.filter.url_without_userinfo import FilterModule
from ansible_collections.textileio.textile.plugins.test.url_with_userinfo import TestModule as _TestPlugin

without_userinfo = FilterModule().filters()['url_without_userinfo']
with_userinfo = _TestPlugin().tests()['url_with_userinfo']


@pytest.mark.parametrize(
    'url, shown',
    [
        ('http://user:ab@SECRET@127.0.0.1:40600', 'http://127.0.0.1:40600'),
        ('https://P4user:pin@cafe.example.org:8443/textile', 'https://cafe.example.org:8443/textile'),
        ('http://us:er:pa:ss@host', 'http://host'),
        ('http://user@host/', 'http://host/'),
        ('http://user:cd/SECRET@host', None),
        ('http://user:cd?SECRET@host', None),
        ('http://user:cd#SECRET@host', None),
        ('http://user:pw@[::1', None),
    ],
)
def test_user_info_is_removed_or_nothing_is_shown(url, shown):
    assert without_userinfo(url) == shown
    assert with_userinfo(url) is True


@pytest.mark.parametrize(
    'url',
    [
        'http://127.0.0.1:40600',
        'https://cafe.example.org/textile/',
        'not a url',
        'http://[::1',
        'http://host:99999',
        '',
    ],
)
def test_a_url_without_at_sign_is_returned_unchanged(url):
    assert without_userinfo(url) == url
    assert with_userinfo(url) is False


def test_null_stays_null():
    assert without_userinfo(None) is None
    assert with_userinfo(None) is False


# Hosts and paths of the generated URLs use characters a user info part below always lacks (an upper-case
# letter), so finding the user, the password or the two together in the result means user info leaked.
HOSTS = st.from_regex(r'\A[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?\Z') | st.sampled_from(['127.0.0.1', '[::1]'])
PATHS = st.from_regex(r'\A(/[a-z0-9._~-]{0,12}){0,3}\Z')
SECRET_TEXT = st.text(alphabet=st.characters(codec='utf-8', exclude_categories=('Cs',)), min_size=0, max_size=16)


def marked(text):
    """``text`` with an upper-case marker, so it is never part of a generated host or path."""
    return 'Q' + text + 'Z'


@given(
    scheme=st.sampled_from(['http', 'https', 'HTTP']),
    user=SECRET_TEXT,
    password=SECRET_TEXT | st.none(),
    host=HOSTS,
    port=st.none() | st.integers(1, 65535),
    path=PATHS,
    encode=st.booleans(),
)
@example(scheme='http', user='user', password='ab@SECRET', host='host', port=40600, path='', encode=False)
@example(scheme='http', user='user', password='cd/SECRET', host='host', port=None, path='', encode=False)
@example(scheme='http', user='u', password=':?#@/', host='127.0.0.1', port=1, path='/a', encode=False)
@example(scheme='http', user='\uff1a', password=None, host='127.0.0.1', port=None, path='', encode=False)
def test_no_generated_url_gives_back_its_user_info(scheme, user, password, host, port, path, encode):
    user, password = marked(user), None if password is None else marked(password)
    if encode:  # as RFC 3986 wants it; unencoded is what people paste
        user, password = quote(user, safe=''), None if password is None else quote(password, safe='')
    userinfo = user if password is None else f'{user}:{password}'
    url = f"{scheme}://{userinfo}@{host}{'' if port is None else f':{port}'}{path}"
    shown = without_userinfo(url)
    assert with_userinfo(url) is True
    if shown is not None:
        for part in (userinfo, user, password):
            if part is not None:
                assert part not in shown
        assert '@' not in shown
    if userinfo.isascii() and not any(ch in userinfo for ch in '/?#\\[]\t\r\n'):
        # a user info urllib.parse can split off is removed and the rest of the URL kept (non-ASCII text may
        # normalise to one of those characters, and urllib.parse then refuses the URL: nothing is shown)
        assert shown is not None and shown.endswith(f"{host}{'' if port is None else f':{port}'}{path}")


@given(st.text(max_size=60))
def test_any_text_never_gives_back_what_precedes_an_at_sign(text):
    shown = without_userinfo(text)
    if '@' in text:
        assert with_userinfo(text) is True
        assert shown is None or '@' not in shown
    else:
        assert shown == text and with_userinfo(text) is False
