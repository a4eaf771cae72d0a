# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the module tests: run a module's main() with arguments, the simulator, test tokens."""

from __future__ import annotations

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    """Raised instead of exit_json/fail_json; ``result`` is the raw result, before no_log masking."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


@pytest.fixture
def run_module(monkeypatch):
    """``run_module(module, args)`` runs ``module.main()`` and returns its raw result.

    The result has ``failed`` and the ``warnings`` the module gave. ``args`` may hold ``_ansible_check_mode`` and
    ``_ansible_diff``.
    """
    def run(module, args):
        warnings = []

        def exit_json(self, **result):
            raise ModuleExit(dict(result, failed=False, warnings=warnings))

        def fail_json(self, msg, **result):
            raise ModuleExit(dict(result, msg=msg, failed=True, warnings=warnings))

        monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
        monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
        monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, warning, **kwargs: warnings.append(warning))
        with patch_module_args(args), pytest.raises(ModuleExit) as info:
            module.main()
        return info.value.result
    return run


@pytest.fixture
def sim():
    """The go-textile simulator in process on a free loopback port (bcrypt cost 4 for speed)."""
    textile_sim = pytest.importorskip('ansible_collections.textileio.textile.tests.simulator.textile_sim')
    with textile_sim.SimServer(bcrypt_cost=4) as server:
        server.ctl = textile_sim.SimControl(server.url)
        yield server
