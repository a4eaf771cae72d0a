# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark textileio.textile against ansible.builtin.ping, plain ansible.builtin.uri tasks and a plain client.

Runs real ``ansible-playbook`` processes (the one next to ``sys.executable``) against simulators this
script starts itself, with go-textile's bcrypt cost 10. Every variant runs once per round, rounds repeat
``--runs`` times, and each figure is the median over the rounds, so ratios compare runs made side by side.
Per-task wall times come from ansible-core's own ``junit`` callback; requests are counted at the simulator.

    python hacking/benchmark.py                      # full run (5 rounds), prints every figure
    python hacking/benchmark.py --runs 1 --sizes 1 100 --skip-uri   # quick look
    python hacking/benchmark.py --breakdown-only     # where the time of one task goes
    python hacking/benchmark.py --output docs/benchmarks.md [--fleet]
    python hacking/benchmark.py --scaling 5000 20000 --runs 3   # module CPU of a no-op as N grows (one core line)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from bench_fleet import fleet_report
from benchlib import (
    ANSIBLE_PLAYBOOK,
    TOKEN_RUN,
    SimProcess,
    ansible_env,
    collection_workdir,
    command_line,
    machine,
    new_tokens,
    task_times,
)

MODULE = "textileio.textile.textile_cafe_token"
PING = "ansible.builtin.ping"


def seed(sim: SimProcess, tokens: list[str]) -> None:
    for start in range(0, len(tokens), 10):  # small batches: each seed call must answer within its timeout
        sim.control.seed(tokens[start : start + 10])


def play(api_url: str, warmup_url: str, measured: list[dict]) -> list[dict]:
    """One play: ping and the module each run once unmeasured (so both take their AnsiballZ payload from the
    cache, as every host after the first does), then the ping baseline and the measured task(s)."""
    return [
        {
            "name": "bench",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": ["tokens.json"],
            "vars": {"api_url": api_url},
            "tasks": [
                {"name": "warmup ping", PING: {}},
                {"name": "warmup module", MODULE: {"api_url": warmup_url, "tokens": []}},
                {"name": "ping", PING: {}},
            ]
            + measured,
        }
    ]


def module_task(**options) -> list[dict]:
    return [
        {"name": "measured module", MODULE: dict({"api_url": "{{ api_url }}", "tokens": "{{ tokens }}"}, **options)}
    ]


def uri_tasks() -> list[dict]:
    """What a user without this collection writes: list, validate each token, import the missing ones."""
    empty = {"X-Textile-Args": "", "X-Textile-Opts": ""}
    return [
        {"name": "measured list", "ansible.builtin.uri": {"url": "{{ api_url }}/api/v0/tokens", "headers": empty}},
        {
            "name": "measured validate",
            "no_log": True,
            "register": "checks",
            "loop": "{{ tokens }}",
            "ansible.builtin.uri": {
                "url": "{{ api_url }}/api/v0/tokens/{{ item }}",
                "headers": empty,
                "status_code": [200, 401],
            },
        },
        {
            "name": "measured import",
            "no_log": True,
            "loop": "{{ checks.results }}",
            "when": "item.status == 401",
            "ansible.builtin.uri": {
                "url": "{{ api_url }}/api/v0/tokens",
                "method": "POST",
                "status_code": 201,
                "headers": {"X-Textile-Args": "", "X-Textile-Opts": "token={{ item.item }},store=true"},
            },
        },
    ]


class Variant:
    """A playbook, the simulator it talks to, and how to prepare that simulator before each run.

    ``reference``: a callable timed right after each run of the playbook against the same (reset) simulator.
    """

    def __init__(self, name, sim, tokens, measured, reset_each_run=False, reference=None):
        self.name, self.sim, self.tokens, self.reset_each_run = name, sim, tokens, reset_each_run
        self.measured, self.reference = measured, reference
        self.samples: list[dict] = []

    def write(self, workdir: Path, warmup_url: str) -> Path:
        vdir = workdir / self.name.replace(" ", "_").replace("=", "")
        vdir.mkdir()
        (vdir / "tokens.json").write_text(json.dumps({"tokens": self.tokens}))
        (vdir / "play.yml").write_text(json.dumps(play(self.sim.url, warmup_url, self.measured), indent=1))
        return vdir


