# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift events: how fast the collection's rulebook heals a cafe, and what one poll of a fleet costs.

Run it with the eda line's Python (ansible-rulebook, Java 17):

    $(scripts/venv.sh eda)/bin/python hacking/bench_eda.py                 # 5 restorations, 100 cafes
    $(scripts/venv.sh eda)/bin/python hacking/bench_eda.py --runs 1 --cafes 20 --polls 3    # quick look
    $(scripts/venv.sh eda)/bin/python hacking/bench_eda.py --output docs/benchmarks.md

- Restoration: the real ``ansible-rulebook -r textileio.textile.token_drift`` at ``textile_drift_interval: 1``
  watches two simulated cafes (go-textile's bcrypt cost 10) holding the fleet's tokens. One token is deleted from
  cafe-1 with a DELETE, as by hand; the figure is the time until the cafe lists it again, restored by the
  ``textileio.textile.provision`` playbook the rulebook ran, split into detection (the removal to the drift
  event's ``received_at``) and remediation (that event to the token listed again). Each run waits for the
  recovery event before the next removal.
- One poll: the source's ``Fleet.poll_all()`` in this process over N cafes spread over 4 simulators, each holding
  the fleet's tokens: wall time and this process's CPU time (its polling threads included), the first poll (new
  connections) and the median of the following ones (kept-alive connections), at the default concurrency and more.

With ``--output FILE`` the figures replace what lies between ``<!-- eda results -->`` and ``<!-- /eda results -->``
in FILE (a section above ``hacking/benchmark.py``'s marker, which keeps it).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import datetime
import json
import os
import re
import runpy
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from benchlib import (
    BCRYPT_COST,
    FLEET_TOKENS,
    ROOT,
    SIMULATORS,
    SimProcess,
    ansible_env,
    b58encode,
    collection_workdir,
    machine,
    new_tokens,
    token_id,
)

SOURCE = ROOT / "extensions" / "eda" / "plugins" / "event_source" / "token_drift.py"
RULEBOOK = Path(sys.executable).parent / "ansible-rulebook"
BOUND = 300  # seconds: what any one wait may take before the run is given up
START, END = "<!-- eda results -->", "<!-- /eda results -->"
EVENT_BANNER = re.compile(r"^\*\* \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \[event\] \*+$")


def wait_for(condition, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + BOUND
    while not condition():
        if process is not None and process.poll() is not None:
            raise SystemExit(f"ansible-rulebook ended ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise SystemExit(f"no {what} within {BOUND} s")
        time.sleep(0.05)


def events(text: str) -> list[dict]:
    """The events the rulebook printed (print_event, pretty), in order."""
    found, lines = [], text.splitlines()
    for index, line in enumerate(lines):
        if EVENT_BANNER.match(line):
            body = []
            for following in lines[index + 1 :]:
                if following and set(following) == {"*"}:
                    break
                body.append(following)
            found.append(ast.literal_eval("\n".join(body)))
    return found


def remove(url: str, id_hex: str) -> None:
    """Delete a token by its ID as a person would by hand (go-textile reads the first 12 bytes of the segment)."""
    segment = b58encode(bytes.fromhex(id_hex) + b"\0" * 32)
    answer = requests.delete(f"{url}/api/v0/tokens/{segment}", timeout=30)
    assert answer.status_code == 204, answer.status_code


def restoration(runs: int) -> dict:
    """Seconds from a token's removal to the cafe listing it again, restored by the rulebook (interval 1 s)."""
    workdir = collection_workdir(tempfile.mkdtemp(prefix="eda-bench-", dir="/tmp"))
    tokens = new_tokens(FLEET_TOKENS)
    ids = sorted(token_id(t) for t in tokens)
    sims = {name: SimProcess(bcrypt_cost=BCRYPT_COST) for name in ("cafe-1", "cafe-2")}
    process = None
    try:
        for sim in sims.values():
            sim.control.seed(tokens)
        inventory = workdir / "inventory"
        (inventory / "group_vars").mkdir(parents=True)
        hosts = {
            name: {
                "ansible_connection": "local",
                "ansible_python_interpreter": sys.executable,
                "textile_api_url": sim.url,
            }
            for name, sim in sims.items()
        }
        (inventory / "hosts.yml").write_text(json.dumps({"all": {"children": {"textile_cafes": {"hosts": hosts}}}}))
        secret = inventory / "group_vars" / "textile_cafes.yml"
        secret.touch(mode=0o600)
        secret.write_text(json.dumps({"cafe_tokens_present": tokens}))
        variables = workdir / "drift.yml"
        variables.write_text(
            json.dumps(
                {
                    "textile_drift_cafes": {name: sim.url for name, sim in sims.items()},
                    "textile_drift_expected_ids": ids,
                    "textile_drift_interval": 1,
                }
            )
        )
        env = ansible_env(workdir)
        env.update(
            {
                "PATH": f"{RULEBOOK.parent}{os.pathsep}{env.get('PATH', '')}",
                "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
                "TMPDIR": str(workdir / "tmp"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        (workdir / "tmp").mkdir()
        output = workdir / "rulebook.out"
        with open(output, "wb") as out:
            process = subprocess.Popen(
                [str(RULEBOOK), "-i", str(inventory), "-r", "textileio.textile.token_drift", "--vars", str(variables)],
                cwd=str(workdir),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        cafe = sims["cafe-1"]
        wait_for(lambda: len(cafe.control.requests()) >= 2, "two polls of cafe-1", process)  # watching, in sync
        figures = []
        for run in range(runs):
            print(f"  removal {run + 1} of {runs}", file=sys.stderr)
            cafe.control.clear_requests()
            removed_at = time.time()
            remove(cafe.url, ids[run % len(ids)])
            wait_for(lambda: cafe.control.state_ids() == ids, "the token restored", process)
            restored_at = time.time()

            def recoveries() -> list[dict]:
                return [e for e in events(output.read_text()) if e["textile_drift"]["state"] == "in_sync"]

            wait_for(lambda: len(recoveries()) > run, "the recovery event", process)
            drifts = [e for e in events(output.read_text()) if e["textile_drift"]["state"] == "drift"]
            received = datetime.datetime.fromisoformat(drifts[-1]["meta"]["received_at"].replace("Z", "+00:00"))
            detected_at = received.timestamp()
            writes = [r["method"] for r in cafe.control.requests() if r["method"] != "GET"][1:]  # after the removal
            figures.append(
                {
                    "total": restored_at - removed_at,
                    "detect": detected_at - removed_at,
                    "remedy": restored_at - detected_at,
                    "writes": writes,
                }
            )
        other_writes = [r["method"] for r in sims["cafe-2"].control.requests() if r["method"] != "GET"]
        return {"runs": figures, "other_cafe_writes": other_writes}
    finally:
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
        for sim in sims.values():
            sim.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def poll_cost(cafes: int, polls: int, concurrencies: list[int]) -> list[dict]:
    """One poll of ``cafes`` cafes by the source in this process: first and following polls, wall and CPU."""
    drift = runpy.run_path(str(SOURCE))
    tokens = new_tokens(FLEET_TOKENS)
    sims = [SimProcess(bcrypt_cost=BCRYPT_COST) for number in range(SIMULATORS)]
    rows = []
    try:
        for sim in sims:
            sim.control.seed(tokens)
        names = {f"cafe-{number:04d}": sims[number % SIMULATORS].url for number in range(cafes)}
        for concurrency in concurrencies:
            args = {"cafes": names, "expected_ids": [token_id(t) for t in tokens], "concurrency": concurrency}
            settings, utils = drift["configure"](args, {})
            fleet = drift["Fleet"](settings, utils)
            try:
                for sim in sims:
                    sim.control.clear_requests()
                walls, cpus, found = [], [], []
                while len(walls) < polls:
                    wall, cpu = time.perf_counter(), time.process_time()
                    found.append(asyncio.run(fleet.poll_all()))
                    walls.append(time.perf_counter() - wall)
                    cpus.append(time.process_time() - cpu)
                requests_made = sum(len(sim.control.requests()) for sim in sims)
            finally:
                fleet.close()
            assert requests_made == cafes * polls, requests_made  # one list request per cafe and poll
            assert all(events == [] for events in found), "a cafe of the benchmark drifted"
            rows.append(
                {
                    "concurrency": concurrency,
                    "first_wall": walls[0],
                    "first_cpu": cpus[0],
                    "wall": statistics.median(walls[1:] or walls),
                    "cpu": statistics.median(cpus[1:] or cpus),
                    "requests": requests_made // polls,
                }
            )
    finally:
        for sim in sims:
            sim.stop()
    return rows


def report(restored: dict, polls: list[dict], cafes: int, poll_count: int, load_before: tuple) -> list[str]:
    runs = restored["runs"]

    def seconds(key: str) -> str:
        values = [run[key] for run in runs]
        return f"{statistics.median(values):.1f} s ({min(values):.1f} to {max(values):.1f})"

    lines = [
        START,
        "",
        f"Restoration at `textile_drift_interval: 1`, {len(runs)} removals (median, lowest to highest):",
        "",
        "| from the removal to | time |",
        "| --- | ---: |",
        f"| the drift event (detection) | {seconds('detect')} |",
        f"| the token listed again (restored by textileio.textile.provision) | {seconds('total')} |",
        "",
        f"The playbook took {seconds('remedy')} of it (from the drift event to the token listed again). Writes to the "
        f"drifted cafe per restoration: {sorted({' + '.join(run['writes']) for run in runs})}; writes to the other "
        f"cafe, in sync throughout: {len(restored['other_cafe_writes'])}.",
        "",
        f"One poll over {cafes} cafes ({SIMULATORS} simulators, {FLEET_TOKENS} tokens each; the source's "
        f"`Fleet.poll_all()` in one process, median of {max(poll_count - 1, 1)} polls after the first):",
        "",
        "| concurrency | requests | first poll (s) | poll (s) | per cafe (ms) | CPU per poll (ms) | CPU per cafe (ms) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in polls:
        lines.append(
            f"| {row['concurrency']} | {row['requests']} | {row['first_wall']:.2f} | {row['wall']:.2f} | "
            f"{1000 * row['wall'] / cafes:.1f} | {1000 * row['cpu']:.0f} | {1000 * row['cpu'] / cafes:.2f} |"
        )
    lines += ["", "Machine:", ""] + machine(load_before) + ["", END]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="token removals to restore (default 5)")
    parser.add_argument("--cafes", type=int, default=100, help="cafes of the poll benchmark (default 100)")
    parser.add_argument("--polls", type=int, default=6, help="polls of the fleet per concurrency (default 6)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32], help="default: 8 (the default) 32")
    parser.add_argument("--output", type=Path, help="replace the drift events figures in this Markdown file")
    args = parser.parse_args()
    if not RULEBOOK.exists():
        raise SystemExit(
            f"{RULEBOOK} is missing: run this with the eda line's Python ($(scripts/venv.sh eda)/bin/python)"
        )
    load_before = os.getloadavg()
    print("restoring removed tokens with the rulebook ...", file=sys.stderr)
    restored = restoration(args.runs)
    print(f"polling {args.cafes} cafes ...", file=sys.stderr)
    polls = poll_cost(args.cafes, args.polls, args.concurrency)
    lines = report(restored, polls, args.cafes, args.polls, load_before)
    print("\n".join(lines))
    if args.output:
        text = args.output.read_text(encoding="utf-8")
        if START not in text or END not in text:
            raise SystemExit(f"{args.output} has no {START} ... {END} section to replace")
        before, rest = text.split(START, 1)
        args.output.write_text(before + "\n".join(lines) + rest.split(END, 1)[1], encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
