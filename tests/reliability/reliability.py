# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the reliability suite, on top of the scenario harness's playbook helpers."""

from __future__ import annotations

from harness import module_task

INFO_MODULE = "textile_cafe_token_info"
# Pipelining sends each module over the local connection's stdin: fewer processes per task, same module run.
FAST = {"ANSIBLE_PIPELINING": "true"}


def attempt(name, module="textile_cafe_token", **options):
    """A module task whose failure is recorded for the test to judge instead of ending the play."""
    return module_task(name, options, module=module, ignore_errors=True)


def count(requests, method, path=None):
    """How many requests of the simulator's log used ``method`` (and ``path``, when given)."""
    return sum(1 for r in requests if r["method"] == method and (path is None or r["path"] == path))
