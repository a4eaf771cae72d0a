# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mark_secret: ansible-core 2.22's register_secret when it exists, a no-op before.

The stub tests run on every line; the tests marked ``needs_secrets_api`` run the real API, on the ansible-core
2.22 line (Python 3.13), and are skipped where ansible-core has no ``ansible.module_utils.secrets``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import types

import pytest
from ansible.module_utils.common.parameters import remove_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.textileio.textile.plugins.module_utils import _secrets
from ansible_collections.textileio.textile.plugins.module_utils._secrets import MASK, WHOLE
from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58encode
from ansible_collections.textileio.textile.tests.simulator.pytest_plugin import make_token

STUB = 'ansible.module_utils.secrets'

needs_secrets_api = pytest.mark.skipif(
    importlib.util.find_spec(STUB) is None, reason='this ansible-core has no ansible.module_utils.secrets (2.22+)'
)


def test_registers_and_returns_the_value_with_the_secrets_api(secrets_api):
    module, registered, marked_class = secrets_api
    assert module.HAS_SECRETS_API is True
    marked = module.mark_secret('the-token')
    assert registered == ['the-token']
    assert isinstance(marked, marked_class) and marked == 'the-token'
    assert module.mark_secret('') == '' and module.mark_secret(None) is None
    assert registered == ['the-token']


def test_hide_masks_in_the_module_and_registers_with_the_secrets_api(secrets_api):
    module, registered, dummy = secrets_api
    holder = types.SimpleNamespace(no_log_values=set())
    module.hide(holder, ['pw', '', None, 3, 'pw', 'key'])
    assert holder.no_log_values == {'pw', 'key'} and registered == ['key', 'pw']
    module.hide(holder, [''])
    assert registered == ['key', 'pw']  # nothing to register: no call with an empty set


def test_no_op_without_the_secrets_api(monkeypatch):
    monkeypatch.setitem(sys.modules, STUB, None)  # makes the import fail like on ansible-core < 2.22
    module = importlib.reload(_secrets)
    try:
        assert module.HAS_SECRETS_API is False
        value = 'the-token'
        assert module.mark_secret(value) is value
        holder, calls = types.SimpleNamespace(no_log_values=set()), []
        # A reload keeps the names an earlier import bound: make sure the one left behind is never called.
        monkeypatch.setattr(module, 'register_secrets', calls.append, raising=False)
        module.hide(holder, [value])  # only the module's own masking: there is nothing to register with
        assert holder.no_log_values == {value} and calls == []
    finally:
        monkeypatch.undo()
        importlib.reload(_secrets)


@needs_secrets_api
def test_the_real_api_masks_a_marked_value_and_hands_it_back_unchanged():
    from ansible.module_utils.secrets import mask_secrets  # pylint: disable=import-outside-toplevel

    # The registry is global to the process and other tests register short secrets ('a', 't', ...), so only
    # the token as a whole is compared: once registered it is one span, masked as one placeholder.
    token = make_token()
    assert _secrets.HAS_SECRETS_API is True
    # Each comparison is computed before its assert: pytest would print the token if one failed.
    unmasked_before = mask_secrets(token, mask_placeholder='<masked>') != '<masked>'
    marked = _secrets.mark_secret(token)
    unchanged = marked.__class__ is str and marked == token  # usable as the token itself, e.g. to import it elsewhere
    masked = mask_secrets(token, mask_placeholder='<masked>') == '<masked>' and mask_secrets(token) == '$REDACTED$'
    assert unmasked_before and unchanged and masked


@needs_secrets_api
def test_a_minted_token_is_handed_to_the_controller_as_a_new_secret(sim, capsys):
    """The module's real JSON output lists the minted token under _ansible_new_secrets, which is what makes
    ansible-core 2.22 mask it in every output of the play, without no_log on the task."""
    from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel

    from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token  # pylint: disable=import-outside-toplevel

    with patch_module_args({'api_url': sim.url, 'store': False}), pytest.raises(SystemExit) as exited:
        textile_cafe_token.main()
    assert exited.value.code == 0
    result = json.loads(capsys.readouterr().out)
    assert result['changed'] is False and len(result['token_id']) == 24
    handed_over = result.pop('_ansible_new_secrets', None) == [result.pop('token')]
    assert handed_over  # computed first: pytest would print the token if the comparison were in the assert


