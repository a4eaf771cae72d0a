"""The bodies of the noxfile's sessions that are not a test line's pytest or ansible-test run: the docs site,
mypy, the sanity ignore check, and the stricter wrappers of two of antsibull-nox's sessions (build-import-check
and molecule)."""

from __future__ import annotations

import nox

from .lines import (
    CONSTRAINTS,
    ROOT,
    collection_pythonpath,
    copy_collection,
    ensure_debian_package,
    leaked_tokens,
    run_pytest,
    stop_processes_naming,
    temporary_directory,
    test_tokens,
)


def npm_ci(session: nox.Session, directory: str) -> None:
    """npm ci in ``directory`` (under the work tree) when its node_modules is missing or older than its lock file;
    nothing (the tests that need node skip) when npm is missing and cannot be installed."""
    where = ROOT / directory
    if ensure_debian_package(session, "npm", "npm"):
        modules, lock = where / "node_modules", where / "package-lock.json"
        if not modules.is_dir() or lock.stat().st_mtime > modules.stat().st_mtime:
            with session.chdir(where):
                session.run("npm", "ci", "--no-audit", "--no-fund", external=True)


def docs_site(session: nox.Session) -> None:
    """docs/site/build.sh in a session venv with the site's requirements, then tests/docsite on the main line."""
    session.install("-r", "docs/site/requirements.txt", "ansible-core", "-c", CONSTRAINTS)
    ensure_debian_package(session, "chromium", "chromium", "chromium-browser")  # tests/docsite
    site = ROOT / "docs" / "site"
    with temporary_directory("docs-site") as base:
        # antsibull-docs --use-current documents the collection that ansible-galaxy finds: a copy of the
        # tracked files, so that what is documented is what would be built, and nothing else is found.
        copy_collection(base)
        collections = {"ANSIBLE_COLLECTIONS_PATH": str(base), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false"}
        session.run("bash", str(site / "build.sh"), env=collections, external=True)
        html = site / "build" / "html"
        session.log(f"the docs site: {html / 'index.html'}")
        run_pytest(session, "2.21", "tests/docsite", env=dict(collections, TEXTILE_DOCSITE_HTML=str(html)))


def typing_plugins(session: nox.Session) -> None:
    """mypy of plugins/ and the event source, from a directory that holds the work tree as the collection."""
    session.install("mypy", "ansible-core", "requests", "types-requests", "bcrypt", "-c", CONSTRAINTS)
    with collection_pythonpath() as base, session.chdir(base):
        session.run(
            "mypy",
            "--config-file",
            str(ROOT / "mypy.ini"),
            "--namespace-packages",
            "--explicit-package-bases",
            "ansible_collections/textileio/textile/plugins",
            "ansible_collections/textileio/textile/extensions/eda/plugins/event_source",
            env={"MYPYPATH": base},
        )


def sanity_ignores(session: nox.Session) -> None:
    """Fails on any entry in tests/sanity/ignore-*.txt."""
    entries = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted(ROOT.glob("tests/sanity/ignore-*.txt"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if entries:
        session.error("sanity ignore entries are not allowed; fix the code instead:\n" + "\n".join(entries))
    session.log("no ignore entries under tests/sanity")


def fail_on_galaxy_importer_errors() -> None:
    """Make build-import-check fail when galaxy-importer logs an error.

    galaxy-importer exits 0 even when the import failed or a step crashed; antsibull-nox then only warns
    ("Galaxy importer emitted the following non-fatal error"). Here any such warning fails the session.
    """
    registered = nox.registry.get()["build-import-check"]
    run = registered.func

    def strict(session: nox.Session) -> None:
        errors = []
        warn = nox.Session.warn  # Session has __slots__: patch the class while this session runs

        def record(self, *args, **kwargs):
            if args and "Galaxy importer emitted" in str(args[0]):
                errors.append(str(args[0]))
            warn(self, *args, **kwargs)

        nox.Session.warn = record
        try:
            run(session)
        finally:
            nox.Session.warn = warn
        if errors:
            session.error("galaxy-importer reported errors (listed above)")

    strict.__doc__ = run.__doc__
    registered.func = strict


def isolate_molecule() -> None:
    """Run antsibull-nox's molecule session in an ANSIBLE_HOME of its own, then check what it left behind.

    molecule keeps each scenario's ephemeral directory (its inventory and state, and here the simulator's PID,
    port and database) in ANSIBLE_HOME/tmp, under a name made of the project directory's name ("extensions")
    and the scenario's: the same path for every clone and every run. A temporary ANSIBLE_HOME keeps parallel
    runs apart and puts nothing into ~/.ansible. ansible writes every playbook run to a log there; afterwards
    the session fails when a token of the scenarios' inventories appears in it, or when a simulator that a
    scenario started still runs (its cleanup failed: the session stops it).
    """
    registered = nox.registry.get()["molecule"]
    run = registered.func

    def isolated(session: nox.Session) -> None:
        tokens = test_tokens("extensions/molecule/*/inventory/*.yml")
        with temporary_directory("molecule") as home:
            log = home / "ansible.log"
            session.env.update(ANSIBLE_HOME=str(home), ANSIBLE_LOG_PATH=str(log))
            try:
                run(session)
            finally:
                left = stop_processes_naming(session, str(home))
            text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        if left:
            session.error(f"a scenario's cleanup left processes running: PIDs {left}")
        if "PLAY RECAP" not in text:
            session.error("ansible's log of the scenarios is empty: the secret scan would have seen nothing")
        if not tokens:
            session.error("no token in extensions/molecule/*/inventory/: the secret scan would look for nothing")
        leaked = leaked_tokens(tokens, text)
        if leaked:
            session.error(f"ansible's log holds a token of {', '.join(leaked)} (the value is not shown)")
        session.log(f"none of the {len(tokens)} tokens of the scenarios is in ansible's log; no process left running")

    isolated.__doc__ = "molecule test of every scenario in extensions/molecule (antsibull-nox's session, isolated)."
    registered.func = isolated
    registered.__doc__ = isolated.__doc__  # what nox --list shows
