# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/demo.sh (the README's story: provision, re-run, a client leaves, a cafe goes down, report), run
from a fresh clone of the repository."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess

import base58

from ansible_collections.textileio.textile.tests.scenarios.harness import REPO_ROOT

# Any base58 run long enough to be a token (59 to 61 characters for 44 bytes).
TOKEN_SHAPED = re.compile(r"[1-9A-HJ-NP-Za-km-z]{55,64}")


def is_token(text):
    try:
        return len(base58.b58decode(text)) == 44
    except ValueError:
        return False


def port_open(url):
    host, port = url.rsplit("//", 1)[1].split(":")
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((host, int(port))) == 0


def test_demo_from_a_fresh_clone(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(clone)], check=True)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "TEXTILE_", "PYTEST_"))}
    env["TMPDIR"] = str(temp)
    proc = subprocess.run(
        ["bash", "scripts/demo.sh"],
        cwd=str(clone),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]

    assert "second run: changed=0 on both cafes" in output
    recaps = re.findall(r"^(cafe[12]) +: ok=\d+ +changed=(\d+)", output, re.M)
    # provision, provision again, decommission (cafe1, cafe2 each); then the report
    assert [changed for _host, changed in recaps[:6]] == ["1", "1", "0", "0", "1", "1"]
    assert not [m for m in TOKEN_SHAPED.findall(output) if is_token(m)], "a token was printed"

    report = clone / "textile-cafe-report"
    data = json.loads((report / "textile-cafe-report.json").read_text(encoding="utf-8"))
    summary, cafes = data["summary"], data["cafes"]
    departed = re.search(r"^decommission: ([0-9a-f]{24}) removed from both cafes, nothing imported$", output, re.M)
    assert departed, output[-4000:]
    # the client left: its ID is gone from cafe1, and the inventory that still declares it shows as drift
    (web,) = [i for i in summary["expected_ids"] if i != departed.group(1)]
    assert sorted(summary["expected_ids"]) == sorted([web, departed.group(1)])
    assert cafes["cafe1"]["reachable"] is True and cafes["cafe1"]["ids"] == [web]
    assert summary["missing"] == {departed.group(1): ["cafe1"]} and summary["unexpected"] == {}
    # cafe2 went down: unknown, not empty
    assert cafes["cafe2"]["reachable"] is False and cafes["cafe2"]["ids"] is None and cafes["cafe2"]["count"] is None
    assert "refused" in cafes["cafe2"]["error"]
    assert (summary["cafes"], summary["reachable"]) == (2, 1)

    page = (report / "textile-cafe-report.html").read_text(encoding="utf-8")
    assert "HTML report: %s" % (report / "textile-cafe-report.html") in output
    assert "mobile app" in page and "web app" in page and "could not be read: cafe2" in page
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        assert "Screenshot: %s" % (report / "textile-cafe-report.png") in output
        assert (report / "textile-cafe-report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the simulators are stopped and the private temp dir (with the token files) is gone
    urls = re.findall(r"^cafe[12]: (http://127\.0\.0\.1:\d+)$", output, re.M)
    assert len(urls) == 2 and not any(port_open(url) for url in urls)
    assert list(temp.iterdir()) == []