@needs_secrets_api
def test_nothing_new_to_mask_when_nothing_was_minted(sim, capsys):
    from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel

    from ansible_collections.textileio.textile.plugins.modules import textile_cafe_token  # pylint: disable=import-outside-toplevel

    with patch_module_args({'api_url': sim.url, 'tokens': []}), pytest.raises(SystemExit) as exited:
        textile_cafe_token.main()
    assert exited.value.code == 0
    result = json.loads(capsys.readouterr().out)
    assert 'token' not in result and '_ansible_new_secrets' not in result


# masked(): the module's own masking before 2.22, against Ansible's remove_values

PROPERTY_EXAMPLES = int(os.environ.get('TEXTILE_PROPERTY_EXAMPLES', '300'))


@st.composite
def results_and_values(draw):
    """A result (nested dicts, lists, tuples, sets; strings, bytes, numbers, bools, None) and the no_log values to
    mask in it: short texts over a small alphabet (so that values overlap, nest and touch), tokens alone, padded
    or inside longer base58 runs, and pieces cut out of the result's own strings (so that values occur)."""
    tokens = draw(st.lists(st.binary(min_size=44, max_size=44).map(b58encode), max_size=3))
    runs = st.sampled_from(tokens) if tokens else st.just('')
    glued = st.builds(
        lambda before, run, after: before + run + after,
        st.sampled_from(['', 'Z', '9a', '-']),
        runs,
        st.sampled_from(['', 'z', 'Qb', ' ', '/x']),
    )
    texts = st.one_of(st.text(alphabet='ab*c L\n', max_size=12), glued, st.text(max_size=6))
    scalars = st.one_of(
        texts,
        st.integers(),
        st.floats(allow_nan=False),
        st.booleans(),
        st.none(),
        st.tuples(st.binary(max_size=2), texts).map(lambda pair: pair[0] + pair[1].encode('utf-8', 'surrogatepass')),
    )
    result = draw(
        st.dictionaries(
            st.text(alphabet='kab*', max_size=3),
            st.recursive(
                scalars,
                lambda inner: st.one_of(
                    st.lists(inner, max_size=4),
                    st.lists(inner, max_size=3).map(tuple),
                    st.dictionaries(st.text(alphabet='kab*', max_size=3), inner, max_size=3),
                    st.frozensets(st.one_of(texts, st.integers()), max_size=3),
                ),
                max_leaves=12,
            ),
            max_size=5,
        )
    )
    strings = [text for text in leaf_strings(result) if text]
    cut = (
        st.builds(
            lambda text, start, size: text[start : start + size],
            st.sampled_from(strings),
            st.integers(0, 60),
            st.integers(1, 70),
        )
        if strings
        else st.just('a')
    )
    padded = st.builds(lambda run, pad: pad + run + pad[::-1], runs, st.sampled_from([' ', '\n', ' \t']))
    values = draw(
        st.sets(
            st.one_of(
                st.text(alphabet='ab*c L1', min_size=1, max_size=4), cut, runs, padded, st.text(min_size=1, max_size=3)
            ),
            max_size=8,
        )
    )
    return result, {value for value in values if value}  # Ansible's no_log values are never empty


