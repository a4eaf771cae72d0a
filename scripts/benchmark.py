# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark textileio.textile against ansible.builtin.ping and against plain ansible.builtin.uri tasks.

Runs real ``ansible-playbook`` processes (the one next to ``sys.executable``) against simulators this
script starts itself, with go-textile's bcrypt cost 10. Every variant runs once per round, rounds repeat
``--runs`` times, and each figure is the median over the rounds, so ratios compare runs made side by side.
Per-task wall times come from ansible-core's own ``junit`` callback; requests are counted at the simulator.

    python scripts/benchmark.py                      # full run (5 rounds), prints the table
    python scripts/benchmark.py --runs 1 --sizes 1 100   # quick look
    python scripts/benchmark.py --output docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "simulator"))
sys.path.insert(0, str(ROOT / "plugins" / "module_utils"))

from textile_sim import SimProcess  # noqa: E402
from _token_format import b58encode  # noqa: E402

ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
MODULE = "textileio.textile.textile_cafe_token"


def new_tokens(count: int) -> list[str]:
    return [b58encode(os.urandom(44)) for number in range(count)]


def play(api_url: str, measured: list[dict]) -> list[dict]:
    """One play: a warm-up ping, the ping baseline, then the measured task(s)."""
    return [{
        "name": "bench",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": ["tokens.json"],
        "vars": {"api_url": api_url},
        "tasks": [
            {"name": "warmup", "ansible.builtin.ping": {}},
            {"name": "ping", "ansible.builtin.ping": {}},
        ] + measured,
    }]


def module_task() -> list[dict]:
    return [{"name": "measured module", MODULE: {"api_url": "{{ api_url }}", "tokens": "{{ tokens }}"}}]


def uri_tasks() -> list[dict]:
    """What a user without this collection writes: list, validate each token, import the missing ones."""
    empty = {"X-Textile-Args": "", "X-Textile-Opts": ""}
    return [
        {"name": "measured list", "ansible.builtin.uri": {
            "url": "{{ api_url }}/api/v0/tokens", "headers": empty}},
        {"name": "measured validate", "no_log": True, "register": "checks", "loop": "{{ tokens }}",
         "ansible.builtin.uri": {"url": "{{ api_url }}/api/v0/tokens/{{ item }}", "headers": empty,
                                 "status_code": [200, 401]}},
        {"name": "measured import", "no_log": True, "loop": "{{ checks.results }}",
         "when": "item.status == 401",
         "ansible.builtin.uri": {"url": "{{ api_url }}/api/v0/tokens", "method": "POST", "status_code": 201,
                                 "headers": {"X-Textile-Args": "",
                                             "X-Textile-Opts": "token={{ item.item }},store=true"}}},
    ]


class Variant:
    """A playbook, the simulator it talks to, and how to prepare that simulator before each run."""

    def __init__(self, name, sim, tokens, measured, reset_each_run=False):
        self.name, self.sim, self.tokens, self.reset_each_run = name, sim, tokens, reset_each_run
        self.measured = measured
        self.samples: list[dict] = []

    def write(self, workdir: Path) -> Path:
        vdir = workdir / self.name.replace(" ", "_")
        vdir.mkdir()
        (vdir / "tokens.json").write_text(json.dumps({"tokens": self.tokens}))
        (vdir / "play.yml").write_text(json.dumps(play(self.sim.url, self.measured), indent=1))
        return vdir


def ansible_env(workdir: Path, junit_dir: Path) -> dict:
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(workdir / "collections"),
        "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.junit",
        "JUNIT_OUTPUT_DIR": str(junit_dir),
        "JUNIT_HIDE_TASK_ARGUMENTS": "true",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_NOCOLOR": "1",
    })
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


def run_once(variant: Variant, vdir: Path, workdir: Path, run_no: int) -> dict:
    control = variant.sim.control
    if variant.reset_each_run:
        control.reset()
    control.clear_requests()
    junit_dir = vdir / f"junit{run_no}"
    proc = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", "play.yml"],
                          cwd=vdir, env=ansible_env(workdir, junit_dir), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-15:])
        raise RuntimeError(f"{variant.name}: ansible-playbook exited {proc.returncode}\n{tail}")
    times = task_times(junit_dir)
    requests = control.requests()
    measured = sum(t for name, t in times.items() if name.startswith("measured"))
    return {
        "requests": len(requests),
        "writes": sum(r["method"] in ("POST", "PUT", "DELETE") for r in requests),
        "stored": len(control.state_ids()),
        "ping": times["ping"],
        "task": measured,
        "ratio": measured / times["ping"],
    }


def median(variant: Variant, key: str) -> float:
    return statistics.median(s[key] for s in variant.samples)


