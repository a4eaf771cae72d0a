# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the benchmarks of hacking/ share: the simulator, the collection's token format, a work directory in
which ansible-playbook finds this checkout as textileio.textile, its environment, and the machine's description.

benchmark.py, bench_fleet.py and bench_eda.py import this module; none of them imports another's helpers.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shlex
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "simulator"))
sys.path.insert(0, str(ROOT / "plugins" / "module_utils"))

# what the main line's venv has and a bare Python lacks: say so, not a traceback
for needed in ("ansible", "bcrypt"):
    if importlib.util.find_spec(needed) is None:
        sys.exit(
            f'{needed} is missing: run the benchmarks with the main line\'s venv: "$(scripts/venv.sh main)/bin/python" {sys.argv[0]}'
        )
from _token_format import TOKEN_RUN, b58encode, token_id  # noqa: E402
from textile_sim import SimProcess  # noqa: E402

__all__ = ["TOKEN_RUN", "SimProcess", "b58encode", "token_id"]

ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
BCRYPT_COST = 10  # go-textile's
SIMULATORS = 4  # the fleet benchmarks spread their cafes over this many simulators
FLEET_TOKENS = 3  # the client tokens every cafe of a fleet accepts


def collection_workdir(tmp: str) -> Path:
    """``tmp`` as a work directory whose ``collections/`` holds this checkout as textileio.textile."""
    workdir = Path(tmp)
    (workdir / "collections" / "ansible_collections" / "textileio").mkdir(parents=True)
    (workdir / "collections" / "ansible_collections" / "textileio" / "textile").symlink_to(ROOT)
    return workdir


def new_tokens(count: int) -> list[str]:
    return [b58encode(os.urandom(44)) for number in range(count)]


def ansible_env(workdir: Path, junit_dir: Path | None = None) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(workdir / "collections"),
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
            "ANSIBLE_REMOTE_TMP": str(workdir / "tmp"),
            "ANSIBLE_NOCOLOR": "1",
        }
    )
    if junit_dir is not None:
        env.update(
            {
                "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.junit",
                "JUNIT_OUTPUT_DIR": str(junit_dir),
                "JUNIT_HIDE_TASK_ARGUMENTS": "true",
            }
        )
    env.pop("ANSIBLE_CONFIG", None)
    return env


def task_times(junit_dir: Path) -> dict[str, float]:
    """Sum of per-host task durations by task name, from the junit callback's report."""
    (report,) = junit_dir.glob("*.xml")
    times: dict[str, float] = {}
    for case in ET.parse(report).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            raise RuntimeError(f"task failed: {case.get('name')}")
        task = case.get("name").split(": ", 1)[1]
        times[task] = times.get(task, 0.0) + float(case.get("time"))
    return times


def command_line(script: str) -> str:
    """How this run was started, as a line for the report: ``python hacking/SCRIPT ARGS``."""
    return "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(script, ROOT)] + sys.argv[1:])


def machine(load_before: tuple) -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    from ansible.release import __version__ as core_version  # pylint: disable=import-outside-toplevel

    return [
        f"- CPUs (nproc): {os.cpu_count()}; CPU model: {cpu}",
        f"- memory: {mem_kb / 1024 / 1024:.1f} GiB",
        f"- Python {platform.python_version()}, ansible-core {core_version}, {platform.system()} {platform.release()}",
        "- load average (1 min) at start and end of the run: %.1f, %.1f (above nproc means other work shared "
        "the CPUs)" % (load_before[0], os.getloadavg()[0]),
    ]
