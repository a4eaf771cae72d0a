# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A catalogue of bad inputs: each fails before any request, names the option, and never echoes a secret.

All cases run as tasks of one playbook (``ignore_errors``) against one simulator holding a stored token,
so the catalogue costs one ansible-playbook run; the simulator must then have seen no request at all.
"""

from __future__ import annotations

import os

from ansible_collections.textileio.textile.plugins.module_utils._token_format import b58encode as b58
from ansible_collections.textileio.textile.tests.scenarios.harness import FAST, INFO_MODULE, attempt, playbook, token_id
from ansible_collections.textileio.textile.tests.simulator.pytest_plugin import make_token

GOOD = make_token()
GOOD_ID = token_id(GOOD)
SAME_ID_OTHER_SECRET = make_token(bytes.fromhex(GOOD_ID))
NOT_BASE58 = "0OIl" + GOOD[4:]
SHORT = b58(os.urandom(43))
LONG = b58(os.urandom(45))
LIST_ENTRY = b58(os.urandom(12) + b"$2a$04$" + os.urandom(53))
SPLIT = GOOD[:20] + " " + GOOD[20:]
URL_PASSWORD = "S3cret-Url-0042"
PIN = "S3cret-Pin-0042"
# Values that are (or could be) secrets: registered with the harness, so any echo fails the run.
SECRET_INPUTS = [GOOD, SAME_ID_OTHER_SECRET, NOT_BASE58, SHORT, LONG, LIST_ENTRY, SPLIT, PIN, URL_PASSWORD]


def case(name, expect, module=None, **args):
    """One bad input; ``expect``: fragments the failure message must contain (the options it names)."""
    return name, expect, module, args


CATALOGUE = [
    # tokens
    case("token not base58", ["tokens[1]"], tokens=[GOOD, NOT_BASE58]),
    case("token of 43 bytes", ["tokens[1]", "44"], tokens=[GOOD, SHORT]),
    case("token of 45 bytes", ["tokens[0]", "44"], tokens=[LONG]),
    case("empty token", ["tokens[0]"], tokens=[""]),
    case("blank token", ["tokens[2]"], tokens=[GOOD, GOOD, "   "]),
    case("token with inner space", ["tokens[0]"], tokens=[SPLIT]),
    case("same ID, two secrets", ["tokens[0]", "tokens[1]"], tokens=[GOOD, SAME_ID_OTHER_SECRET]),
    case("list entry given as token", ["tokens[0]"], tokens=[LIST_ENTRY]),
    case("bad token to remove", ["tokens[1]"], state="absent", tokens=[GOOD, NOT_BASE58]),
    case("bad token for info", ["tokens[0]"], module=INFO_MODULE, tokens=[SHORT]),
    # IDs
    case("short ID", ["ids[0]"], state="absent", ids=["abc123"]),
    case("non-hex ID", ["ids[0]"], state="absent", ids=["g" * 24]),
    case("ID of 26 hex chars", ["ids[1]"], state="absent", ids=[GOOD_ID, GOOD_ID + "00"]),
    case("token given as ID", ["ids[0]"], state="absent", ids=[make_token()]),
    case("bad keep_ids", ["keep_ids[1]"], tokens=[GOOD], exclusive=True, keep_ids=[GOOD_ID, "xyz"]),
    case("bad ID for info", ["ids[0]"], module=INFO_MODULE, ids=["not-an-id"]),
    # option combinations
    case("ids with state=present", ["ids"], tokens=[GOOD], ids=[GOOD_ID]),
    case("store with tokens", ["store"], tokens=[GOOD], store=True),
    case("exclusive with state=absent", ["exclusive"], state="absent", tokens=[GOOD], exclusive=True),
    case("keep_ids without exclusive", ["keep_ids"], tokens=[GOOD], keep_ids=[GOOD_ID]),
    case("verify_secret with state=absent", ["verify_secret"], state="absent", ids=[GOOD_ID], verify_secret=True),
    case("store with state=absent", ["store"], state="absent", ids=[GOOD_ID], store=False),
    case("state=absent without tokens or ids", ["tokens", "ids"], state="absent"),
    case("exclusive without tokens (a mint)", ["exclusive"], exclusive=True),
    case("keep_ids without tokens (a mint)", ["keep_ids"], keep_ids=[GOOD_ID]),
    case("verify_secret without tokens (a mint)", ["verify_secret"], verify_secret=True),
    case("unknown state", ["state"], state="latest", tokens=[GOOD]),
    case("unknown option", ["token_name"], tokens=[GOOD], token_name="web"),
    # URLs
    case("user info in api_url", ["api_url"], api_url="http://admin:%s@127.0.0.1:9" % URL_PASSWORD, tokens=[GOOD]),
    case("ftp api_url", ["api_url"], api_url="ftp://127.0.0.1:40600", tokens=[GOOD]),
    case("api_url without scheme", ["api_url"], api_url="127.0.0.1:40600", tokens=[GOOD]),
    case("api_url without host", ["api_url"], api_url="http://:40600", tokens=[GOOD]),
    case("api_url port out of range", ["api_url", "port"], api_url="http://127.0.0.1:99999", tokens=[GOOD]),
    case("api_url port not a number", ["api_url", "port"], api_url="http://127.0.0.1:abc", tokens=[GOOD]),
    case(
        "api_url with CR/LF",
        ["api_url", "control characters"],
        api_url="http://127.0.0.1:9/x\r\nX-Injected: 1",
        tokens=[GOOD],
    ),
    case("api_url with a query", ["api_url", "query"], api_url="http://127.0.0.1:9/?a=1", tokens=[GOOD]),
    case("api_url with a fragment", ["api_url", "fragment"], api_url="http://127.0.0.1:9/#x", tokens=[GOOD]),
    case(
        "password with @ in api_url",
        ["api_url", "user info"],
        api_url="http://admin:ab@%s@127.0.0.1:9" % URL_PASSWORD,
        tokens=[GOOD],
    ),
    case(
        "password with / in api_url",
        ["api_url"],
        api_url="http://admin:cd/%s@127.0.0.1:9" % URL_PASSWORD,
        tokens=[GOOD],
    ),
    case("api_version with CR/LF", ["api_version"], api_version="v0\r\nX-Injected: 1", tokens=[GOOD]),
    case("api_version escaping the path", ["api_version"], api_version="../../x", tokens=[GOOD]),
    case("token given as api_version", ["api_version"], api_version=GOOD, tokens=[GOOD]),
    # timeouts and retries
    case("zero timeout", ["timeout"], timeout=0, tokens=[GOOD]),
    case("negative timeout", ["timeout"], timeout=-5, tokens=[GOOD]),
    case("timeout not a number", ["timeout"], timeout="soon", tokens=[GOOD]),
    case("negative retries", ["retries"], retries=-1, tokens=[GOOD]),
    case("timeout NaN", ["timeout"], timeout="nan", tokens=[GOOD]),
    case("timeout infinite", ["timeout"], timeout="inf", tokens=[GOOD]),
    case("timeout 1e300", ["timeout"], timeout=1e300, tokens=[GOOD]),
    case("a million retries", ["retries"], retries=1000000, tokens=[GOOD]),
    case("infinite retries", ["retries"], retries="inf", tokens=[GOOD]),
    # files
    case("ca_path missing", ["ca_path"], ca_path="/nonexistent/ca.pem", tokens=[GOOD]),
    case("client_cert missing", ["client_cert"], client_cert="/nonexistent/cert.pem", tokens=[GOOD]),
    # headers
    case(
        "headers set X-Textile-Opts",
        ["headers", "X-Textile-Opts"],
        headers={"X-Textile-Opts": "store=true"},
        tokens=[GOOD],
    ),
    case(
        "headers set x-textile-args",
        ["headers", "x-textile-args"],
        headers={"x-textile-args": "forged-args"},
        tokens=[GOOD],
    ),
    case(
        "headers set Authorization with api_username",
        ["headers", "Authorization"],
        headers={"Authorization": "Basic " + PIN},
        api_username="P-account",
        api_password=PIN,
        tokens=[GOOD],
    ),
    case("headers not a mapping", ["headers"], headers=["X-Proxy: 1"], tokens=[GOOD]),
    case("header value outside latin-1", ["headers[X-Proxy]"], headers={"X-Proxy": "pin-\u2603-" + PIN}, tokens=[GOOD]),
    case("header value with CR/LF", ["headers[X-Proxy]"], headers={"X-Proxy": "a\r\nX-Injected: 1"}, tokens=[GOOD]),
    case("token as a header name", ["headers"], headers={GOOD: "proxy-value"}, tokens=[GOOD]),
    case(
        "password with a line break",
        ["api_password"],
        api_username="P-account",
        api_password="\u2603\r\nX-Injected: 1" + PIN,
        tokens=[GOOD],
    ),
]


def test_catalogue_of_bad_inputs(sim, secrets, run_playbook):
    assert len({entry[0] for entry in CATALOGUE}) == len(CATALOGUE) >= 25
    for value in SECRET_INPUTS:
        secrets.add(value)
    sim.control.seed([GOOD])
    sim.control.clear_requests()
    tasks = [
        attempt(name, module=module or "textile_cafe_token", **dict({"api_url": sim.url}, **args))
        for name, _expect, module, args in CATALOGUE
    ]

    result = run_playbook(playbook(tasks), env=FAST)

    problems = []
    for name, expect, _module, _args in CATALOGUE:
        outcome = result[name]
        msg = str(outcome.get("msg", ""))
        if not outcome.get("failed"):
            problems.append("%s: did not fail" % name)
            continue
        missing = [fragment for fragment in expect if fragment not in msg]
        if missing:
            problems.append("%s: message does not name %s: %s" % (name, missing, secrets.redact(msg)))
        if URL_PASSWORD in msg:
            problems.append("%s: the message shows the password of api_url" % name)
        if "Traceback" in str(outcome) or msg.startswith(("Internal error", "MODULE FAILURE")):
            problems.append("%s: a traceback instead of a clean failure" % name)
        if "\r" in msg or "\n" in msg or "X-Injected" in msg:
            problems.append("%s: the message carries the injected line" % name)
        if outcome.get("changed"):
            problems.append("%s: reported changed" % name)
    requests = sim.control.requests()
    if requests:
        problems.append("the simulator saw requests: %s" % [(r["method"], r["path"]) for r in requests])
    assert sim.control.state_ids() == [GOOD_ID]
    report = "\n  ".join(problems)
    assert not problems, "%d of %d bad inputs mishandled:\n  %s" % (len(problems), len(CATALOGUE), report)


def test_password_in_api_url_is_not_echoed(secrets, run_playbook):
    """A user who puts the pin into api_url gets a clear refusal, and the pin shows nowhere (-vvvv included)."""
    secrets.add(URL_PASSWORD)
    secrets.add(GOOD)
    result = run_playbook(
        playbook([attempt("user info", api_url="http://admin:%s@127.0.0.1:9" % URL_PASSWORD, tokens=[GOOD])]), env=FAST
    )
    assert result["user info"]["failed"] and "api_url" in result["user info"]["msg"]
