# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet scale: the collection playbooks textileio.textile.provision and textileio.textile.report over whole
inventories (50, 100, 200 hosts by default; forks 20).

Each inventory host is a cafe whose ``textile_api_url`` points at one of a few simulators this script starts
(go-textile's bcrypt cost 10), hosts spread round-robin over them. Every round runs, for every size, a first
provision (tokens absent), a no-op provision and a report, each as a real ``ansible-playbook`` process; each
figure is the median over the rounds. Wall time is the process's; the report's controller-side steps
(its ``run_once`` tasks) are timed by ansible-core's ``junit`` callback; requests are counted at the simulators.

    python hacking/bench_fleet.py --sizes 50 100 200 --runs 3
    python hacking/bench_fleet.py --sizes 10 --runs 1          # quick look

``fleet_report(runs, sizes, forks)`` returns the same figures as Markdown lines (a "## Fleet scale" section)
for ``hacking/benchmark.py``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import (
    ANSIBLE_PLAYBOOK,
    BCRYPT_COST,
    FLEET_TOKENS,
    ROOT,
    SIMULATORS,
    SimProcess,
    ansible_env,
    collection_workdir,
    command_line,
    machine,
    new_tokens,
    task_times,
)

REPORT_TASKS = {  # the report role's run_once tasks that handle the whole fleet at once
    "build": "Compute the fleet summary from every cafe's entry",
    "json": "Write textile-cafe-report.json",
    "html": "Write textile-cafe-report.html",
}
RUNS = (  # (name, playbook, inventory)
    ("provision, first run", "textileio.textile.provision", "first.json"),
    ("provision, no-op", "textileio.textile.provision", "fleet.json"),
    ("report", "textileio.textile.report", "fleet.json"),
)


def host_names(size: int) -> list[str]:
    return ["cafe%03d" % number for number in range(1, size + 1)]


def inventory(hosts: dict[str, dict], group_vars: dict) -> dict:
    """A YAML inventory (written as JSON): the hosts in group textile_cafes, each cafe run on the controller."""
    return {
        "all": {
            "children": {
                "textile_cafes": {
                    "hosts": hosts,
                    "vars": dict(
                        group_vars,
                        **{
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                        },
                    ),
                }
            }
        }
    }


def write_secret_json(path: Path, data: dict) -> None:
    """Inventories hold tokens: readable by this user only, and never on a command line."""
    path.touch(mode=0o600)
    path.write_text(json.dumps(data, indent=1))


class Fleet:
    """``size`` inventory hosts over the simulators: a fleet inventory declaring the fleet tokens on every
    host, and a first-run inventory in which every host declares tokens of its own.

    Hosts that share a simulator share its token store. For the no-op and the report that is what a fleet
    looks like: every store is seeded with the same fleet tokens. For the first run, hosts of one simulator
    declaring the same tokens would race (the first import wins, the others get a 400 and re-list), and
    most of them would find the tokens already stored; so each host declares FLEET_TOKENS tokens of its own,
    and does what a first run on its own cafe does: one list and FLEET_TOKENS imports, each hashed at
    bcrypt cost 10 by the simulator.
    """

    def __init__(self, size: int, sims: list[SimProcess], fleet_tokens: list[str], workdir: Path):
        self.size, self.sims, self.fleet_tokens = size, sims, fleet_tokens
        self.dir = workdir / f"fleet-{size}"
        self.dir.mkdir()
        names = host_names(size)
        urls = {name: sims[number % len(sims)].url for number, name in enumerate(names)}
        write_secret_json(
            self.dir / "fleet.json",
            inventory({name: {"textile_api_url": urls[name]} for name in names}, {"cafe_tokens_present": fleet_tokens}),
        )
        write_secret_json(
            self.dir / "first.json",
            inventory(
                {
                    name: {"textile_api_url": urls[name], "cafe_tokens_present": new_tokens(FLEET_TOKENS)}
                    for name in names
                },
                {},
            ),
        )
        self.samples: dict[str, list[dict]] = {name: [] for name, _playbook, _inventory in RUNS}

    def prepare(self, run: str) -> None:
        """Empty every store before a first run; seed the fleet tokens (uncounted) before the no-op."""
        for sim in self.sims:
            if run != "report":
                sim.control.reset()
            if run == "provision, no-op":
                sim.control.seed(self.fleet_tokens)
            sim.control.clear_requests()

    def measure(self, run: str, playbook: str, inventory_file: str, forks: int, workdir: Path, run_no: int) -> None:
        self.prepare(run)
        tag = f"{run.split(',')[0]}-{inventory_file.split('.')[0]}-{run_no}"
        junit_dir, temp = self.dir / f"junit-{tag}", self.dir / f"tmp-{tag}"
        env = ansible_env(workdir, junit_dir)
        env.update(
            {
                "ANSIBLE_FORKS": str(forks),
                "ANSIBLE_PIPELINING": "true",
                "ANSIBLE_LOCAL_TEMP": str(temp / "local"),
                "ANSIBLE_REMOTE_TMP": str(temp / "remote"),
                "ANSIBLE_RETRY_FILES_ENABLED": "false",
            }
        )
        started = time.monotonic()
        proc = subprocess.run(
            [ANSIBLE_PLAYBOOK, "-i", inventory_file, playbook],
            cwd=self.dir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.monotonic() - started
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.splitlines()[-20:])
            raise RuntimeError(f"{run}, {self.size} hosts: ansible-playbook exited {proc.returncode}\n{tail}")
        requests = [entry for sim in self.sims for entry in sim.control.requests()]
        sample = {
            "wall": wall,
            "requests": len(requests),
            "writes": sum(entry["method"] != "GET" for entry in requests),
        }
        times = task_times(junit_dir)
        for key, task in REPORT_TASKS.items():
            sample[key] = next((seconds for name, seconds in times.items() if name.endswith(task)), None)
        if run == "report":
            sample.update(self.check_report())
        self.samples[run].append(sample)

    def check_report(self) -> dict:
        """The report must hold every cafe, all readable and in step; returns the size of the HTML page."""
        base = self.dir / "textile-cafe-report"
        summary = json.loads((base / "textile-cafe-report.json").read_text())["summary"]
        if (summary["cafes"], summary["reachable"], summary["missing"], summary["unexpected"]) != (
            self.size,
            self.size,
            {},
            {},
        ):
            raise RuntimeError(f"report of {self.size} hosts: unexpected summary {summary}")
        return {"html_kb": (base / "textile-cafe-report.html").stat().st_size / 1024}

    def median(self, run: str, key: str) -> float:
        return statistics.median(sample[key] for sample in self.samples[run])


def per_host_ms(seconds: float, size: int) -> str:
    return f"{seconds / size * 1000:.1f}"


def spread(fleet: Fleet, run: str) -> str:
    values = [sample["wall"] / fleet.size * 1000 for sample in fleet.samples[run]]
    return f"{min(values):.1f} to {max(values):.1f}"


def runs_table(fleets: list[Fleet]) -> list[str]:
    rows = [
        "| playbook run | hosts | requests | per host | writes | wall (s) | per host (ms) | "
        "per host, lowest to highest run (ms) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run, _playbook, _inventory in RUNS:
        for fleet in fleets:
            requests = fleet.median(run, "requests")
            rows.append(
                f"| {run} | {fleet.size} | {requests:g} | {requests / fleet.size:g} "
                f"| {fleet.median(run, 'writes'):g} | {fleet.median(run, 'wall'):.1f} "
                f"| {per_host_ms(fleet.median(run, 'wall'), fleet.size)} | {spread(fleet, run)} |"
            )
    return rows


def report_table(fleets: list[Fleet]) -> list[str]:
    rows = [
        "| hosts | build the fleet report (s) | per host (ms) | write JSON (s) | write HTML (s) "
        "| per host (ms) | HTML page (kB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for fleet in fleets:
        build, html = fleet.median("report", "build"), fleet.median("report", "html")
        rows.append(
            f"| {fleet.size} | {build:.3f} | {per_host_ms(build, fleet.size)} "
            f"| {fleet.median('report', 'json'):.3f} | {html:.3f} | {per_host_ms(html, fleet.size)} "
            f"| {fleet.median('report', 'html_kb'):.0f} |"
        )
    return rows


def flatness(sizes: list[int], seconds: list[float], unit: str = "ms") -> str:
    """Cost per host at each size, and the largest size's cost per host over the smallest's."""
    scale = 1000 if unit == "ms" else 1e6
    costs = [total / size * scale for size, total in zip(sizes, seconds)]
    listed = ", ".join(f"{cost:.0f} {unit} at {size}" for size, cost in zip(sizes, costs))
    return f"{listed} (x{costs[-1] / costs[0]:.2f} from {sizes[0]} to {sizes[-1]})"


def growth(fleets: list[Fleet], run: str, key: str = "wall") -> str:
    return flatness([fleet.size for fleet in fleets], [fleet.median(run, key) for fleet in fleets])


def summary(fleets: list[Fleet]) -> list[str]:
    noop = ", ".join(f"{fleet.median('provision, no-op', 'requests') / fleet.size:g}" for fleet in fleets)
    first = fleets[-1].median("provision, first run", "requests") / fleets[-1].size
    return [
        f"- provision, first run: {growth(fleets, 'provision, first run')} per host; "
        f"{first:g} requests per host (1 list, {FLEET_TOKENS} imports).",
        f"- provision, no-op: {growth(fleets, 'provision, no-op')} per host; requests per host: {noop} "
        f"(target exactly 1 at every size).",
        f"- report: {growth(fleets, 'report')} per host; building the fleet report takes "
        f"{growth(fleets, 'report', 'build')} per host, writing the HTML page {growth(fleets, 'report', 'html')}.",
    ]


@functools.cache
def load_ansible_plugins(collections: str) -> None:
    """Set up ansible-core's plugin loader in this process, once, finding textileio.textile in ``collections``."""
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([collections])


def render_report(size: int, ids: list[str], workdir: Path) -> tuple[float, float]:
    """CPU seconds this process takes for the report role's controller work over ``size`` readable cafes holding
    ``ids`` (no playbook, no module, no worker): the fleet summary (every cafe's entry through ``hostvars`` and
    the fleet_summary filter, as the role's set_fact computes it) with the JSON report, then the HTML page: the
    work that sees the whole fleet at once, without the noise of a whole run on a shared machine."""
    import yaml
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template
    from ansible.vars.hostvars import HostVars
    from ansible.vars.manager import VariableManager

    load_ansible_plugins(str(workdir / "collections"))
    loader = DataLoader()
    names = host_names(size)
    inventory_manager = InventoryManager(loader=loader, sources=",".join(names) + ",")  # a host list
    variables = VariableManager(loader=loader, inventory=inventory_manager)
    for number, name in enumerate(names):
        variables.set_nonpersistent_facts(
            name,
            {
                "cafe_token_report_entry": {
                    "reachable": True,
                    "error": None,
                    "api_url": f"http://127.0.0.1:{40600 + number % SIMULATORS}",
                    "api_url_note": "not shown",
                    "node_version": "0.7.8",
                    "ids": ids,
                }
            },
        )
    role = ROOT / "roles" / "cafe_token_report"
    # the role's own expression of every host's entry, and the filter the role's set_fact applies to it
    role_vars = yaml.safe_load((role / "vars" / "main.yml").read_text(encoding="utf-8"))
    task_vars = {
        "ansible_play_hosts_all": names,
        "hostvars": HostVars(inventory_manager, variables, loader),
        "cafe_token_report_expected_ids": [],
        "cafe_token_report_labels": {},
        "cafe_token_report__entries": trust_as_template(role_vars["cafe_token_report__entries"]),
        "cafe_token_report_generated_at": "2026-01-31T12:00:00Z",
    }
    summary = trust_as_template(
        "{{ cafe_token_report__entries | textileio.textile.fleet_summary(cafe_token_report_expected_ids,"
        " cafe_token_report_labels) }}"
    )

    def render(source: str, extra: dict) -> tuple[float, object]:
        templar = Templar(loader=loader, variables=dict(task_vars, **extra))
        started = time.process_time()
        result = templar.template(trust_as_template(source), escape_backslashes=False)
        return time.process_time() - started, result

    templates = role / "templates"
    build, fleet = render(summary, {})
    data, _json = render((templates / "report.json.j2").read_text(), {"cafe_token_report_fleet": fleet})
    html, _page = render((templates / "report.html.j2").read_text(), {"cafe_token_report_fleet": fleet})
    return build + data, html


def render_table(sizes: list[int], runs: int, workdir: Path) -> tuple[list[str], list[str]]:
    """The templates rendered alone, from the benchmark's sizes to 8 times the largest: the table and a
    summary line."""
    largest = max(sizes)
    sizes = sorted(set(sizes) | {largest * 4, largest * 8})
    ids = [sample.hex() for sample in (os.urandom(12) for _number in range(FLEET_TOKENS))]
    render_report(sizes[0], ids, workdir)  # warm-up: plugin loading and first compilations are not the fleet's
    medians = []
    for size in sizes:
        print(f"rendering the report templates over {size} cafes", file=sys.stderr)
        samples = [render_report(size, sorted(ids), workdir) for _run in range(runs)]
        medians.append([statistics.median(column) for column in zip(*samples)])
    rows = [
        "| cafes | build the report data (ms) | per cafe (µs) | HTML page (ms) | per cafe (µs) |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, (build, html) in zip(sizes, medians):
        rows.append(
            f"| {size} | {build * 1000:.0f} | {build / size * 1e6:.0f} | {html * 1000:.0f} | {html / size * 1e6:.0f} |"
        )
    # Each render has a fixed cost (compiling the template) that weighs on the small sizes: judge the growth
    # from the largest fleet measured above.
    large = [(size, build, html) for size, (build, html) in zip(sizes, medians) if size >= largest]
    large_sizes, builds, htmls = (list(column) for column in zip(*large))
    line = (
        f"- the report templates rendered alone, CPU per cafe: report data {flatness(large_sizes, builds, 'µs')}; "
        f"HTML page {flatness(large_sizes, htmls, 'µs')}."
    )
    return rows, [line]


def method(forks: int) -> list[str]:
    return [
        "- One inventory host per cafe, in group `textile_cafes`, with `ansible_connection: local` and "
        "`ansible_python_interpreter` set to the venv's Python; each host's `textile_api_url` points at one of "
        f"{SIMULATORS} simulators (go-textile's bcrypt cost {BCRYPT_COST}), hosts spread round-robin over them. "
        f"Forks {forks}, pipelining on, `ANSIBLE_LOCAL_TEMP` and `ANSIBLE_REMOTE_TMP` in a temporary "
        "directory. Tokens are generated and passed only in inventory files (mode 0600), never on a command line.",
        "- Each round runs every size once, side by side: a first provision, a no-op provision, then a report. "
        "Each figure is the median over the rounds; \"lowest to highest\" shows the per-run spread.",
        "- **provision, first run**: every store is emptied; each host declares "
        f"{FLEET_TOKENS} tokens of its own (one list and {FLEET_TOKENS} imports, each hashed by the simulator). "
        "Hosts sharing a simulator share its token store: had they declared the same tokens, they would race "
        "(the first import wins, the others get a 400 and re-list) and most would find the tokens already stored.",
        f"- **provision, no-op**: every store is seeded with the same {FLEET_TOKENS} fleet tokens (through the "
        "simulator's control API, not counted) and every host declares them: exactly 1 request per host.",
        "- **report**: `textileio.textile.report` over the same stores (1 list and 1 `GET /` per host), writing "
        "the JSON and HTML report; the script checks that it names every cafe, all readable and none drifting.",
        "- Wall time is the `ansible-playbook` process's; per host is wall time over hosts. The report's "
        "controller-side steps are its `run_once` tasks, timed by ansible-core's `ansible.builtin.junit` callback "
        "(task start to result): \"Build the fleet report\" (`set_fact` over the JSON template, which reads every "
        "host's entry through `hostvars`), writing the JSON (`copy`) and the HTML page (`template`). These are "
        "the steps that see the whole fleet at once, so their cost per host must stay flat; the two writes also "
        "start a module on the controller, a fixed cost of about a second on a loaded machine.",
        "- The same templates are also rendered alone, in the benchmark's own process, through ansible-core's "
        "`Templar` with real `hostvars` over synthetic cafe entries, from the smallest size to 8 times the largest. "
        "CPU time, without workers, modules or the other runs on the machine, shows a cost per cafe that grows "
        "with the fleet long before a whole run does.",
    ]


def fleet_report(runs: int, sizes: list[int], forks: int) -> list[str]:
    """Run the fleet benchmark and return its "## Fleet scale" section as Markdown lines."""
    sizes = sorted(set(sizes))
    sims: list[SimProcess] = []
    with tempfile.TemporaryDirectory(prefix="textile-fleet-") as tmp:
        workdir = collection_workdir(tmp)
        try:
            sims += [SimProcess(bcrypt_cost=BCRYPT_COST) for _number in range(SIMULATORS)]
            fleet_tokens = new_tokens(FLEET_TOKENS)
            fleets = [Fleet(size, sims, fleet_tokens, workdir) for size in sizes]
            for run_no in range(runs):
                for fleet in fleets:
                    for run, playbook, inventory_file in RUNS:
                        print(f"round {run_no + 1}/{runs}: {fleet.size} hosts, {run}", file=sys.stderr)
                        fleet.measure(run, playbook, inventory_file, forks, workdir, run_no)
        finally:
            for sim in sims:
                sim.stop()
        rendered, rendered_summary = render_table(sizes, runs, workdir)
    return (
        ["## Fleet scale", "", f"Median of {runs} rounds; forks {forks}; {SIMULATORS} simulators.", ""]
        + runs_table(fleets)
        + ["", "The report's controller-side steps (its `run_once` tasks):", ""]
        + report_table(fleets)
        + [
            "",
            "The report's templates rendered alone (CPU time, median of "
            f"{runs}; every cafe readable and holding the {FLEET_TOKENS} fleet IDs):",
            "",
        ]
        + rendered
        + ["", "### Method", ""]
        + method(forks)
        + ["", "### Summary", ""]
        + summary(fleets)
        + rendered_summary
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="rounds; each figure is their median (default 3)")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[50, 100, 200], help="numbers of inventory hosts (default 50 100 200)"
    )
    parser.add_argument("--forks", type=int, default=20, help="ansible-playbook forks (default 20)")
    args = parser.parse_args()
    load_before = os.getloadavg()
    report = fleet_report(args.runs, args.sizes, args.forks)
    report += ["", "### Command", "", f"    {command_line(__file__)}", "", "### Machine", ""] + machine(load_before)
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
