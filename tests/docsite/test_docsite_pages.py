# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docs site (docs/site, built by antsibull-docs and Sphinx) as a reader sees it in headless Chromium.

The ``docs-site`` session builds the site, then runs these tests with ``TEXTILE_DOCSITE_HTML`` naming the
built HTML and ``ANSIBLE_COLLECTIONS_PATH`` the copy of the collection it was built from. Each page is loaded
in Chromium with its style sheets and scripts; the page then reports only what is rendered (an element with no
box or hidden is left out): its sections' headings, tables (cell text) and code blocks. What the pages must
show comes from ``ansible-doc --metadata-dump`` of the same collection: every option with its type, aliases,
choices and default, the examples, every return value, and each role entry point with its own options.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from chromium import CHROMIUM, Chromium

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTION = "textileio.textile"
MODULES = sorted(p.stem for p in (REPO_ROOT / "plugins" / "modules").glob("*.py") if not p.stem.startswith("_"))
FILTERS = sorted(p.stem for p in (REPO_ROOT / "plugins" / "filter").glob("*.yml"))
TESTS = sorted(p.stem for p in (REPO_ROOT / "plugins" / "test").glob("*.yml"))
ROLES = sorted(p.parents[1].name for p in (REPO_ROOT / "roles").glob("*/meta/argument_specs.yml"))
# How antsibull-docs names each type in the tables.
TYPE_WORDS = {
    "str": "string",
    "list": "list",
    "bool": "boolean",
    "int": "integer",
    "float": "float",
    "dict": "dictionary",
    "path": "path",
    "raw": "any",
}
TYPE_WORDS.update({word: word for word in list(TYPE_WORDS.values())})  # plugin docs may use the long names
# The rendered sections of a page: each with its path of headings, its own tables and code blocks.
SECTIONS_JS = r"""
(() => {
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const headingOf = (section) => {
    const h = section.querySelector(':scope > h1, :scope > h2, :scope > h3, :scope > h4, :scope > h5');
    return h && shown(h) ? h.innerText : '';
  };
  const own = (section, selector) =>
    [...section.querySelectorAll(selector)].filter((el) => el.closest('section') === section && shown(el));
  return [...document.querySelectorAll('section')].filter(shown).map((section) => {
    const path = [];
    for (let s = section; s; s = s.parentElement.closest('section')) path.unshift(headingOf(s));
    return {
      path,
      tables: own(section, 'table').map((t) =>
        [...t.rows].filter(shown).map((r) => [...r.cells].map((c) => c.innerText.trim()))),
      code: own(section, 'pre').map((p) => p.innerText),
    };
  });
})()
"""
LINKS_JS = r"""[...document.querySelectorAll('[role="main"] a[href]')]
  .filter((a) => a.getClientRects().length > 0).map((a) => a.getAttribute('href'))"""

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason="headless Chromium is missing: install Debian's package with `apt-get install -y chromium` "
    "(scripts/test.sh does this when it runs as root)",
)


@pytest.fixture(scope="session")
def site():
    html = os.environ.get("TEXTILE_DOCSITE_HTML")
    if not html or not (Path(html) / "index.html").is_file():
        pytest.fail("no built docs site: run `scripts/test.sh -e docs-site`, which builds it and runs these tests")
    return Path(html)


@pytest.fixture(scope="session")
def docs():
    """``ansible-doc --metadata-dump`` of the collection the site was built from: plugin type -> name -> docs."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-doc"), "--metadata-dump", "--no-fail-on-errors", COLLECTION],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    return json.loads(done.stdout)["all"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with Chromium(tmp_path_factory.mktemp("chromium-profile")) as chromium:
        yield chromium


class Page:
    def __init__(self, browser, path):
        browser.open(path.resolve().as_uri())
        self.sections = [
            dict(section, path=[clean(heading) for heading in section["path"] if clean(heading)])
            for section in browser.evaluate(SECTIONS_JS)
        ]
        self.links = browser.evaluate(LINKS_JS)
        self.title = next(s["path"][0] for s in self.sections if s["path"])

    def section(self, *path):
        """The section whose headings end with ``path`` (exactly one)."""
        found = [s for s in self.sections if s["path"][-len(path) :] == list(path)]
        assert len(found) == 1, "%s: %d sections %r (there are %r)" % (
            self.title,
            len(found),
            path,
            [s["path"] for s in self.sections],
        )
        return found[0]

    def table(self, *path):
        tables = self.section(*path)["tables"]
        assert len(tables) == 1, (path, tables)
        return tables[0]

    def code(self, *path):
        return "\n".join(self.section(*path)["code"])


def clean(heading):
    """A heading's text without the permalink sign the theme shows beside it, with plain quotes."""
    return plain(heading.replace("\uf0c1", "").replace("\u00b6", "")).strip()


def plain(text):
    """``text`` with the typographic quotes Sphinx prints in prose (smart quotes) as the source's own."""
    return text.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}))


def cell_lines(cell):
    return [line.strip() for line in cell.splitlines() if line.strip()]


def expected_rows(options, key="options", order=None):
    """(name, spec) of every option and sub-option, in the order of a table: sorted (or as ``order`` lists
    them), each followed by its own."""
    rows = []
    for name in order or sorted(options):
        rows.append((name, options[name]))
        rows.extend(expected_rows(options[name].get(key) or {}, key))
    return rows


