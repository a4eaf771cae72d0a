# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real npm client ``@textileio/js-http-client`` 0.1.9 against the simulator, and against our client.

Checks textile-cafe-api.md section 8: what each Tokens call sends (the wire captures) and how it behaves,
and that tokens made by either client are seen by the other. Needs ``node`` and ``npm ci`` in tests/interop.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "driver.js")

if shutil.which("node") is None:
    pytest.skip("node is not installed: the interop tests drive the npm client with it", allow_module_level=True)
if not os.path.isdir(os.path.join(HERE, "node_modules", "@textileio", "js-http-client")):
    pytest.skip("@textileio/js-http-client is not installed: run `npm ci` in tests/interop", allow_module_level=True)

sim_module = pytest.importorskip("ansible_collections.textileio.textile.tests.simulator.textile_sim")
tlsutil = pytest.importorskip("ansible_collections.textileio.textile.tests.simulator.tlsutil")
client = pytest.importorskip("ansible_collections.textileio.textile.plugins.module_utils._client")
token_format = pytest.importorskip("ansible_collections.textileio.textile.plugins.module_utils._token_format")

# textile-cafe-api.md section 8: the raw POST of tokens.create({store: 'false'}), in order (Host aside).
CAPTURED_CREATE = [
    ["Accept", "application/json, text/plain, */*"],
    ["Content-Type", "application/x-www-form-urlencoded"],
    ["X-Textile-Args", ""],
    ["X-Textile-Opts", "store=false"],
    ["User-Agent", "axios/0.18.1"],
    ["Host", None],
    ["Connection", "keep-alive"],
    ["Content-Length", "0"],
]
EMPTY = {"X-Textile-Args": "", "X-Textile-Opts": ""}


def drive(url, *steps, env=None):
    """Run the driver; returns (results, unhandled rejections)."""
    answer = subprocess.run(
        ["node", DRIVER, url, json.dumps(list(steps))],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=dict(os.environ, **(env or {})),
    )
    assert answer.returncode == 0, answer.stderr
    output = json.loads(answer.stdout)
    return output["results"], output["unhandled"]


def drive_results(url, *steps, env=None):
    return drive(url, *steps, env=env)[0]


def step(call, *args):
    return {"call": call, "args": list(args)}


def tid(token):
    return token_format.token_id(token)


def python_tokens(url, **options):
    return client.Tokens(client.TextileAPI(url, retries=0, **options))


def wire(sim):
    return [(e["method"], e["path"], e["status"], e["headers"]) for e in sim.control.requests()]


# ---------------------------------------------------------------- each call as section 8 says


def test_create_posts_with_a_trailing_slash_follows_the_307_and_sends_the_captured_request(sim):
    (result,), unhandled = drive(sim.url, step("create", {"store": "false"}))
    assert result["ok"] and unhandled == []
    assert len(token_format.b58decode(result["value"])) == 44
    requests_seen = sim.control.requests()
    assert [(e["method"], e["path"], e["status"]) for e in requests_seen] == [
        ("POST", "/api/v0/tokens/", 307),
        ("POST", "/api/v0/tokens", 201),
    ]
    expected = [[name, "127.0.0.1:%d" % sim.port if name == "Host" else value] for name, value in CAPTURED_CREATE]
    assert requests_seen[0]["header_lines"] == expected
    assert requests_seen[1]["header_lines"] == expected  # the redirect is followed with the same request
    assert sim.control.state_ids() == []  # "false" is not "true"


@pytest.mark.parametrize(
    "options, sent, stored",
    [
        (None, "", False),  # create(): empty opts, so nothing is stored
        ({"store": False}, "store=", False),  # a falsy value is sent empty
        ({"store": True}, "store=true", True),
        ({"store": "true"}, "store=true", True),
    ],
)
def test_create_options_become_the_captured_opts_header(sim, options, sent, stored):
    (result,) = drive_results(sim.url, step("create", *([options] if options is not None else [])))
    assert result["ok"]
    assert [e[3] for e in wire(sim)] == [{"X-Textile-Args": "", "X-Textile-Opts": sent}] * 2
    assert sim.control.state_ids() == ([tid(result["value"])] if stored else [])


def test_create_with_a_bad_token_rejects_with_the_400(sim):
    (result,) = drive_results(sim.url, step("create", {"token": "abc", "store": "true"}))
    assert not result["ok"]
    assert (result["status"], result["data"]) == (400, "invalid token format")
    assert wire(sim)[-1][3] == {"X-Textile-Args": "", "X-Textile-Opts": "token=abc,store=true"}


def test_import_through_the_npm_client(sim):
    token = python_tokens(sim.url).create(store=False)
    (result,) = drive_results(sim.url, step("create", {"token": token, "store": "true"}))
    assert result["ok"] and result["value"] == token
    assert sim.control.state_ids() == [tid(token)]


def test_list_returns_the_raw_array(sim):
    stored = [python_tokens(sim.url).create() for _i in range(2)]
    (result,) = drive_results(sim.url, step("list"))
    assert result["ok"]
    assert sorted(token_format.parse_list_entry(entry).id for entry in result["value"]) == sorted(map(tid, stored))
    assert wire(sim)[-1] == ("GET", "/api/v0/tokens", 200, EMPTY)


def test_list_of_an_empty_cafe_is_an_empty_array(sim):
    (result,) = drive_results(sim.url, step("list"))
    assert result == {"call": "list", "ok": True, "value": []}


