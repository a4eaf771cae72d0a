# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decision logic of textile_cafe_token as pure functions: input checks, normalisation, plans, diffs."""

from __future__ import annotations

import os

import pytest

from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58encode
from ansible_collections.textileio.textile.plugins.module_utils._token_plan import (
    DECLARE,
    MINT,
    REMOVE,
    PlanError,
    choose_action,
    id_diff,
    is_changed,
    normalize_ids,
    normalize_tokens,
    plan_absent,
    plan_present,
)
from ansible_collections.textileio.textile.tests.simulator.pytest_plugin import make_token


def ids_of(tokens):
    return [t.id for t in tokens]


A, B, C = (make_token() for index in range(3))
A_ID, B_ID, C_ID = (t.id for t in normalize_tokens([A, B, C]))
OTHER = 'ffeeddccbbaa998877665544'


class TestChooseAction:
    @pytest.mark.parametrize(
        'kwargs, action',
        [
            (dict(state='present', tokens=[]), DECLARE),
            (dict(state='present', tokens=[A], exclusive=True, keep_ids=[OTHER], verify_secret=True), DECLARE),
            (dict(state='present'), MINT),
            (dict(state='present', store=False), MINT),
            (dict(state='present', tokens=[], keep_ids=[]), DECLARE),
            (dict(state='absent', tokens=[A]), REMOVE),
            (dict(state='absent', ids=[]), REMOVE),
            (dict(state='absent', tokens=[], ids=[OTHER]), REMOVE),
        ],
    )
    def test_allowed(self, kwargs, action):
        assert choose_action(**kwargs) == action

    @pytest.mark.parametrize(
        'kwargs, names',
        [
            (dict(state='present', tokens=[A], ids=[OTHER]), ['ids', 'state=absent']),
            (dict(state='present', ids=[OTHER]), ['ids']),
            (dict(state='absent', tokens=[A], exclusive=True), ['exclusive', 'state=absent']),
            (dict(state='absent', ids=[OTHER], keep_ids=[OTHER], verify_secret=True), ['keep_ids and verify_secret']),
            (dict(state='absent', ids=[OTHER], store=False), ['store', 'state=absent']),
            (dict(state='absent'), ['tokens', 'ids']),
            (dict(state='present', tokens=[A], store=True), ['store', 'tokens']),
            (dict(state='present', tokens=[A], store=False), ['store']),
            (dict(state='present', exclusive=True), ['exclusive', 'mints']),
            (dict(state='present', verify_secret=True, keep_ids=[OTHER]), ['keep_ids and verify_secret', 'mints']),
            (dict(state='present', tokens=[A], keep_ids=[OTHER]), ['keep_ids', 'exclusive=true']),
            (
                dict(state='absent', ids=[OTHER], exclusive=True, keep_ids=[OTHER], verify_secret=True, store=True),
                ['exclusive, keep_ids, verify_secret and store cannot be used with state=absent.'],
            ),
            (
                dict(state='present', exclusive=True, keep_ids=[OTHER], verify_secret=True),
                ['exclusive, keep_ids and verify_secret need tokens;'],
            ),
        ],
    )
    def test_conflicts_name_the_options(self, kwargs, names):
        with pytest.raises(PlanError) as info:
            choose_action(**kwargs)
        for name in names:
            assert name in str(info.value)

    def test_a_single_conflicting_option_is_named_alone(self):
        with pytest.raises(PlanError) as info:
            choose_action(state='absent', ids=[OTHER], store=True)
        assert str(info.value) == 'store cannot be used with state=absent.'


class TestNormalizeTokens:
    def test_strips_merges_and_keeps_input_order(self):
        declared = normalize_tokens([f'  {B}\n', A, B])
        assert [t.text for t in declared] == [B, A]
        assert [t.where for t in declared] == ['tokens[0]', 'tokens[1]']
        assert all(len(t.id) == 24 and t.id == t.id.lower() for t in declared)
        assert all(len(t.secret) == 32 for t in declared)

    def test_without_merge_every_entry_is_kept(self):
        assert [t.where for t in normalize_tokens([A, A], merge=False)] == ['tokens[0]', 'tokens[1]']

    def test_same_id_different_secret_names_both_positions(self):
        ident = os.urandom(12)
        first, second = make_token(ident), make_token(ident)
        with pytest.raises(PlanError) as info:
            normalize_tokens([A, first, B, second])
        text = str(info.value)
        assert 'tokens[1]' in text and 'tokens[3]' in text and ident.hex() in text
        assert first not in text and second not in text

    @pytest.mark.parametrize(
        'bad',
        [
            '',
            '   ',
            None,
            '0OIl' + 'a' * 56,  # characters outside the base58 alphabet
            b58encode(os.urandom(43)),  # 43 bytes
            b58encode(os.urandom(45)),  # 45 bytes
            b58encode(os.urandom(72)),  # a list entry, not a token
        ],
        ids=['empty', 'blank', 'none', 'alphabet', '43-bytes', '45-bytes', 'list-entry'],
    )
    def test_bad_token_names_position_and_never_echoes(self, bad):
        with pytest.raises(PlanError) as info:
            normalize_tokens([A, bad], option='tokens')
        text = str(info.value)
        assert 'tokens[1]' in text
        assert not bad or bad.strip() == '' or bad not in text
        assert A not in text
        assert info.value.__cause__ is None
        assert info.value.__context__ is None or info.value.__suppress_context__

    def test_fixtures_zero_first_byte_59_chars_and_zero_in_secret(self):
        leading_zero = make_token(b'\0' + os.urandom(11))
        short = make_token(b'\x01' + os.urandom(11))
        zero_secret = make_token(os.urandom(12), b'\0' * 5 + os.urandom(27))
        assert leading_zero.startswith('1')
        declared = normalize_tokens([leading_zero, short, zero_secret])
        assert declared[0].id.startswith('00')
        assert len(short) <= 60 and declared[1].id.startswith('01')
        assert declared[2].secret.startswith(b'\0' * 5)