def leaf_strings(value):
    """The strings, bytes (as text) and numbers (as text) of a result, keys left out."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in leaf_strings(item)]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [text for item in value for text in leaf_strings(item)]
    if isinstance(value, bytes):
        return [value.decode('utf-8', 'surrogateescape')]
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value)]
    return []


def leaves_by_path(value, path=()):
    """{path: [leaf, ...]}: one leaf per path, except that a set's members share their set's path."""
    if isinstance(value, dict):
        return {
            where: found for key, item in value.items() for where, found in leaves_by_path(item, path + (key,)).items()
        }
    if isinstance(value, (list, tuple)):
        return {
            where: found
            for index, item in enumerate(value)
            for where, found in leaves_by_path(item, path + (index,)).items()
        }
    if isinstance(value, (set, frozenset)):
        joined = {}
        for item in value:
            for where, found in leaves_by_path(item, path + ('member',)).items():
                joined.setdefault(where, []).extend(found)
        return joined
    return {path: [value]}


def text_of(leaf):
    return leaf.decode('utf-8', 'surrogateescape') if isinstance(leaf, bytes) else str(leaf)


def overlapping(strings, values):
    """Whether two occurrences of values (the same value included) overlap or nest in any of ``strings``."""
    for text in strings:
        spans = sorted(
            (start, start + len(value))
            for value in values
            for start in range(len(text))
            if text.startswith(value, start)
        )
        if any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:])):
            return True
    return False


@settings(max_examples=PROPERTY_EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
@given(results_and_values())
def test_masked_hides_everything_remove_values_hides(case):
    result, values = case
    ansible = remove_values(result, values)
    first, left = _secrets.masked(result, values)
    ours = remove_values(first, left)  # what the module hands Ansible, and what Ansible then does with it
    theirs, mine = leaves_by_path(ansible), leaves_by_path(ours)
    assert theirs.keys() == mine.keys()  # the same shape: only strings and numbers change
    for path, their_leaves in theirs.items():
        their_texts, my_texts = [text_of(leaf) for leaf in their_leaves], [text_of(leaf) for leaf in mine[path]]
        for value in values:
            if not any(value in text for text in their_texts):
                assert not any(value in text for text in my_texts), (path, value)
        if path[-1:] != ('member',):  # a set's members are matched by nothing but their set
            (their_leaf,), (my_leaf,) = their_leaves, mine[path]
            if their_leaf == WHOLE:
                assert my_leaf == WHOLE, path
    # Where no two occurrences overlap (no value inside another, none formed by a mask), the output is Ansible's.
    if not overlapping(leaf_strings(result), values) and not any('*' in value for value in values):
        assert ours == ansible


def test_masked_masks_tokens_inside_longer_runs_padded_and_in_numbers():
    token, other = make_token(), make_token()
    padded = f' {token}\n'
    result = {
        'invocation': {'module_args': {'tokens': [token, padded, other], 'api_url': 'http://h'}},
        'msg': f'x{token}y and 9{token}Z',
        'ids': ['0f1e2d3c4b5a69788796a5b4'],
        'number': 123456,
        'changed': False,
    }
    shown, left = _secrets.masked(result, {token, padded, '3456'})
    assert shown == {
        'invocation': {'module_args': {'tokens': [WHOLE, WHOLE, other], 'api_url': 'http://h'}},
        'msg': f'x{MASK}y and 9{MASK}Z',
        'ids': ['0f1e2d3c4b5a69788796a5b4'],
        'number': WHOLE,
        'changed': False,
    }
    assert left == set()


def test_values_a_mask_forms_are_left_to_ansible():
    shown, left = _secrets.masked({'msg': 'abcdx', 'other': 'a*x'}, {'abcd', '*x', '**'})
    assert shown == {'msg': f'{MASK}x', 'other': f'a{MASK}'} and left == {'*x', '**'}


def test_overlapping_occurrences_are_one_mask_and_touching_ones_two():
    assert _secrets.Masker({'abc', 'cde'}).mask_text('xabcdey') == f'x{MASK}y'
    assert _secrets.Masker({'abc', 'de'}).mask_text('abcde') == MASK + MASK
    assert _secrets.Masker({'aa'}).mask_text('aaa') == MASK
    assert _secrets.Masker({'a', 'abcdef'}).mask_text('abcdefa') == MASK + MASK
    assert _secrets.Masker([]).mask_text('abc') == 'abc'


def test_only_non_empty_strings_are_values():
    """Ansible's no_log values are strings and never empty: an empty value would mask between every character."""
    assert _secrets.Masker(['', None, 3, b'ab', 'ab']).values == {'ab'}
    assert _secrets.masked({'empty': '', 'three': 'x3', 'text': 'xaby'}, ['', 3, 'ab']) == (
        {'empty': '', 'three': 'x3', 'text': f'x{MASK}y'},
        set(),
    )


def test_bytes_are_masked_as_remove_values_masks_them_even_when_not_utf8():
    token = make_token()
    result = {'raw': b'\xff' + token.encode() + b'\xfe', 'same': token.encode(), 'other': b'\xff-'}
    shown, left = _secrets.masked(result, {token})
    assert (
        shown
        == remove_values(result, {token})
        == {
            'raw': b'\xff' + MASK.encode() + b'\xfe',
            'same': WHOLE,
            'other': b'\xff-',
        }
    )