def test_validate_resolves_ok_and_rejects_on_401(sim):
    token = python_tokens(sim.url).create()
    unknown = token_format.b58encode(os.urandom(44))
    steps = [step("validate", token), step("validate", unknown), step("validate", "abc")]
    (valid, invalid, malformed) = drive_results(sim.url, *steps)
    assert valid == {"call": "validate", "ok": True, "value": "ok"}
    for result in (invalid, malformed):
        assert not result["ok"] and (result["status"], result["data"]) == (401, "invalid credentials")
    expected = [("GET", 200, EMPTY), ("GET", 401, EMPTY), ("GET", 401, EMPTY)]
    assert [(e[0], e[2], e[3]) for e in wire(sim)[-3:]] == expected
    assert wire(sim)[-3][1] == "/api/v0/tokens/" + tid(token)  # the log shows the ID, not the token


def test_remove_is_fire_and_forget_and_deletes(sim):
    token = python_tokens(sim.url).create()
    kept = python_tokens(sim.url).create()
    (result,), unhandled = drive(sim.url, step("remove", token))
    assert result == {"call": "remove", "ok": True, "value": None}  # resolves with nothing
    assert unhandled == []
    assert wire(sim)[-1] == ("DELETE", "/api/v0/tokens/" + tid(token), 204, EMPTY)
    assert sim.control.state_ids() == [tid(kept)]


def test_remove_of_a_malformed_token_resolves_but_its_rejection_is_unhandled(sim):
    (result,), unhandled = drive(sim.url, step("remove", "abc"))
    assert result["ok"] and result["value"] is None
    assert [(u["status"], u["data"]) for u in unhandled] == [(500, "invalid token format")]
    assert wire(sim)[-1] == ("DELETE", "/api/v0/tokens/abc", 500, EMPTY)


def test_the_whole_flow_against_a_simulator_process():
    with sim_module.SimProcess(bcrypt_cost=4) as proc:
        (created, listed, valid, removed, after), unhandled = drive(
            proc.url,
            step("create", {"store": True}),
            step("list"),
            {"call": "validate", "args": []},
            step("remove"),
            step("list"),
        )
        # validate() and remove() without a token hit /tokens/undefined, as the 0.1.9 code does
        assert created["ok"] and listed["ok"] and len(listed["value"]) == 1
        assert (valid["status"], removed["ok"]) == (401, True)
        assert [(u["status"], u["data"]) for u in unhandled] == [(500, "invalid token format")]
        assert len(after["value"]) == 1
        assert proc.control.state_ids() == [tid(created["value"])]
        paths = [e["path"] for e in proc.control.requests()]
    assert paths == [
        "/api/v0/tokens/",
        "/api/v0/tokens",
        "/api/v0/tokens",
        "/api/v0/tokens/undefined",
        "/api/v0/tokens/undefined",
        "/api/v0/tokens",
    ]
    assert created["value"] not in proc.log_text()


# ---------------------------------------------------------------- the two clients together


def test_a_token_created_by_the_npm_client_is_seen_by_ours(sim):
    (created,) = drive_results(sim.url, step("create", {"store": True}))
    ours = python_tokens(sim.url)
    assert [token_format.parse_list_entry(entry).id for entry in ours.list()] == [tid(created["value"])]
    assert ours.validate(created["value"]) is True
    ours.remove(created["value"])
    (after,) = drive_results(sim.url, step("list"))
    assert after["value"] == []


def test_a_token_created_by_ours_validates_for_the_npm_client(sim):
    ours = python_tokens(sim.url)
    token = ours.create()
    imported = token_format.b58encode(os.urandom(44))
    assert ours.create(token=imported) == imported
    steps = [step("validate", token), step("validate", imported), step("list")]
    (valid, valid_imported, listed) = drive_results(sim.url, *steps)
    assert (valid["value"], valid_imported["value"]) == ("ok", "ok")
    assert sorted(token_format.parse_list_entry(entry).id for entry in listed["value"]) == sorted(
        [tid(token), tid(imported)]
    )


def test_our_client_sends_the_same_textile_headers_as_the_npm_client(sim):
    """Same calls, same X-Textile-* headers (ours never posts with a trailing slash)."""
    ours = python_tokens(sim.url)
    token = ours.create(store=False)
    sim.control.clear_requests()
    drive(
        sim.url,
        step("create", {"store": "true"}),
        step("create", {"store": "false"}),
        step("create", {"token": token, "store": "true"}),
        step("list"),
        step("validate", token),
        step("remove", token),
    )
    js = [e for e in wire(sim) if e[2] != 307]
    sim.control.reset()
    ours.create()
    ours.create(store=False)
    ours.create(token=token)
    ours.list()
    ours.validate(token)
    ours.remove(token)
    py = wire(sim)
    assert [(e[0], e[1], e[3]) for e in py] == [(e[0], e[1], e[3]) for e in js]
    assert [e[2] for e in py] == [e[2] for e in js] == [201, 201, 201, 200, 200, 204]
    assert py[2][3]["X-Textile-Opts"] == "token=<redacted>,store=true"


def test_the_npm_client_over_https_trusts_the_generated_ca(tmp_path):
    ca = tlsutil.make_test_ca(str(tmp_path / "ca"))
    other = tlsutil.make_test_ca(str(tmp_path / "other"))
    with sim_module.SimServer(bcrypt_cost=4, tls_cert=ca.server_cert, tls_key=ca.server_key) as server:
        created, listed = drive_results(
            server.url, step("create", {"store": True}), step("list"), env={"NODE_EXTRA_CA_CERTS": ca.ca_cert}
        )
        assert created["ok"] and [token_format.parse_list_entry(e).id for e in listed["value"]] == [
            tid(created["value"])
        ]
        assert python_tokens(server.url, ca_path=ca.ca_cert).validate(created["value"]) is True
        (refused,) = drive_results(server.url, step("list"), env={"NODE_EXTRA_CA_CERTS": other.ca_cert})
        assert not refused["ok"] and refused["status"] is None  # TLS verification failed, no answer
