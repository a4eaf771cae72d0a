# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gin behaviour of the simulator: 404s, trailing-slash redirects, identification routes, Basic Auth."""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.textileio.textile.tests.unit.simulator.simhelpers import b58, new_key, requests, unb58


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/nothing"),
        ("GET", "/api/v0"),
        ("GET", "/api/v1/tokens"),
        ("GET", "/api/v0/tokens/a/b"),
        ("PUT", "/api/v0/tokens"),  # method not allowed is a 404 in gin by default
        ("PATCH", "/api/v0/tokens/abc"),
        ("DELETE", "/api/v0/tokens"),
        ("DELETE", "/api/v0/tokens/"),  # no DELETE route for /api/v0/tokens, so no redirect either
        ("POST", "/"),
        ("POST", "/health"),
        ("PUT", "/api/v0/tokens/"),
    ],
)
def test_unknown_path_or_method_is_gins_404(sim, method, path):
    answer = sim.call(method, path)
    assert (answer.status_code, answer.content) == (404, b"404 page not found")
    assert answer.headers["Content-Type"] == "text/plain"


@pytest.mark.parametrize(
    "path, location",
    [
        ("/api/v0/tokens/", "/api/v0/tokens"),
        ("/api/v0/tokens/abc/", "/api/v0/tokens/abc"),
        ("/health/", "/health"),
        ("/api/v0/summary/", "/api/v0/summary"),
        ("/api/v0/tokens/?x=1&y=2", "/api/v0/tokens?x=1&y=2"),
        ("/api/v0/tokens/a%20b/", "/api/v0/tokens/a%20b"),
    ],
)
def test_get_with_a_trailing_slash_is_a_301_with_gins_location_and_html_note(sim, path, location):
    answer = sim.call("GET", path)
    assert answer.status_code == 301
    assert answer.headers["Location"] == location
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    note = location.replace("&", "&amp;")
    assert answer.text == '<a href="%s">Moved Permanently</a>.\n\n' % note


@pytest.mark.parametrize(
    "method, path, location",
    [
        ("POST", "/api/v0/tokens/", "/api/v0/tokens"),
        ("DELETE", "/api/v0/tokens/abc/", "/api/v0/tokens/abc"),
    ],
)
def test_other_methods_with_a_trailing_slash_get_a_307_without_body(sim, method, path, location):
    answer = sim.call(method, path, "store=true")
    assert (answer.status_code, answer.content) == (307, b"")
    assert answer.headers["Location"] == location
    assert "Content-Type" not in answer.headers
    assert sim.control.state_ids() == []


def test_following_the_307_keeps_method_and_headers_so_the_token_is_stored(sim):
    answer = sim.call("POST", "/api/v0/tokens/", "store=true", allow_redirects=True)
    assert answer.status_code == 201
    assert [r.status_code for r in answer.history] == [307]
    assert sim.control.state_ids() == [unb58(answer.text)[:12].hex()]
    log = sim.control.requests()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("POST", "/api/v0/tokens/", 307),
        ("POST", "/api/v0/tokens", 201),
    ]


def test_root_names_the_node_version(sim_factory):
    sim = sim_factory(node_version="0.1.12")
    answer = sim.call("GET", "/")
    assert (answer.status_code, answer.content) == (200, b'{"cafe_version":"v0","node_version":"0.1.12"}')
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"


def test_root_default_version_is_0_7_8(sim):
    assert sim.call("GET", "/").json() == {"cafe_version": "v0", "node_version": "0.7.8"}


def test_health_is_204_without_body(sim):
    answer = sim.call("GET", "/health")
    assert (answer.status_code, answer.content) == (204, b"")
    assert "Content-Type" not in answer.headers


def test_summary_is_jsonpb_without_charset(sim):
    answer = sim.call("GET", "/api/v0/summary")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    summary = json.loads(answer.content)
    assert set(summary) == {"id", "address"}  # zero counts are omitted
    assert summary["address"].startswith("P")


# ---------------------------------------------------------------- Basic Auth


ADDRESS = "P7SimAccountAddress"
PIN = "s3cret pin"


@pytest.fixture
def auth_sim(sim_factory):
    return sim_factory(username=ADDRESS, password=PIN)


@pytest.mark.parametrize("auth", [None, (ADDRESS, "wrong"), ("other", PIN), (ADDRESS.lower(), PIN)])
@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/v0/tokens"),
        ("POST", "/api/v0/tokens"),
        ("GET", "/api/v0/tokens/abc"),
        ("DELETE", "/api/v0/tokens/abc"),
        ("GET", "/api/v0/summary"),
    ],
)
def test_basic_auth_failure_is_401_empty_with_realm(auth_sim, auth, method, path):
    answer = auth_sim.call(method, path, "store=true", auth=auth)
    assert (answer.status_code, answer.content) == (401, b"")
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="Authorization Required"'
    assert "Content-Type" not in answer.headers
    assert auth_sim.control.state_ids() == []


def test_basic_auth_header_must_match_exactly(auth_sim):
    good = "Basic " + base64.b64encode(("%s:%s" % (ADDRESS, PIN)).encode()).decode()
    assert auth_sim.call("GET", "/api/v0/tokens", headers={"Authorization": good}).status_code == 200
    for header in (good.replace("Basic", "basic"), good + "x", "Bearer " + good[6:]):
        assert auth_sim.call("GET", "/api/v0/tokens", headers={"Authorization": header}).status_code == 401


