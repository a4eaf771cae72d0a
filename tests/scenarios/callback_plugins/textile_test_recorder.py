# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: records every task result and the recap as JSON for the integration harness.

Enabled by tests/scenarios/harness.py through ANSIBLE_CALLBACKS_ENABLED; writes to the file named by
TEXTILE_TEST_RECORD_FILE. The stdout callback stays the default one, so the -vvvv text is what an
operator would see.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: textile_test_recorder
type: aggregate
short_description: Record task results as JSON for the textileio.textile integration tests
description:
  - Writes every task result and the play recap to the file named by E(TEXTILE_TEST_RECORD_FILE).
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
"""


def _attr(obj, name):
    """ansible-core 2.19+ exposes host/task/result; older cores only the underscored names."""
    value = getattr(obj, name, None)
    return value if value is not None else getattr(obj, "_" + name)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "textile_test_recorder"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tasks = []
        self._play = None

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()

    def _record(self, result, status):
        task = _attr(result, "task")
        raw = dict(_attr(result, "result"))
        if status in ("failed", "ignored"):
            raw.setdefault("failed", True)  # ansible-core 2.19+ drops the key before callbacks see it
        self._tasks.append(
            {
                "play": self._play,
                "task": task.get_name(),
                "action": task.action,
                "host": _attr(result, "host").get_name(),
                "status": status,
                "result": raw,
            }
        )

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("TEXTILE_TEST_RECORD_FILE")
        if not path:
            return
        recap = {host: stats.summarize(host) for host in sorted(stats.processed)}
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"tasks": self._tasks, "recap": recap}, handle, default=str, indent=1, sort_keys=True)