def check_option_table(table, options, header=("Parameter", "Comments"), first_row_name=None, order=None):
    """The table lists every option with its type, aliases, required flag, choices and default."""
    assert table[0][: len(header)] == list(header), table[0]
    rows = table[1:]
    expected = expected_rows(options, order=order)
    names = [cell_lines(row[0])[0] for row in rows]
    assert names == [first_row_name if name == "_input" else name for name, _spec in expected]
    for row, (name, spec) in zip(rows, expected):
        lines, comments = cell_lines(row[0]), row[-1]
        type_line = next(line for line in lines if line.split(" / ")[0] in TYPE_WORDS.values())
        kind = TYPE_WORDS[spec.get("type", "str")]
        if spec.get("elements"):
            kind += " / elements=" + TYPE_WORDS[spec["elements"]]
        assert type_line.startswith(kind), (name, lines)
        assert ("required" in type_line.split(" / ")) == bool(spec.get("required")), (name, lines)
        aliases = [line for line in lines if line.startswith("aliases:")]
        assert aliases == (["aliases: " + ", ".join(spec["aliases"])] if spec.get("aliases") else []), (name, lines)
        assert spec.get("description") and comments, name
        for choice in spec.get("choices") or []:
            assert json.dumps(choice) in comments, (name, choice, comments)
        default = spec.get("default")
        if spec.get("type") in ("bool", "boolean") and default is not None:
            assert "%s ← (default)" % json.dumps(default) in comments, (name, comments)
        elif spec.get("choices") and default is not None:
            assert "%s ← (default)" % json.dumps(default) in comments, (name, comments)
        elif default is not None:
            assert "Default: %s" % json.dumps(default) in comments, (name, comments)


def check_return_table(table, returns, first_row_name=None):
    assert table[0] == ["Key", "Description"], table[0]
    rows = table[1:]
    expected = expected_rows(returns, key="contains")
    names = [cell_lines(row[0])[0] for row in rows]
    assert names == [first_row_name if name == "_value" else name for name, _spec in expected]
    for row, (name, spec) in zip(rows, expected):
        assert TYPE_WORDS[spec.get("type", "str")] in cell_lines(row[0])[-1], (name, row[0])
        if spec.get("returned"):
            assert "Returned: " in row[1], (name, row[1])


def same_text(text):
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize("name", MODULES)
def test_module_page(browser, site, docs, name):
    entry = docs["module"]["%s.%s" % (COLLECTION, name)]
    page = Page(browser, site / ("%s_module.html" % name))
    assert page.title == "%s.%s module – %s" % (COLLECTION, name, entry["doc"]["short_description"])
    check_option_table(page.table(page.title, "Parameters"), entry["doc"]["options"])
    attributes = page.table(page.title, "Attributes")
    assert [row[0] for row in attributes[1:]] == sorted(entry["doc"]["attributes"])
    assert same_text(entry["examples"]) in same_text(page.code(page.title, "Examples"))
    check_return_table(page.table(page.title, "Return Values"), entry["return"])


@pytest.mark.parametrize(("kind", "name"), [("filter", n) for n in FILTERS] + [("test", n) for n in TESTS])
def test_filter_and_test_pages(browser, site, docs, kind, name):
    entry = docs[kind]["%s.%s" % (COLLECTION, name)]
    page = Page(browser, site / ("%s_%s.html" % (name, kind)))
    assert page.title == "%s.%s %s – %s" % (COLLECTION, name, kind, entry["doc"]["short_description"])
    options = dict(entry["doc"]["options"])
    check_option_table(page.table(page.title, "Input"), {"_input": options.pop("_input")}, first_row_name="Input")
    positional = entry["doc"].get("positional") or []
    if isinstance(positional, str):  # "_input, name": the names in the order a call passes them
        positional = [word.strip() for word in positional.split(",")]
    positional = [word for word in positional if word != "_input"]
    if positional:
        check_option_table(page.table(page.title, "Positional parameters"), options, order=positional)
    keyword = {name: spec for name, spec in options.items() if name not in positional}
    if keyword:
        check_option_table(page.table(page.title, "Keyword parameters"), keyword)
    assert bool(positional or keyword) == bool(options)
    assert same_text(entry["examples"]) in same_text(page.code(page.title, "Examples"))
    check_return_table(page.table(page.title, "Return Value"), entry["return"], first_row_name="Return value")


@pytest.mark.parametrize("name", ROLES)
def test_role_page_shows_every_entry_point(browser, site, docs, name):
    entry_points = docs["role"]["%s.%s" % (COLLECTION, name)]["entry_points"]
    page = Page(browser, site / ("%s_role.html" % name))
    assert page.title.startswith("%s.%s role – " % (COLLECTION, name))
    for entry_point, spec in sorted(entry_points.items()):
        heading = "Entry point %s – %s" % (entry_point, spec["short_description"])
        check_option_table(page.table(page.title, heading, "Parameters"), spec["options"], header=("Parameter",))
    headings = [s["path"][1] for s in page.sections if len(s["path"]) == 2 and s["path"][1].startswith("Entry point")]
    assert len(headings) == len(entry_points)
    if name == "cafe_tokens":  # both entry points, main and remove, each with its own options
        assert sorted(entry_points) == ["main", "remove"]
        assert "cafe_tokens_present" in entry_points["main"]["options"]
        assert "cafe_tokens_present" not in entry_points["remove"]["options"]


def test_index_page_links_every_plugin_and_role(browser, site, docs):
    page = Page(browser, site / "index.html")
    pages = {"%s_module.html" % n for n in MODULES} | {"%s_filter.html" % n for n in FILTERS}
    pages |= {"%s_test.html" % n for n in TESTS} | {"%s_role.html" % n for n in ROLES}
    linked = {link.split("#")[0] for link in page.links}
    assert pages <= linked, sorted(pages - linked)
    documented = {name.split(".")[-1] for kind in ("module", "filter", "test", "role") for name in docs[kind]}
    assert documented == set(MODULES) | set(FILTERS) | set(TESTS) | set(ROLES)