class TestNormalizeIds:
    def test_lowercase_strip_merge(self):
        assert normalize_ids([' AABBCCDDEEFF001122334455 ', 'aabbccddeeff001122334455', OTHER]) == [
            'aabbccddeeff001122334455',
            OTHER,
        ]

    def test_none_is_empty(self):
        assert normalize_ids(None) == []

    @pytest.mark.parametrize('bad', ['', 'abc', 'g' * 24, 'a' * 25, None])
    def test_bad_id_names_option_and_position(self, bad):
        with pytest.raises(PlanError) as info:
            normalize_ids([OTHER, OTHER, bad], option='keep_ids')
        assert 'keep_ids[2]' in str(info.value)

    def test_a_token_given_as_id_is_not_echoed(self):
        with pytest.raises(PlanError) as info:
            normalize_ids([A])
        assert A not in str(info.value) and 'ids[0]' in str(info.value)


class TestPlanPresent:
    def test_noop(self):
        declared = normalize_tokens([A, B])
        plan = plan_present([A_ID, B_ID, C_ID], declared)
        assert plan.imports == [] and plan.removals == [] and plan.replacements == []
        assert plan.ids_after == sorted([A_ID, B_ID, C_ID])

    def test_imports_missing_sorted_by_id(self):
        declared = normalize_tokens([A, B, C])
        plan = plan_present([B_ID], declared)
        assert ids_of(plan.imports) == sorted([A_ID, C_ID])
        assert plan.ids_after == sorted([A_ID, B_ID, C_ID])

    def test_exclusive_removes_undeclared_but_keeps_keep_ids(self):
        plan = plan_present([A_ID, B_ID, C_ID, OTHER], normalize_tokens([A]), exclusive=True, keep_ids=[C_ID])
        assert plan.removals == sorted([B_ID, OTHER])
        assert plan.ids_after == sorted([A_ID, C_ID])

    def test_exclusive_empty_removes_all(self):
        plan = plan_present([A_ID, OTHER], [], exclusive=True)
        assert plan.removals == sorted([A_ID, OTHER]) and plan.ids_after == []

    def test_not_exclusive_never_removes(self):
        assert plan_present([OTHER], [], keep_ids=[]).removals == []

    def test_mismatched_stored_tokens_are_replaced_not_imported(self):
        declared = normalize_tokens([A, B])
        plan = plan_present([A_ID], declared, mismatched_ids=[A_ID, C_ID])
        assert ids_of(plan.replacements) == [A_ID]
        assert ids_of(plan.imports) == [B_ID]
        assert plan.ids_after == sorted([A_ID, B_ID])


class TestPlanAbsent:
    def test_removes_tokens_and_ids_that_are_stored(self):
        plan = plan_absent([A_ID, B_ID, OTHER], normalize_tokens([A, C]), [OTHER, 'aaaaaaaaaaaaaaaaaaaaaaaa'])
        assert plan.removals == sorted([A_ID, OTHER])
        assert plan.ids_after == [B_ID]
        assert plan.imports == [] and plan.replacements == []

    def test_empty_lists_are_noop(self):
        assert plan_absent([A_ID], [], []).removals == []


def test_diff_sorted_with_replaced_marker():
    diff = id_diff([C_ID, A_ID], [B_ID, A_ID], replaced_ids=[A_ID])
    assert diff['before'] == '\n'.join(sorted([A_ID, C_ID]))
    after = diff['after'].split('\n')
    assert f'{A_ID} (secret replaced)' in after and B_ID in after and len(after) == 2
    assert [line.split()[0] for line in after] == sorted([A_ID, B_ID])


def test_diff_of_nothing_is_empty():
    assert id_diff([], []) == {'before': '', 'after': ''}


@pytest.mark.parametrize(
    'kwargs, changed',
    [
        (dict(), False),
        (dict(created_ids=['x']), True),
        (dict(removed_ids=['x']), True),
        (dict(replaced_ids=['x']), True),
        (dict(minted_stored=True), True),
    ],
)
def test_is_changed(kwargs, changed):
    assert is_changed(**kwargs) is changed