def playbook(vdir: Path, env: dict, name: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", "play.yml"],
        cwd=vdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-15:])
        raise RuntimeError(f"{name}: ansible-playbook exited {proc.returncode}\n{tail}")
    return proc


def run_once(variant: Variant, vdir: Path, workdir: Path, run_no: int) -> dict:
    control = variant.sim.control
    if variant.reset_each_run:
        control.reset()
    control.clear_requests()
    junit_dir = vdir / f"junit{run_no}"
    playbook(vdir, ansible_env(workdir, junit_dir), variant.name)
    times = task_times(junit_dir)
    requests_seen = control.requests()
    measured = sum(t for name, t in times.items() if name.startswith("measured"))
    sample = {
        "requests": len(requests_seen),
        "writes": sum(r["method"] in ("POST", "PUT", "DELETE") for r in requests_seen),
        "stored": len(control.state_ids()),
        "ping": times["ping"],
        "task": measured,
        "ratio": measured / times["ping"],
    }
    if variant.reference:
        control.reset()
        sample["reference"] = variant.reference(variant)
    return sample


def sequential_client(variant: Variant) -> float:
    """Seconds one client takes to import the variant's tokens one after another over one kept-alive connection
    (plain requests, no Ansible): what the cafe's hashing costs when nothing overlaps."""
    url = variant.sim.url + "/api/v0/tokens"
    with requests.Session() as session:
        started = time.perf_counter()
        for token in variant.tokens:
            answer = session.post(url, headers={"X-Textile-Args": "", "X-Textile-Opts": f"token={token},store=true"})
            assert answer.status_code == 201, answer.status_code
        return time.perf_counter() - started


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
        rows.append(
            f"| {v.name} | {median(v, 'requests'):g} | {median(v, 'writes'):g} | {median(v, 'stored'):g} "
            f"| {median(v, 'task'):.3f} | {median(v, 'ping'):.3f} | {median(v, 'ratio'):.2f}x "
            f"| {min(ratios):.2f}x to {max(ratios):.2f}x |"
        )
    return rows


def build_summary(variants: dict[str, Variant]) -> list[str]:
    lines = []
    ours, uri = variants.get("no-op N=100"), variants.get("no-op N=100 with uri")
    if ours and uri:
        speedup = statistics.median(u["task"] / o["task"] for o, u in zip(ours.samples, uri.samples))
        lines.append(
            f"- no-op converge of 100 tokens: {MODULE} is {speedup:.1f}x faster than the "
            f"ansible.builtin.uri tasks ({median(ours, 'requests'):g} request against "
            f"{median(uri, 'requests'):g}); target at least 30x."
        )
    noops = [v for name, v in variants.items() if name.startswith("no-op N=") and "uri" not in name]
    if noops:
        counts = ", ".join(f"{v.name.split()[-1]}: {median(v, 'requests'):g}" for v in noops)
        lines.append(f"- requests for a no-op converge ({counts}); target exactly 1 for every N.")
        targets = {"no-op N=1": 1.3, "no-op N=1000": 1.5}  # the targets of the performance issue
        for v in [v for v in noops if v.name in targets]:
            target = targets[v.name]
            extra = statistics.median(s["task"] - s["ping"] for s in v.samples)
            lines.append(
                f"- no-op task time at {v.name.split()[-1]}: {median(v, 'ratio'):.2f}x an {PING} task in "
                f"the same play ({extra * 1000:+.0f} ms); target at most {target}x."
            )
    for name in ("first converge N=100", "first converge N=100, concurrency 1"):
        first = variants.get(name)
        if first:
            ratio = statistics.median(s["task"] / s["reference"] for s in first.samples)
            lines.append(
                f"- {name}: {median(first, 'requests'):g} requests ({median(first, 'writes'):g} imports), "
                f"{median(first, 'task'):.2f} s task time, {ratio:.2f} of the "
                f"{median(first, 'reference'):.2f} s one client takes importing them one after another "
                "over a kept-alive connection" + ("; target at most 0.65." if "concurrency" not in name else ".")
            )
    return lines


