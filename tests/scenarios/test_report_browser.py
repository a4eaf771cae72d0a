# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML report rendered by headless Chromium (Debian's chromium package): screenshot and DOM content."""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
import zlib

import pytest

from ansible_collections.textileio.textile.tests.docsite.chromium import CHROMIUM, FLAGS
from ansible_collections.textileio.textile.tests.scenarios.harness import REPORT_PLAYBOOK as PLAYBOOK
from ansible_collections.textileio.textile.tests.scenarios.harness import (
    STATES,
    cells,
    fleet,
    matrix_states,
    read_report,
    token_id,
)
from ansible_collections.textileio.textile.tests.simulator.textile_sim import closed_port

# The background of each cell state in the page's style sheet (blank is the page's white).
COLOURS = {
    "stored": (0xD6, 0xF5, 0xDC),
    "missing": (0xF8, 0xD3, 0xD3),
    "unexpected": (0xFD, 0xE7, 0xA9),
    "unknown": (0xE4, 0xE4, 0xE4),
}

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason="headless Chromium is missing: install Debian's package with `apt-get install -y chromium` "
    "(scripts/test.sh does this when it runs as root)",
)


def chromium(tmp_path, *args):
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [CHROMIUM, *FLAGS, "--user-data-dir=%s" % profile, *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
        stdin=subprocess.DEVNULL,
        cwd=str(tmp_path),
    )


# Reads the page as a person sees it: the background Chromium computed for every state cell of the matrix and
# of the cafes' sections, from the page loaded in a frame (file URLs share an origin with
# --allow-file-access-from-files; the page's own CSP allows no script, so the probe runs outside it).
PROBE = """<!DOCTYPE html><html><body><iframe id="page" src="%s" width="1280" height="1600"></iframe><pre id="out"></pre>
<script>
document.getElementById('page').addEventListener('load', function () {
  var doc = this.contentDocument, cells = [];
  function add(where, host, td) {
    cells.push([where, td.parentNode.getAttribute('data-id'), host, getComputedStyle(td).backgroundColor]);
  }
  doc.querySelectorAll('#matrix td[data-host]').forEach(function (td) { add('matrix', td.getAttribute('data-host'), td); });
  doc.querySelectorAll('section.cafe tr[data-id] td:last-child').forEach(function (td) {
    add('section', td.closest('section').getAttribute('data-host'), td);
  });
  document.getElementById('out').textContent = JSON.stringify(cells);
});
</script></body></html>
"""


def painted_cells(tmp_path, page):
    """``{(where, id, host): (r, g, b)}``: the background Chromium paints each state cell of ``page`` with."""
    probe = page.parent / "probe.html"
    probe.write_text(PROBE % page.name, encoding="utf-8")
    dumped = chromium(
        tmp_path, "--allow-file-access-from-files", "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()
    )
    (found,) = re.findall(r'<pre id="out">(.*?)</pre>', dumped.stdout, re.S)
    cells = {}
    for where, token, host, colour in json.loads(html.unescape(found)):
        cells[(where, token, host)] = tuple(int(n) for n in re.findall(r"\d+", colour)[:3])
    return cells


