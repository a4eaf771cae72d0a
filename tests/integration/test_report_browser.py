# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML report rendered by headless Chromium (Debian's chromium package): screenshot and DOM content."""

from __future__ import annotations

import shutil
import struct
import subprocess
from html.parser import HTMLParser

import pytest

from harness import token_id
from test_report import PLAYBOOK, closed_port, read_report
from test_roles import fleet

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason="headless Chromium is missing: install Debian's package with `apt-get install -y chromium` "
           "(scripts/test.sh does this when it runs as root)")


class Tables(HTMLParser):
    """Every table of a DOM, keyed by id (or class), as rows of cell texts; and the tags seen."""

    def __init__(self):
        super().__init__()
        self.tables, self.tags, self._key, self._row, self._cell = {}, set(), None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "table":
            self._key = attrs.get("id") or "%s:%d" % (attrs.get("class"), len(self.tables))
            self.tables[self._key] = []
        elif tag == "tr" and self._key:
            self._row = []
            self.tables[self._key].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._key = self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def chromium(tmp_path, *args):
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([CHROMIUM, *FLAGS, "--user-data-dir=%s" % profile, *args], capture_output=True,
                          text=True, timeout=180, check=True, stdin=subprocess.DEVNULL, cwd=str(tmp_path))


def test_report_page_renders_in_headless_chromium(sim_factory, run_playbook, new_token, tmp_path):
    fleet_token, lost = new_token(), new_token()
    first, second = sim_factory(), sim_factory()
    first.control.seed([fleet_token, lost])
    second.control.seed([fleet_token])
    owner = '<script>document.title="owned"</script>Ops team'
    inventory = fleet([first, second], textile_retries=0,
                      cafe_token_report_expected_ids=[token_id(fleet_token), token_id(lost)],
                      cafe_token_report_labels={token_id(lost): owner, token_id(fleet_token): "fleet"})
    inventory["all"]["children"]["textile_cafes"]["hosts"]["cafe3"] = {
        "textile_api_url": "http://127.0.0.1:%d" % closed_port()}
    result = run_playbook(PLAYBOOK, inventory=inventory)
    base, data, _page = read_report(result)
    page = (base / "textile-cafe-report.html").resolve()

    shot = tmp_path / "report.png"
    chromium(tmp_path, "--window-size=1280,1400", "--screenshot=%s" % shot, page.as_uri())
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1280, 1400)
    assert len(png) > 20000  # a rendered page with tables, not a blank image

    dom = Tables()
    dom.feed(chromium(tmp_path, "--dump-dom", page.as_uri()).stdout)
    assert "script" not in dom.tags  # the label's markup stayed text
    summary = dict(dom.tables["summary"])
    assert summary["Cafes"] == "3" and summary["Reachable"] == "2"
    assert summary["Tokens stored (all cafes)"] == "3" and summary["Drift"] == "yes"
    cafes = {row[0]: row for row in dom.tables["cafes"][1:]}
    assert cafes["cafe1"][1:4] == ["yes", "0.7.8", "2"]
    assert cafes["cafe2"][1:4] == ["yes", "0.7.8", "1"]
    assert cafes["cafe3"][1] == "no" and cafes["cafe3"][5] == data["cafes"]["cafe3"]["error"]
    assert dom.tables["missing"][1] == [token_id(lost), owner, "cafe2"]
    matrix = {row[0]: row[2:] for row in dom.tables["matrix"][1:]}
    assert matrix[token_id(fleet_token)] == ["stored", "stored", "?"]
    assert matrix[token_id(lost)] == ["stored", "missing", "?"]
    per_cafe = [rows for key, rows in dom.tables.items() if key.startswith("cafe-tokens")]
    assert [sorted(r[0] for r in rows[1:]) for rows in per_cafe] == [
        sorted([token_id(fleet_token), token_id(lost)]), [token_id(fleet_token)], ["no tokens"]]
    shutil.copy(shot, result.run_dir / "report.png")  # kept next to the run for a person to look at