def test_basic_auth_compares_the_utf8_bytes_as_gin_does(sim_factory):
    """gin builds the header it expects from Go strings (UTF-8) and compares it whole: a pin with an umlaut
    authenticates only when the client sends UTF-8 (requests' default for text, latin-1, gets a 401)."""
    umlaut = sim_factory(username=ADDRESS, password="p\u00e4ss")

    def header(encoding):
        return {"Authorization": "Basic " + base64.b64encode(("%s:p\u00e4ss" % ADDRESS).encode(encoding)).decode()}

    assert umlaut.call("GET", "/api/v0/tokens", headers=header("utf-8")).status_code == 200
    assert umlaut.call("GET", "/api/v0/tokens", headers=header("latin-1")).status_code == 401


def test_basic_auth_success_and_handler_401_differs_from_auth_401(auth_sim):
    created = auth_sim.create(auth=(ADDRESS, PIN))
    assert created.status_code == 201
    assert auth_sim.call("GET", "/api/v0/tokens/" + created.text, auth=(ADDRESS, PIN)).text == "ok"
    invalid = auth_sim.call("GET", "/api/v0/tokens/" + b58(new_key()), auth=(ADDRESS, PIN))
    assert (invalid.status_code, invalid.text) == (401, "invalid credentials")
    assert "WWW-Authenticate" not in invalid.headers


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/", 200),
        ("GET", "/health", 204),
        ("GET", "/api/v0/nothing", 404),
        ("POST", "/api/v0/tokens/", 307),
        ("GET", "/api/v0/tokens/", 301),
    ],
)
def test_routes_outside_the_auth_group_and_unrouted_paths_need_no_auth(auth_sim, method, path, status):
    assert auth_sim.call(method, path).status_code == status


def test_following_the_307_without_credentials_ends_in_the_auth_401(auth_sim):
    answer = auth_sim.call("POST", "/api/v0/tokens/", "store=true", allow_redirects=True)
    assert answer.status_code == 401 and "WWW-Authenticate" in answer.headers


def test_auth_needs_both_username_and_password():
    from ansible_collections.textileio.textile.tests.unit.simulator.simhelpers import sim_module

    with pytest.raises(ValueError):
        sim_module.SimServer(password="x")
    with pytest.raises(ValueError):
        sim_module.SimServer(username="x")


def test_keep_alive_connection_serves_several_requests(sim):
    with requests.Session() as session:
        first = session.post(sim.url + "/api/v0/tokens", headers={"X-Textile-Opts": "store=true"})
        second = session.get(sim.url + "/api/v0/tokens")
        third = session.delete(sim.url + "/api/v0/tokens/" + first.text)
    assert (first.status_code, second.status_code, third.status_code) == (201, 200, 204)
    assert sim.control.state_ids() == []


def test_a_bad_escape_in_the_request_path_is_gos_400(sim):
    import http.client  # pylint: disable=import-outside-toplevel

    conn = http.client.HTTPConnection("127.0.0.1", sim.server.port, timeout=10)
    try:
        conn.request("GET", "/api/v0/tokens/%zz")
        answer = conn.getresponse()
        assert (answer.status, answer.read()) == (400, b"400 Bad Request")
        assert answer.getheader("Content-Type") == "text/plain; charset=utf-8"
        assert answer.getheader("Connection") == "close"
    finally:
        conn.close()


def test_an_escaped_path_is_routed_decoded_like_gin(sim):
    token = sim.create().text
    escaped = "".join("%%%02x" % ord(char) for char in token)
    assert sim.call("GET", "/api/v0/tokens/" + escaped).text == "ok"
    assert sim.call("GET", "/api/v0%2Ftokens").status_code == 200  # gin routes on the decoded path


@pytest.mark.parametrize(
    "node_version, prefix, location",
    [
        ("0.7.8", "/textile", "/textile/api/v0/tokens"),  # gin 1.4.0 honours the proxy's prefix
        ("0.7.8", "/textile/", "/textile/api/v0/tokens"),
        ("0.7.8", "/", "/api/v0/tokens"),
        ("0.7.8", "/a/../b/./c", "/b/c/api/v0/tokens"),
        ("0.7.8", "rel", "rel/api/v0/rel/api/v0/tokens"),  # http.Redirect resolves a relative path against itself
        ("0.7.2", "/textile", "/api/v0/tokens"),  # gin 1.3.0 ignores it
        ("0.1.12", "/textile", "/api/v0/tokens"),
    ],
)
def test_redirect_and_x_forwarded_prefix_follow_the_gin_version(sim_factory, node_version, prefix, location):
    sim = sim_factory(node_version=node_version)
    answer = sim.call("POST", "/api/v0/tokens/", headers={"X-Forwarded-Prefix": prefix})
    assert (answer.status_code, answer.headers["Location"]) == (307, location)


def test_go_path_clean_matches_go():
    from ansible_collections.textileio.textile.tests.unit.simulator.simhelpers import sim_module

    cases = {
        "": ".",
        "/": "/",
        "//a//b/": "/a/b",
        "a/../..": "..",
        "/../a": "/a",
        "./": ".",
        "a/./b/..": "a",
        "/a/b/../../..": "/",
    }
    assert {path: sim_module.go_path_clean(path) for path in cases} == cases