def png_pixels(png):
    """``(width, height, {(r, g, b): count})`` of an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        data = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data)
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    width, height, depth, colour, _compression, _filter, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    step = 3 if colour == 2 else 4
    raw, stride, counts = zlib.decompress(idat), width * step, {}
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - step] if x >= step else 0
            b, c = previous[x], previous[x - step] if x >= step else 0
            if kind == 1:
                line[x] = (line[x] + a) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + b) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        for x in range(0, stride, step):
            pixel = tuple(line[x : x + 3])
            counts[pixel] = counts.get(pixel, 0) + 1
        previous = line
    return width, height, counts


def test_report_page_renders_in_headless_chromium(sim_factory, run_playbook, new_token, tmp_path):
    fleet_token, lost, stray = new_token(), new_token(), new_token()
    first, second = sim_factory(), sim_factory()
    first.control.seed([fleet_token, lost, stray])
    second.control.seed([fleet_token])
    owner = '<script>document.title="owned"</script>Ops team'
    inventory = fleet(
        [first, second],
        textile_retries=0,
        cafe_token_report_expected_ids=[token_id(fleet_token), token_id(lost)],
        cafe_token_report_labels={token_id(lost): owner, token_id(fleet_token): "fleet"},
    )
    inventory["all"]["children"]["textile_cafes"]["hosts"]["cafe3"] = {
        "textile_api_url": "http://127.0.0.1:%d" % closed_port()
    }
    result = run_playbook(PLAYBOOK, inventory=inventory)
    base, data, _page = read_report(result)
    page = (base / "textile-cafe-report.html").resolve()

    shot = tmp_path / "report.png"
    chromium(tmp_path, "--window-size=1280,1600", "--screenshot=%s" % shot, page.as_uri())
    shutil.copy(shot, result.run_dir / "report.png")  # kept next to the run for a person to look at
    width, height, colours = png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 1600)
    # every state's colour was painted (the inline style sheet applied under the page's CSP)
    for state, rgb in COLOURS.items():
        assert colours.get(rgb, 0) > 500, (state, rgb)

    # every cell is painted in the colour of the state it must have, not only of the class it was given: a page
    # that swapped the missing and unexpected classes (or their colours) fails here, cell by cell
    states = {
        token_id(fleet_token): ["stored", "stored", "unknown"],
        token_id(lost): ["stored", "missing", "unknown"],
        token_id(stray): ["unexpected", "blank", "unknown"],
    }
    paint = dict(COLOURS, blank=(0xFF, 0xFF, 0xFF))
    expected = {
        ("matrix", i, "cafe%d" % n): paint[state] for i, row in states.items() for n, state in enumerate(row, 1)
    }
    expected.update(
        {
            ("section", i, "cafe%d" % n): paint[state]
            for i, row in states.items()
            for n, state in enumerate(row, 1)
            if state not in ("blank", "unknown")
        }
    )
    assert painted_cells(tmp_path, page) == expected

    dumped = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert "<script" not in dumped  # the label's markup stayed text: nothing ran, nothing was added
    dom = cells(dumped)
    summary = {row[0][0]: row[1][0] for row in dom["summary"]}
    assert summary["Cafes"] == "3" and summary["Reachable"] == "2 of 3"
    assert (
        summary["Tokens stored (all cafes)"] == "4"
        and summary["Drift"] == "yes: 1 missing, 1 unexpected (on the cafes read)"
    )
    assert {row[0][1].pop() for row in dom["legend"][1:]} == STATES
    assert matrix_states(dom) == {
        token_id(fleet_token): ["stored", "stored", "unknown"],
        token_id(lost): ["stored", "missing", "unknown"],
        token_id(stray): ["unexpected", "blank", "unknown"],
    }
    labels = {row[0][0]: row[1][0] for row in dom["matrix"][1:]}
    assert labels[token_id(lost)] == owner  # the label's markup stayed text
    cafes = {row[0][0]: [text for text, _classes in row] for row in dom["cafes"][1:]}
    assert cafes["cafe1"][1:5] == ["yes", "0.7.8", "3", first.url]
    assert cafes["cafe3"][1:4] == ["no", "", "unknown"] and cafes["cafe3"][5] == data["cafes"]["cafe3"]["error"]
    assert dom["missing"][1][0][0] == token_id(lost) and dom["missing"][1][2][0] == "cafe2"
    per_cafe = [rows[1:] for key, rows in dom.items() if key.startswith("cafe-tokens")]
    assert [[(r[0][0], r[2][0]) for r in rows] for rows in per_cafe[:2]] == [
        sorted([(token_id(fleet_token), "stored"), (token_id(lost), "stored"), (token_id(stray), "unexpected")]),
        sorted([(token_id(fleet_token), "stored"), (token_id(lost), "missing")]),
    ]
    assert [r[0] for r in per_cafe[2]] == [
        ("unknown: the cafe could not be read, so its tokens are not known", {"unknown"})
    ]