# ---------------------------------------------------------------------------------------------------- breakdown
# Where the time of one task goes, from ansible-core's own debug log (ANSIBLE_DEBUG=1 stamps every step of the
# controller and of the worker with the time), and inside the module process from ``python -X importtime`` runs
# of the kept AnsiballZ payloads.

# (phase, the debug line that ends it); a phase starts where the previous one ended.
PHASES = [
    ("queue the task, fork the worker", "in run() - task"),
    ("load the action and connection plugins, template the arguments", "starting attempt loop"),
    ("create the remote temp dir (a shell command)", "_low_level_execute_command() done"),
    ("build the AnsiballZ payload, or take it from the cache", "transferring module to remote"),
    ("write the payload", "done transferring module to remote"),
    ("chmod the payload (a shell command)", "_low_level_execute_command() done"),
    ("run the module process", "_low_level_execute_command() done"),
    ("parse the module's result", "done with _execute_module"),
    ("remove the remote temp dir (a shell command)", "_low_level_execute_command() done"),
    ("hand the result back, callbacks", "no more pending results"),
]
_DEBUG_LINE = re.compile(r"^ *\d+ (\d+\.\d+): (.*)$")
BREAKDOWN_TASKS = [  # (column, task name, action, tokens var, api_url var)
    ("ping", "ping", PING, None, None),
    ("token module, N=1, first use", "first", MODULE, "one", "url_one"),
    ("token module, N=1", "warm one", MODULE, "one", "url_one"),
    ("token module, N=1000", "warm thousand", MODULE, "thousand", "url_thousand"),
]


def phase_times(log: str, action: str, occurrence: int) -> dict[str, float]:
    """Seconds per phase of the ``occurrence``-th task of ``action`` (0-based) in an ANSIBLE_DEBUG log."""
    lines = [(float(m.group(1)), m.group(2)) for m in map(_DEBUG_LINE.match, log.splitlines()) if m]
    starts = [i for i, (dummy, text) in enumerate(lines) if text == f"entering _queue_task() for localhost/{action}"]
    index = starts[occurrence]
    previous, times = lines[index][0], {}
    for phase, marker in PHASES:
        index = next(i for i in range(index + 1, len(lines)) if lines[i][1].startswith(marker))
        times[phase] = lines[index][0] - previous
        previous = lines[index][0]
    return times


