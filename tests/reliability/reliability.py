# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the reliability suite: playbook text, tasks and request-log counts."""

from __future__ import annotations

import json

TOKEN_MODULE = "textileio.textile.textile_cafe_token"
INFO_MODULE = "textileio.textile.textile_cafe_token_info"
WRITE_METHODS = ("POST", "PUT", "DELETE")


def playbook(*tasks, hosts="localhost"):
    """Playbook text (JSON is YAML) of one play without fact gathering."""
    return json.dumps([{"name": "reliability", "hosts": hosts, "gather_facts": False, "tasks": list(tasks)}],
                      indent=1)


def task(name, module=TOKEN_MODULE, ignore_errors=True, **args):
    """A task calling ``module`` with ``args``; failures are recorded, not fatal, unless told otherwise."""
    entry = {"name": name, module: args}
    if ignore_errors:
        entry["ignore_errors"] = True
    return entry


def writes(requests):
    return [r for r in requests if r["method"] in WRITE_METHODS]


def count(requests, method, path=None):
    return sum(1 for r in requests if r["method"] == method and (path is None or r["path"] == path))