def build_table(variants: dict[str, Variant]) -> list[str]:
    rows = [
        "| scenario | requests | writes | stored after | task time (s) | ping time (s) | task / ping | "
        "task / ping, lowest to highest run |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for v in variants.values():
        ratios = [s["ratio"] for s in v.samples]
        rows.append(f"| {v.name} | {median(v, 'requests'):g} | {median(v, 'writes'):g} | {median(v, 'stored'):g} "
                    f"| {median(v, 'task'):.3f} | {median(v, 'ping'):.3f} | {median(v, 'ratio'):.2f}x "
                    f"| {min(ratios):.2f}x to {max(ratios):.2f}x |")
    return rows


def build_summary(variants: dict[str, Variant]) -> list[str]:
    lines = []
    ours, uri = variants.get("no-op N=100"), variants.get("no-op N=100 with uri")
    if ours and uri:
        speedup = statistics.median(u["task"] / o["task"] for o, u in zip(ours.samples, uri.samples))
        lines.append(f"- no-op converge of 100 tokens: {MODULE} is {speedup:.1f}x faster than the "
                     f"ansible.builtin.uri tasks ({median(ours, 'requests'):g} request against "
                     f"{median(uri, 'requests'):g}); target at least 30x.")
    noops = [v for name, v in variants.items() if name.startswith("no-op N=") and "uri" not in name]
    if noops:
        counts = ", ".join(f"{v.name.split()[-1]}: {median(v, 'requests'):g}" for v in noops)
        lines.append(f"- requests for a no-op converge ({counts}); target exactly 1 for every N.")
        big = noops[-1]
        lines.append(f"- no-op task time at {big.name.split()[-1]}: {median(big, 'ratio'):.2f}x an "
                     f"ansible.builtin.ping task in the same play; target at most 1.5x at N=1000.")
    one = variants.get("no-op N=1")
    if one:
        startup = statistics.median(s["task"] - s["ping"] for s in one.samples)
        lines.append(f"- module start-up cost with one token: {median(one, 'ratio'):.2f}x ping, "
                     f"{startup * 1000:+.0f} ms over ping.")
    first = variants.get("first converge N=100")
    if first:
        lines.append(f"- first converge of 100 new tokens: {median(first, 'requests'):g} requests "
                     f"({median(first, 'writes'):g} imports), {median(first, 'task'):.2f} s task time.")
    return lines


def machine(load_before: tuple) -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    from ansible.release import __version__ as core_version
    return [f"- CPUs (nproc): {os.cpu_count()}; CPU model: {cpu}",
            f"- memory: {mem_kb / 1024 / 1024:.1f} GiB",
            f"- Python {platform.python_version()}, ansible-core {core_version}, {platform.system()} "
            f"{platform.release()}",
            "- load average (1 min) at start and end of the run: %.1f, %.1f (above nproc means other work shared "
            "the CPUs)" % (load_before[0], os.getloadavg()[0])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="rounds; each figure is their median (default 5)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 1000],
                        help="numbers of declared tokens for the no-op converge (default 1 100 1000)")
    parser.add_argument("--bcrypt-cost", type=int, default=10, help="simulator bcrypt cost (go-textile: 10)")
    parser.add_argument("--skip-uri", action="store_true", help="leave out the slow ansible.builtin.uri variant")
    parser.add_argument("--output", type=Path, help="also write the report as Markdown to this file")
    args = parser.parse_args()

    load_before = os.getloadavg()
    sims: list[SimProcess] = []
    variants: dict[str, Variant] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="textile-bench-") as tmp:
            workdir = Path(tmp)
            (workdir / "collections" / "ansible_collections" / "textileio").mkdir(parents=True)
            (workdir / "collections" / "ansible_collections" / "textileio" / "textile").symlink_to(ROOT)

            def simulator():
                sims.append(SimProcess(bcrypt_cost=args.bcrypt_cost))
                return sims[-1]

            for size in sorted(set(args.sizes)):
                sim, tokens = simulator(), new_tokens(size)
                print(f"seeding {size} tokens (bcrypt cost {args.bcrypt_cost}) ...", file=sys.stderr)
                for start in range(0, size, 10):  # small batches: each seed call must answer within its timeout
                    sim.control.seed(tokens[start:start + 10])
                variants[f"no-op N={size}"] = Variant(f"no-op N={size}", sim, tokens, module_task())
                if size == 100 and not args.skip_uri:
                    variants["no-op N=100 with uri"] = Variant("no-op N=100 with uri", sim, tokens, uri_tasks())
            variants["first converge N=100"] = Variant("first converge N=100", simulator(), new_tokens(100),
                                                       module_task(), reset_each_run=True)

            vdirs = {name: v.write(workdir) for name, v in variants.items()}
            for run_no in range(args.runs):
                for name, variant in variants.items():
                    print(f"round {run_no + 1}/{args.runs}: {name}", file=sys.stderr)
                    variant.samples.append(run_once(variant, vdirs[name], workdir, run_no))
    finally:
        for sim in sims:
            sim.stop()

    command = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(__file__, ROOT)] + sys.argv[1:])
    report = ["## Results", "", f"Median of {args.runs} rounds; every variant runs once per round.", ""]
    report += build_table(variants) + ["", "## Summary", ""] + build_summary(variants)
    report += ["", "## Command", "", f"    {command}", "", "## Machine", ""] + machine(load_before)
    print("\n".join(report))
    if args.output:
        header = args.output.read_text().split("<!-- results -->")[0] if args.output.exists() else ""
        args.output.write_text(header + "<!-- results -->\n\n" + "\n".join(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
