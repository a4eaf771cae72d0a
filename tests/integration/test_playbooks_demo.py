# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/demo.sh (the README's main-job command), run from a fresh clone of the repository."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess

import base58

from harness import REPO_ROOT

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
    proc = subprocess.run(["bash", "scripts/demo.sh"], cwd=str(clone), env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=1200, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]

    assert "second run: changed=0 on both cafes" in output
    recaps = re.findall(r"^(cafe[12]) +: ok=\d+ +changed=(\d+)", output, re.M)
    assert [changed for _host, changed in recaps[:4]] == ["1", "1", "0", "0"]  # provision, then again
    assert not [m for m in TOKEN_SHAPED.findall(output) if is_token(m)], "a token was printed"

    report = clone / "textile-cafe-report"
    assert "HTML report: %s" % (report / "textile-cafe-report.html") in output
    data = json.loads((report / "textile-cafe-report.json").read_text(encoding="utf-8"))
    summary = data["summary"]
    assert (summary["cafes"], summary["reachable"], summary["total_stored"], summary["distinct_ids"]) == (2, 2, 2, 1)
    assert summary["missing"] == {} and summary["unexpected"] == {}
    assert data["cafes"]["cafe1"]["ids"] == data["cafes"]["cafe2"]["ids"] == summary["expected_ids"]
    assert "demo fleet token" in (report / "textile-cafe-report.html").read_text(encoding="utf-8")

    # the simulators are stopped and the private temp dir (with the token file) is gone
    urls = re.findall(r"^cafe[12]: (http://127\.0\.0\.1:\d+)$", output, re.M)
    assert len(urls) == 2 and not any(port_open(url) for url in urls)
    assert list(temp.iterdir()) == []