def module_process(payload: Path, runs: int) -> dict[str, float]:
    """Median seconds of the kept payload's whole process and of its main imports (``-X importtime``)."""
    samples = []
    for dummy in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", str(payload)], capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
        self_time: dict[str, float] = {}
        cumulative: dict[str, float] = {}
        for line in proc.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[1].strip().isdigit():
                name = parts[2].strip()
                self_time.setdefault(name, int(parts[0].split(":")[1]) / 1e6)
                cumulative.setdefault(name, int(parts[1]) / 1e6)
        samples.append(
            {
                "import ansible.module_utils.basic (with what it imports)": cumulative.get(
                    "ansible.module_utils.basic", 0
                ),
                "import requests (with what it imports)": cumulative.get("requests", 0.0),
                "import the collection's own files (their own time only)": sum(
                    seconds for name, seconds in self_time.items() if name.startswith("ansible_collections.textileio")
                ),
                "whole module process (python -X importtime AnsiballZ_*.py)": wall,
            }
        )
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def breakdown(workdir: Path, sims: list, bcrypt_cost: int, runs: int) -> list[str]:
    """One play with ANSIBLE_DEBUG=1 per round: ping, the token module's first use, then warm N=1 and N=1000."""
    one, thousand = SimProcess(bcrypt_cost=bcrypt_cost), SimProcess(bcrypt_cost=bcrypt_cost)
    sims += [one, thousand]
    tokens = {"one": new_tokens(1), "thousand": new_tokens(1000)}
    seed(one, tokens["one"])
    seed(thousand, tokens["thousand"])
    bdir = workdir / "breakdown"
    bdir.mkdir()
    (bdir / "tokens.json").write_text(json.dumps(dict(tokens, url_one=one.url, url_thousand=thousand.url)))
    tasks = [{"name": "warmup ping", PING: {}}]
    for column, name, action, tokens_var, url_var in BREAKDOWN_TASKS:
        args = {} if action == PING else {"api_url": "{{ %s }}" % url_var, "tokens": "{{ %s }}" % tokens_var}
        tasks.append({"name": name, action: args})
    (bdir / "play.yml").write_text(
        json.dumps(
            [
                {
                    "name": "breakdown",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars_files": ["tokens.json"],
                    "tasks": tasks,
                }
            ],
            indent=1,
        )
    )
    env = dict(ansible_env(workdir), ANSIBLE_DEBUG="1")
    columns: dict[str, list[dict]] = {column: [] for column, *dummy in BREAKDOWN_TASKS}
    for dummy in range(runs):
        log = playbook(bdir, env, "breakdown").stdout
        seen: dict[str, int] = {}
        for column, name, action, *dummy_rest in BREAKDOWN_TASKS:
            occurrence = seen.get(action, 1 if action == PING else 0)  # the first ping is the warm-up
            seen[action] = occurrence + 1
            columns[column].append(phase_times(log, action, occurrence))
    # One more run that keeps the payloads (and so skips the temp dir removal the phases above end with).
    playbook(
        bdir,
        dict(ansible_env(workdir), ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(bdir / "remote")),
        "breakdown payloads",
    )
    payloads = {
        name: max((bdir / "remote").glob(f"*/AnsiballZ_{name}.py"), key=os.path.getmtime)
        for name in ("ping", "textile_cafe_token")
    }
    inside = {
        "ping": module_process(payloads["ping"], runs),
        "token": module_process(payloads["textile_cafe_token"], runs),
    }

    names = [column for column, *dummy in BREAKDOWN_TASKS]
    rows = ["| phase (ms, median of %d runs) | %s |" % (runs, " | ".join(names)), "| --- |" + " ---: |" * len(names)]
    totals = {column: 0.0 for column in names}
    for phase, dummy in PHASES:
        cells = []
        for column in names:
            value = statistics.median(sample[phase] for sample in columns[column])
            totals[column] += value
            cells.append(f"{value * 1000:.0f}")
        rows.append(f"| {phase} | {' | '.join(cells)} |")
    rows.append("| **whole task** | %s |" % " | ".join(f"**{totals[c] * 1000:.0f}**" for c in names))
    sizes = {name: path.stat().st_size for name, path in payloads.items()}
    process = [
        "| inside the module process (ms, median of %d runs) | ping | token module, N=1 |" % runs,
        "| --- | ---: | ---: |",
    ]
    for key in inside["token"]:
        process.append(f"| {key} | {inside['ping'][key] * 1000:.0f} | {inside['token'][key] * 1000:.0f} |")
    return (
        [
            "## Where the time of one task goes",
            "",
            "One play per run with `ANSIBLE_DEBUG=1` (which stamps every step of the controller and of the worker "
            "with the time; its own logging makes every phase a little slower): a warm-up ping, then the columns "
            "in this order. The token module's first use pays for building its AnsiballZ payload, which every "
            "later task (and every other host of the play) takes from the cache; ping's was built by the warm-up.",
            "",
        ]
        + rows
        + ["", f"Payload sizes: ping {sizes['ping']:,} bytes, token module {sizes['textile_cafe_token']:,} bytes.", ""]
        + process
    )


