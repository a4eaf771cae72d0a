# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the reliability suite (helpers are in reliability.py).

The fixtures are the scenario harness's own (tests/scenarios/conftest.py: ``run_playbook``,
``sim``, ``sim_factory``, ``secrets``, ``new_token``, ``tls_ca``, ...), loaded here under another module
name so that every run of this suite gets the same secrets scan and the same simulators.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
if str(SCENARIOS) not in sys.path:
    sys.path.insert(0, str(SCENARIOS))

_spec = importlib.util.spec_from_file_location("textile_scenario_fixtures", SCENARIOS / "conftest.py")
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

# Every fixture of the scenario conftest, under its own name.
globals().update(
    {name: value for name, value in vars(_fixtures).items() if type(value).__name__ == "FixtureFunctionDefinition"}
)
