#!/usr/bin/python
# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: textile_cafe_token
short_description: Declare, remove and mint Textile Cafe access tokens
version_added: 1.0.0
description:
  - Manages the access tokens of a go-textile cafe through the node's local REST API
    (C(/api/v0/tokens)). Clients need such a token to register with the cafe.
  - With O(state=present) and O(tokens), makes sure the given tokens are stored (imports the missing ones).
    With O(exclusive=true) it also removes every stored token that is not declared and not in O(keep_ids).
  - With O(state=present) and no O(tokens), mints a new token and returns it in RV(token).
  - With O(state=absent), removes the given O(tokens) and O(ids); a token that is not stored is no change.
  - Presence is decided by token ID from one list request, so a run that changes nothing makes exactly one
    HTTP request, whatever the number of tokens. Secrets never go into a URL.
author:
  - textileio.textile maintainers (@textileio)
extends_documentation_fragment:
  - textileio.textile.connection
  - textileio.textile.attributes
  - textileio.textile.attributes.diff_full
options:
  state:
    description:
      - V(present) declares O(tokens), or mints a token when O(tokens) is not given.
      - V(absent) removes O(tokens) and O(ids).
    type: str
    choices: [present, absent]
    default: present
  tokens:
    description:
      - The tokens to declare (O(state=present)) or to remove (O(state=absent)), each a base58 string that decodes
        to 44 bytes (a 12-byte ID and a 32-byte secret). Surrounding whitespace is ignored and duplicates are merged;
        two entries with the same ID and different secrets fail.
      - An empty list is allowed; it never mints. With O(exclusive=true), V([]) removes every stored token.
      - >-
        Not giving O(tokens) with O(state=present) mints a new token. Beware that setting O(tokens) to
        V({{ x | default(omit\) }}) therefore turns a missing variable into a mint; pass a list.
    type: list
    elements: str
    aliases: [token]
  ids:
    description:
      - Token IDs (24 hexadecimal characters, any case) to remove with O(state=absent), so a token can be removed
        without its secret. The P(textileio.textile.token_id#filter) filter gives the ID of a token.
    type: list
    elements: str
    aliases: [id]
  exclusive:
    description:
      - With O(tokens), remove every stored token that is neither in O(tokens) nor in O(keep_ids).
      - O(tokens=[]) with O(exclusive=true) removes every stored token.
    type: bool
    default: false
  keep_ids:
    description:
      - With O(exclusive=true), stored token IDs to keep although their tokens are not declared, for example when
        adopting a cafe whose client tokens you do not hold.
    type: list
    elements: str
  verify_secret:
    description:
      - With O(tokens), also check the secret of every declared token whose ID is stored, and replace a stored
        token whose secret differs (remove, then import).
      - The check is made locally with the C(bcrypt) Python library against the hash in the list answer when
        C(bcrypt) is installed on the host that runs the module, with no extra request. Without it the module
        calls the cafe's validate endpoint for each such token, and go-textile then writes that token into its
        log (C(<repo>/logs/textile.log)); the module warns when this happens.
    type: bool
    default: false
  store:
    description:
      - Only for minting (O(state=present) without O(tokens)). When not set, or V(true), the minted token is stored.
      - V(false) mints a token without storing it, for example to import it on other cafes; this writes nothing,
        reports no change and also runs in check mode.
    type: bool
  concurrency:
    description:
      - How many imports and removals may be in flight at once, from 1 to 16; V(1) sends them one at a time, in
        the order of their IDs.
      - The cafe hashes each imported token with bcrypt before it stores it (tens of milliseconds of one core
        each) and does so for several requests at once, so a first converge of many tokens takes about as much
        less time as the cafe has cores to hash with.
      - The guarantees stay whatever the value; one request per new token, the list after a failed import
        decides whether it was stored, a failure still reports every ID already changed.
    type: int
    default: 4
notes:
  - The token is returned (in RV(token)) only when the module mints one; declared tokens are never returned.
  - >-
    On ansible-core 2.22 and later a minted token is marked as a secret, so Ansible masks it wherever it would be
    shown. On older cores set C(no_log: true) on a task that mints, and never loop over tokens (loop labels print
    the items); pass all tokens to one task instead.
  - Removing a token stops new client registrations with it, but does not cut off clients that have already
    registered with it (go-textile does not look at the token again when a client refreshes its session).
  - The go-textile API keeps no token names, dates or usage data; only IDs and bcrypt hashes are stored.
  - A removal sends only the token ID (padded) in the URL, never the secret.
  - In check mode the module makes the same read requests as a real run and no others; the return values predict
    a real run. In check mode a stored mint only lists the tokens and returns no token.
seealso:
  - module: textileio.textile.textile_cafe_token_info
  - plugin: textileio.textile.token_id
    plugin_type: filter
requirements:
  - bcrypt (Python library, 4.0 or later, optional) to check secrets locally with O(verify_secret)
"""

EXAMPLES = r"""
- name: Make sure the client tokens are stored on the cafe
  textileio.textile.textile_cafe_token:
    tokens: "{{ cafe_client_tokens }}"
  no_log: true

- name: Store exactly these tokens; keep one client whose token we do not hold
  textileio.textile.textile_cafe_token:
    tokens: "{{ cafe_client_tokens }}"
    exclusive: true
    keep_ids:
      - 3f1c0a9b7d2e4c6f8a0b1c2d
  no_log: true
  register: cafe_tokens

- name: Show what changed (IDs only)
  ansible.builtin.debug:
    msg: "created {{ cafe_tokens.created_ids }}, removed {{ cafe_tokens.removed_ids }}"

- name: Replace stored tokens whose secret differs from the declared one
  textileio.textile.textile_cafe_token:
    tokens: "{{ cafe_client_tokens }}"
    verify_secret: true
  no_log: true

- name: Remove a decommissioned client's token by its ID
  textileio.textile.textile_cafe_token:
    state: absent
    ids:
      - 3f1c0a9b7d2e4c6f8a0b1c2d

- name: Remove tokens by value
  textileio.textile.textile_cafe_token:
    state: absent
    tokens: "{{ retired_client_tokens }}"
  no_log: true

- name: Remove every token from a cafe
  textileio.textile.textile_cafe_token:
    tokens: []
    exclusive: true

- name: Mint a new token on the cafe (returned once, in new_token.token)
  textileio.textile.textile_cafe_token:
    api_url: http://127.0.0.1:40600
    api_username: "{{ textile_account_address }}"
    api_password: "{{ textile_pin }}"
  no_log: true
  register: new_token

- name: Mint a token without storing it, then import it on every cafe
  textileio.textile.textile_cafe_token:
    store: false
  delegate_to: "{{ groups['textile_cafes'][0] }}"
  run_once: true
  no_log: true
  register: shared_token

- name: Import the shared token
  textileio.textile.textile_cafe_token:
    tokens:
      - "{{ shared_token.token }}"
  no_log: true
"""

RETURN = r"""
ids:
  description: Every token ID stored on the cafe after the run, sorted (in check mode, what would be stored).
  returned: success
  type: list
  elements: str
  sample: [3f1c0a9b7d2e4c6f8a0b1c2d, 9a8b7c6d5e4f3a2b1c0d9e8f]
created_ids:
  description:
    - IDs of the tokens this run stored (imports and a stored mint), sorted. A token that another writer stored
      first is not in it.
    - Also returned when the module fails, for the work done before the failure.
  returned: always
  type: list
  elements: str
  sample: [9a8b7c6d5e4f3a2b1c0d9e8f]
removed_ids:
  description:
    - IDs of the tokens this run removed, through O(tokens), O(ids) or O(exclusive), sorted.
    - Also returned when the module fails, for the work done before the failure.
  returned: always
  type: list
  elements: str
  sample: []
replaced_ids:
  description:
    - IDs whose stored secret O(verify_secret) replaced, sorted; they are in neither RV(created_ids) nor RV(removed_ids).
    - Also returned when the module fails, for the work done before the failure.
  returned: always
  type: list
  elements: str
  sample: []
token:
  description:
    - The minted token. Returned only when the module minted one (not in check mode for a stored mint).
    - Marked as a secret on ansible-core 2.22 and later; use C(no_log) on the task with older cores.
  returned: when a token was minted
  type: str
  sample: RgUbEwnaifcr6WoM2ZfnnGr9dAf1QtWhdWVChzd6ui55To52F1DRkGsRni4H
token_id:
  description: The ID of the minted token.
  returned: when a token was minted
  type: str
  sample: 9a8b7c6d5e4f3a2b1c0d9e8f
orphaned_ids:
  description:
    - When a stored mint failed after its request may have reached the cafe, the IDs that appeared since the
      first list of the run. Remove them with O(state=absent) and O(ids) if no other writer created them.
  returned: when a stored mint failed after its request was sent
  type: list
  elements: str
  sample: [9a8b7c6d5e4f3a2b1c0d9e8f]
"""

import threading
from typing import Any, Callable, NoReturn, Sequence

from ansible_collections.textileio.textile.plugins.module_utils._client import TextileError
from ansible_collections.textileio.textile.plugins.module_utils._secrets import mark_secret
from ansible_collections.textileio.textile.plugins.module_utils._textile_module import ModuleFailure, TextileModule
from ansible_collections.textileio.textile.plugins.module_utils._token_format import token_id
from ansible_collections.textileio.textile.plugins.module_utils._token_plan import (
    MINT,
    REMOVE,
    DeclaredToken,
    Plan,
    PlanError,
    check_concurrency,
    choose_action,
    id_diff,
    is_changed,
    normalize_ids,
    normalize_tokens,
    plan_absent,
    plan_present,
)

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    tokens=dict(type='list', elements='str', no_log=True, aliases=['token']),
    ids=dict(type='list', elements='str', aliases=['id']),
    exclusive=dict(type='bool', default=False),
    keep_ids=dict(type='list', elements='str'),
    verify_secret=dict(type='bool', default=False),
    store=dict(type='bool'),
    concurrency=dict(type='int', default=4),
)


class Progress:
    """The work a run has done so far, which every failure reports: the IDs it created, removed and replaced, and
    those it removed to replace and has not stored again. Changed under ``lock`` (imports and removals run in
    threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.created_ids: list[str] = []
        self.removed_ids: list[str] = []
        self.replaced_ids: list[str] = []
        self.unreplaced_ids: list[str] = []

    def result(self) -> dict[str, Any]:
        with self.lock:
            return dict(
                created_ids=sorted(self.created_ids),
                removed_ids=sorted(self.removed_ids),
                replaced_ids=sorted(self.replaced_ids),
                changed=is_changed(self.created_ids, self.removed_ids, self.replaced_ids),
            )

    def note(self) -> str:
        done = [
            f'{label} {", ".join(sorted(ids))}'
            for ids, label in (
                (self.created_ids, 'created'),
                (self.removed_ids, 'removed'),
                (self.replaced_ids, 'replaced the secret of'),
            )
            if ids
        ]
        note = f"Before this failure the run had already {'; '.join(done)}." if done else ''
        if self.unreplaced_ids:
            note += (
                f" The tokens with ID {', '.join(sorted(self.unreplaced_ids))} were removed to replace their "
                'secrets and are now missing from the cafe; a re-run restores them.'
            )
        return note.strip()


class TokenRun:
    """One run against one cafe: the module (``TextileModule``), what the cafe stores, and the work done so far
    (``done``, which every failure reports).

    Imports and removals run in up to ``concurrency`` threads; every change of the run's state happens under
    ``lock``, and a step that fails raises ModuleFailure, which the main thread turns into the one failure.
    """

    def __init__(self) -> None:
        self.done = Progress()
        self.lock = self.done.lock
        self.entries: dict[str, bytes | None] = {}
        self.before: list[str] = []
        self.replacing: set[str] = set()
        self.lost: dict[str, TextileError] = {}  # removals sent whose answers were lost: the confirming list decides
        self.imported: set[str] = set()  # IDs this run stored, recorded with the import: every later list keeps them
        self.module = TextileModule(ARGUMENT_SPEC, progress=self.done, supports_check_mode=True)

    def read(self, failed_msg: str = 'Listing the tokens failed') -> list[str]:
        """List the stored tokens; returns the sorted IDs and keeps each entry's bcrypt hash.

        An import of this run that completed while the list was on its way is kept, whatever the list says.
        """
        try:
            listed = self.module.tokens.entries()
        except TextileError as err:
            raise ModuleFailure(failed_msg, err) from None
        with self.lock:
            for stored_id in self.imported:
                listed.setdefault(stored_id, None)
            self.entries = listed
            return sorted(listed)

    def mismatched(self, declared: list[DeclaredToken]) -> list[str]:
        """IDs of declared stored tokens whose stored secret is not the declared one (verify_secret)."""
        try:
            return [
                token.id
                for token in declared
                if token.id in self.entries and not self.module.secret_matches(token, self.entries[token.id])
            ]
        except TextileError as err:
            raise ModuleFailure('Checking a token secret failed', err) from None

    def mint(self, store: bool) -> dict[str, Any]:
        """Mint a token (stored or not) and return the module result."""
        self.module.warn_plain_http()
        result: dict[str, Any] = dict(
            ids=self.before, created_ids=[], removed_ids=[], replaced_ids=[], changed=is_changed(minted_stored=store)
        )
        if store and self.module.check_mode:
            return self.with_diff(result, self.before + ['(the ID of the minted token)'])
        try:
            minted = self.module.tokens.create(store=store)
        except TextileError as err:
            if store and err.sent:
                self.fail_orphaned(err)
            raise ModuleFailure('Minting a token failed', err) from None
        result['token'] = mark_secret(minted)
        result['token_id'] = token_id(minted)
        if store:
            self.done.created_ids.append(result['token_id'])
            result.update(ids=sorted(set(self.before) | {result['token_id']}), created_ids=[result['token_id']])
        return self.with_diff(result, result['ids'])

    def fail_orphaned(self, err: TextileError) -> NoReturn:
        """A stored mint failed after it may have reached the cafe: never retried; report new IDs."""
        after = self.read(f'Minting a token failed ({err}); listing the tokens to look for an orphaned token failed')
        orphaned = sorted(set(after) - set(self.before))
        hint = (
            (
                f"IDs that appeared since the first list: {', '.join(orphaned)}; if no other writer created them, "
                'remove them with state=absent and ids.'
            )
            if orphaned
            else 'No new ID appeared, so nothing was stored.'
        )
        raise ModuleFailure(
            f'Minting a token failed after the request may have reached the cafe, so it was not retried. {hint}',
            err,
            orphaned_ids=orphaned,
        )

    def apply(self, plan: Plan) -> None:
        """Carry out a plan: removals (replacements included), one confirming list, then imports."""
        replaced = [token.id for token in plan.replacements]
        self.replacing = set(replaced)
        self.each(self.remove, plan.removals + replaced)
        if plan.removals or plan.replacements:
            self.confirm_removed(plan.removals + replaced)
        self.each(self.put, plan.replacements + plan.imports)

    def each(self, step: Callable[[Any], None], items: Sequence[Any]) -> None:
        """``step(item)`` for every item, in order, with up to ``concurrency`` of them in flight at once.

        The first failure stops the work that has not started; the work in flight ends (so that the progress is
        complete), then that failure is raised.
        """
        todo, done = iter(items), object()
        failures: list[Exception] = []

        def worker() -> None:
            while not failures:
                with self.lock:
                    item = next(todo, done)
                if item is done:
                    return
                try:
                    step(item)
                except Exception as exc:  # pylint: disable=broad-exception-caught
                    failures.append(exc)  # a ModuleFailure, or a bug: the main thread raises it

        threads = [
            threading.Thread(target=worker, name='textile-worker')
            for dummy in range(min(self.module.params['concurrency'], len(items)) - 1)
        ]
        for thread in threads:
            thread.start()
        worker()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]

    def remove(self, removed_id: str) -> None:
        try:
            self.module.tokens.remove_id(removed_id)
        except TextileError as err:
            if not err.sent or err.status is not None:
                raise ModuleFailure(f'Removing the token with ID {removed_id} failed', err) from None
            with self.lock:
                self.lost[removed_id] = err  # sent, and its answer lost: the confirming list decides
            return
        self.removed(removed_id)

    def removed(self, removed_id: str) -> None:
        with self.lock:
            (self.done.unreplaced_ids if removed_id in self.replacing else self.done.removed_ids).append(removed_id)

    def confirm_removed(self, removed: list[str]) -> None:
        """DELETE answers 204 whatever happened: a removed ID still listed fails the run. A removal whose answer was
        lost is decided by this list too: gone means removed."""
        lost = sorted(self.lost)
        unknown = f'; whether the tokens with ID {", ".join(lost)} were removed is unknown (their answers were lost)'
        self.read('Listing the tokens to confirm the removals failed' + (unknown if lost else ''))
        for removed_id in lost:
            if removed_id not in self.entries:
                self.removed(removed_id)
        still = sorted(removed_id for removed_id in removed if removed_id in self.entries)
        if still:
            self.done.removed_ids = [removed_id for removed_id in self.done.removed_ids if removed_id not in still]
            self.done.unreplaced_ids = [
                removed_id for removed_id in self.done.unreplaced_ids if removed_id not in still
            ]
            unanswered = [removed_id for removed_id in still if removed_id in self.lost]
            if unanswered:
                raise ModuleFailure(
                    f"Removing the tokens with ID {', '.join(unanswered)} failed and the cafe still lists them",
                    self.lost[unanswered[0]],
                )
            raise ModuleFailure(
                f"The cafe answered 204 to removing the tokens with ID {', '.join(still)} but still lists them."
            )

    def put(self, token: DeclaredToken) -> None:
        """Import a declared token, or the new secret of a replaced one, and record it."""
        stored = self.store(token)
        if token.id not in self.replacing:
            if stored:
                with self.lock:
                    self.done.created_ids.append(token.id)
            return
        with self.lock:
            self.done.unreplaced_ids.remove(token.id)  # stored now, by this run or by another writer
        if not stored and not self.module.secret_matches(token, self.entries[token.id]):
            raise ModuleFailure(
                f'Another writer stored the token with ID {token.id} while this run replaced its '
                'secret, with a secret other than the declared one; re-run to replace it.'
            )
        with self.lock:
            self.done.replaced_ids.append(token.id)

    def store(self, token: DeclaredToken) -> bool:
        """Import a token; True when this run stored it, False when another writer had stored it first.

        The client re-sends an import that never reached the cafe. After any other failure the stored IDs decide:
        present means imported (or, after a 400, stored by another writer); absent means retry within the
        retries budget, except after a 400, which fails quoting the cafe's answer.
        """
        attempt = 0
        while True:
            try:
                self.module.tokens.create(token=token.text, store=True)
            except TextileError as err:
                failure = err
            else:
                self.record_import(token.id)
                return True
            what = f'Importing {token.where} (ID {token.id}) failed'
            if not failure.sent:
                raise ModuleFailure(what, failure)
            if token.id in self.read(f'{what} ({failure}); listing the tokens to see whether it was stored failed'):
                if failure.kind == 'bad_request':
                    return False  # a duplicate: another writer stored it first
                self.record_import(token.id)
                return True
            if failure.kind == 'bad_request' or attempt >= self.module.params['retries']:
                raise ModuleFailure(f'{what} and the token is not stored', failure)
            self.module.api.backoff(attempt)
            attempt += 1

    def record_import(self, stored_id: str) -> None:
        """Record an import of this run in one step, so that a list another thread applies later keeps it."""
        with self.lock:
            self.imported.add(stored_id)
            self.entries.setdefault(stored_id, None)

    def report(self, plan: Plan) -> dict[str, Any]:
        """The module result: the prediction in check mode, the work done otherwise."""
        if self.module.check_mode:
            self.done.created_ids = [token.id for token in plan.imports]
            self.done.removed_ids = list(plan.removals)
            self.done.replaced_ids = [token.id for token in plan.replacements]
            ids = plan.ids_after
        else:
            ids = sorted(self.entries)
        return self.with_diff(dict(ids=ids, **self.done.result()), ids)

    def with_diff(self, result: dict[str, Any], after: list[str]) -> dict[str, Any]:
        if self.module.diff:
            result['diff'] = id_diff(self.before, after, self.done.replaced_ids)
        return result

    def converge(self) -> dict[str, Any]:
        """Read the cafe, decide, act (unless in check mode), and return the result."""
        p = self.module.params
        try:
            action = choose_action(
                p['state'], p['tokens'], p['ids'], p['exclusive'], p['keep_ids'], p['verify_secret'], p['store']
            )
            declared = normalize_tokens(p['tokens'])
            ids = normalize_ids(p['ids'], 'ids')
            keep_ids = normalize_ids(p['keep_ids'], 'keep_ids')
            check_concurrency(p['concurrency'])
        except PlanError as err:
            raise ModuleFailure(str(err)) from None

        self.before = self.read()
        if action == MINT:
            return self.mint(store=p['store'] is not False)
        if action == REMOVE:
            plan = plan_absent(self.before, declared, ids)
        else:
            mismatched = self.mismatched(declared) if p['verify_secret'] else ()
            plan = plan_present(self.before, declared, p['exclusive'], keep_ids, mismatched)
        if not self.module.check_mode:
            self.apply(plan)
        return self.report(plan)


def main() -> None:
    run = TokenRun()
    run.module.run(run.converge)


if __name__ == '__main__':
    main()