# ------------------------------------------------------------------------------------------------------ scaling
# The CPU time of a no-op as the number of declared tokens grows, with the invocation returned (always before
# ansible-core 2.20; from 2.20 only with ANSIBLE_INJECT_INVOCATION=True, which this sets on every line): what
# must stay linear in N (design.md, "Trust at the edges").


def cpu_of(command: list[str], env: dict | None = None, cwd: Path | None = None) -> tuple[float, str]:
    """CPU seconds (user + system) of ``command`` and every process it waited for, and its stdout."""
    with subprocess.Popen(  # pylint: disable=consider-using-with
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        out = proc.stdout.read()
        dummy, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{command[-1]} exited {proc.returncode}: {out[-2000:]}")
    return usage.ru_utime + usage.ru_stime, out


def scaling(workdir: Path, sims: list, sizes: list[int], runs: int) -> list[str]:
    """Per size: one ansible-playbook run of a no-op (its whole CPU: controller, worker and module) that keeps
    the AnsiballZ payload, then that payload run alone ``runs`` times (the module process's CPU)."""
    from ansible.release import __version__ as core_version  # pylint: disable=import-outside-toplevel

    rows = {}
    for size in sizes:
        sim = SimProcess(bcrypt_cost=4)  # a no-op checks no secret: the cost only speeds up seeding
        sims.append(sim)
        tokens = new_tokens(size)
        print(f"scaling: seeding {size} tokens ...", file=sys.stderr)
        for start in range(0, size, 500):
            sim.control.seed(tokens[start : start + 500])
        sdir = workdir / f"scaling{size}"
        sdir.mkdir()
        (sdir / "tokens.json").write_text(json.dumps({"tokens": tokens}))
        (sdir / "play.yml").write_text(json.dumps(play_once(sim.url), indent=1))
        env = dict(
            ansible_env(workdir),
            ANSIBLE_INJECT_INVOCATION="True",
            ANSIBLE_KEEP_REMOTE_FILES="1",
            ANSIBLE_REMOTE_TMP=str(sdir / "remote"),
        )
        playbook_cpu = []
        for dummy in range(runs):  # -vvv: the controller shows the result, invocation included (2.22 masks there)
            seconds, out = cpu_of([ANSIBLE_PLAYBOOK, "-vvv", "-i", "localhost,", "-c", "local", "play.yml"], env, sdir)
            playbook_cpu.append(seconds)
            if set(tokens) & set(TOKEN_RUN.findall(out)) or '"invocation"' not in out:
                raise RuntimeError(f"scaling N={size}: a token is shown, or the invocation is not")
        (payload,) = {path.name: path for path in (sdir / "remote").glob("*/AnsiballZ_textile_cafe_token.py")}.values()
        module_cpu = []
        for dummy in range(runs):
            seconds, out = cpu_of([sys.executable, str(payload)], env)
            module_cpu.append(seconds)
            result = json.loads(out)
            # From 2.22 the module returns its secrets unmasked, registered for the controller to mask.
            shown = set(tokens) & set(TOKEN_RUN.findall(out)) - set(result.get("_ansible_new_secrets", ()))
            if result.get("changed") is not False or shown or "invocation" not in result:
                raise RuntimeError(f"scaling N={size}: not a no-op with the invocation, or a token is shown")
        rows[size] = (statistics.median(module_cpu), statistics.median(playbook_cpu))
    smallest = min(sizes)
    lines = [
        f"ansible-core {core_version}, Python {platform.python_version()}; CPU seconds, median of {runs} runs.",
        "",
        "| declared tokens | module process CPU (s) | x the smallest N | whole ansible-playbook CPU (s) "
        "| x the smallest N |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, (module, whole) in rows.items():
        lines.append(
            f"| {size} | {module:.2f} | {module / rows[smallest][0]:.2f} | {whole:.2f} | {whole / rows[smallest][1]:.2f} |"
        )
    return lines


def play_once(api_url: str) -> list[dict]:
    return [
        {
            "name": "scaling",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": ["tokens.json"],
            "tasks": [{"name": "no-op", MODULE: {"api_url": api_url, "tokens": "{{ tokens }}"}}],
        }
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="rounds; each figure is their median (default 5)")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1, 100, 1000],
        help="numbers of declared tokens for the no-op converge (default 1 100 1000)",
    )
    parser.add_argument("--bcrypt-cost", type=int, default=10, help="simulator bcrypt cost (go-textile: 10)")
    parser.add_argument("--skip-uri", action="store_true", help="leave out the slow ansible.builtin.uri variant")
    parser.add_argument("--breakdown-only", action="store_true", help="only the breakdown of one task")
    parser.add_argument("--fleet", action="store_true", help="also the fleet-scale figures (hacking/bench_fleet.py)")
    parser.add_argument("--fleet-sizes", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument(
        "--scaling",
        type=int,
        nargs="+",
        metavar="N",
        help="only the CPU time of a no-op over N declared tokens, the invocation returned (e.g. 5000 20000)",
    )
    parser.add_argument("--output", type=Path, help="also write the report as Markdown to this file")
    args = parser.parse_args()
    if args.scaling and args.output:
        parser.error("--scaling prints its table; docs/benchmarks.md quotes it by hand, per core line")

    load_before = os.getloadavg()
    sims: list[SimProcess] = []
    variants: dict[str, Variant] = {}
    report: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="textile-bench-") as tmp:
            workdir = collection_workdir(tmp)
            (workdir / "tmp").mkdir()

            def simulator():
                sims.append(SimProcess(bcrypt_cost=args.bcrypt_cost))
                return sims[-1]

            if args.scaling:
                report += ["## CPU time as N grows", ""] + scaling(workdir, sims, sorted(args.scaling), args.runs)
                report += [""]
            elif not args.breakdown_only:
                warmup = simulator()
                for size in sorted(set(args.sizes)):
                    sim, tokens = simulator(), new_tokens(size)
                    print(f"seeding {size} tokens (bcrypt cost {args.bcrypt_cost}) ...", file=sys.stderr)
                    seed(sim, tokens)
                    variants[f"no-op N={size}"] = Variant(f"no-op N={size}", sim, tokens, module_task())
                    if size == 100 and not args.skip_uri:
                        variants["no-op N=100 with uri"] = Variant("no-op N=100 with uri", sim, tokens, uri_tasks())
                first = new_tokens(100)
                variants["first converge N=100"] = Variant(
                    "first converge N=100",
                    simulator(),
                    first,
                    module_task(),
                    reset_each_run=True,
                    reference=sequential_client,
                )
                variants["first converge N=100, concurrency 1"] = Variant(
                    "first converge N=100, concurrency 1",
                    simulator(),
                    first,
                    module_task(concurrency=1),
                    reset_each_run=True,
                    reference=sequential_client,
                )

                vdirs = {name: v.write(workdir, warmup.url) for name, v in variants.items()}
                for run_no in range(args.runs):
                    for name, variant in variants.items():
                        print(f"round {run_no + 1}/{args.runs}: {name}", file=sys.stderr)
                        variant.samples.append(run_once(variant, vdirs[name], workdir, run_no))
                report += ["## Results", "", f"Median of {args.runs} rounds; every variant runs once per round.", ""]
                report += build_table(variants) + ["", "## Summary", ""] + build_summary(variants) + [""]

            if not args.scaling:
                print("breakdown ...", file=sys.stderr)
                report += breakdown(workdir, sims, args.bcrypt_cost, args.runs) + [""]
            if args.fleet:
                report += fleet_report(args.runs, args.fleet_sizes, 20) + [""]
    finally:
        for sim in sims:
            sim.stop()

    report += ["## Command", "", f"    {command_line(__file__)}", "", "## Machine", ""] + machine(load_before)
    print("\n".join(report))
    if args.output:
        header = args.output.read_text().split("<!-- results -->")[0] if args.output.exists() else ""
        args.output.write_text(header + "<!-- results -->\n\n" + "\n".join(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
