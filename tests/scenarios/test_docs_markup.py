# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every plugin's and role's docs, as ansible-doc renders them, parse as Ansible markup without broken spans.

antsibull-docs lint checks that the markup parses, but ``C(tokens: "{{ x | default(omit) }}")`` parses too: as
the code span ``tokens: "{{ x | default(omit`` followed by text, because the first ``)`` ends it. So every code,
value, option and return value span must also balance its ``(``/``)`` and ``{{``/``}}``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ansible_collections.textileio.textile.tests.scenarios.harness import ANSIBLE_PLAYBOOK, REPO_ROOT

parser = pytest.importorskip(
    "antsibull_docs_parser.parser",
    reason="antsibull-docs-parser is on the main line only (scripts/venv.sh main)",
)
dom = pytest.importorskip("antsibull_docs_parser.dom")

ANSIBLE_DOC = Path(ANSIBLE_PLAYBOOK).parent / "ansible-doc"
# Keys whose strings are markup (descriptions); examples, samples, defaults and choices are not.
MARKUP_KEYS = {"description", "short_description", "notes", "requirements", "details", "support"}
SPAN_PARTS = (
    dom.PartType.CODE,
    dom.PartType.OPTION_VALUE,
    dom.PartType.OPTION_NAME,
    dom.PartType.RETURN_VALUE,
    dom.PartType.ENV_VARIABLE,
)


def plugins():
    """``(type, name)`` of every plugin and role of the collection, from the files."""
    found = [("module", p.stem) for p in (REPO_ROOT / "plugins" / "modules").glob("*.py") if not p.stem.startswith("_")]
    for kind in ("filter", "test"):
        found += [(kind, p.stem) for p in (REPO_ROOT / "plugins" / kind).glob("*.yml")]
    found += [("role", p.parent.parent.name) for p in (REPO_ROOT / "roles").glob("*/meta/argument_specs.yml")]
    return sorted(found)


def rendered_docs(collections_path, kind, names):
    """ansible-doc's JSON for some plugins of one type (what users read, doc fragments merged)."""
    proc = subprocess.run(
        [str(ANSIBLE_DOC), "--json", "-t", kind] + ["textileio.textile." + n for n in names],
        capture_output=True,
        text=True,
        check=False,
        cwd=str(collections_path),
        env={
            "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
            "PATH": "/usr/bin:/bin",
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "HOME": str(collections_path),
        },
    )
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    assert sorted(docs) == sorted("textileio.textile." + n for n in names), proc.stderr
    return docs


def markup_texts(node, where=""):
    """``(where, text)`` of every markup string in a doc structure."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in MARKUP_KEYS:
                for index, text in enumerate(value if isinstance(value, list) else [value]):
                    if isinstance(text, str):
                        yield "%s.%s[%d]" % (where, key, index), text
            if key not in ("examples", "sample", "default", "choices", "plainexamples"):
                yield from markup_texts(value, "%s.%s" % (where, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from markup_texts(item, "%s[%d]" % (where, index))


def broken_spans(text):
    """Why each span of ``text`` is broken: markup that does not parse, or unbalanced brackets in a span."""
    try:
        paragraphs = parser.parse(text, parser.Context(), errors="exception", strict=True)
    except Exception as err:  # pylint: disable=broad-except
        return ["does not parse: %s" % err]
    problems = []
    for paragraph in paragraphs:
        for part in paragraph:
            if part.type not in SPAN_PARTS:
                continue
            span = " ".join(
                str(getattr(part, attr))
                for attr in ("text", "value", "name", "option")
                if getattr(part, attr, None) is not None
            )
            if span.count("(") != span.count(")") or span.count("{{") != span.count("}}"):
                problems.append("unbalanced brackets in the %s span %r" % (part.type.name.lower(), span))
    return problems


def test_the_check_finds_the_broken_span_of_issue_10():
    assert broken_spans('Beware that C(tokens: "{{ x | default(omit) }}") mints.') == [
        "unbalanced brackets in the code span 'tokens: \"{{ x | default(omit'"
    ]
    assert broken_spans(r"Beware that O(tokens) set to V({{ x | default(omit\) }}) mints.") == []
    assert broken_spans("I(unclosed") and broken_spans("O(a=b") == broken_spans("O(a=b")


@pytest.mark.parametrize("kind", ["module", "filter", "test", "role"])
def test_every_rendered_doc_string_is_well_formed_markup(collections_path, kind):
    names = [name for k, name in plugins() if k == kind]
    assert names, "no %s found" % kind
    problems, checked = [], 0
    for fqcn, doc in rendered_docs(collections_path, kind, names).items():
        for where, text in markup_texts(doc):
            checked += 1
            problems += ["%s%s: %s" % (fqcn, where, problem) for problem in broken_spans(text)]
    assert checked > 5 * len(names)
    assert not problems, "\n".join(problems)
