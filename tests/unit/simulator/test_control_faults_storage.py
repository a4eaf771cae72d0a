# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulator's control API, fault injection, SQLite storage, logs, TLS and subprocess handling."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from ansible_collections.textileio.textile.tests.simulator import tlsutil
from ansible_collections.textileio.textile.tests.unit.simulator.simhelpers import (
    b58,
    new_key,
    requests,
    sim_module,
    unb58,
)

# ---------------------------------------------------------------- control API


def test_state_lists_sorted_ids_and_seed_stores_validating_tokens(sim):
    keys = [new_key() for _i in range(3)]
    ids = sim.control.seed([b58(key) for key in keys])
    assert ids == [key[:12].hex() for key in keys]
    assert sim.control.state_ids() == sorted(ids)
    for key in keys:
        assert sim.call("GET", "/api/v0/tokens/" + b58(key)).text == "ok"


def test_seed_rejects_bad_tokens_without_echoing_them(sim):
    bad = b58(new_key()[:40])
    with pytest.raises(RuntimeError) as err:
        sim.control.seed([b58(new_key()), bad])
    assert "tokens[1]" in str(err.value) and bad not in str(err.value)


def test_request_log_redacts_token_segments_and_import_opts(sim):
    token = sim.create().text
    token_id = unb58(token)[:12].hex()
    segment = b58(unb58(token)[:12] + b"\0" * 32)
    sim.call("GET", "/api/v0/tokens/" + token)
    sim.call("DELETE", "/api/v0/tokens/" + segment)
    sim.create("token=%s,store=true" % token, headers={"X-Textile-Args": "a,b"})
    sim.create("token=,store=false")
    log = sim.control.requests()
    assert [(e["method"], e["path"], e["status"], e["secret_in_path"]) for e in log] == [
        ("POST", "/api/v0/tokens", 201, False),
        ("GET", "/api/v0/tokens/" + token_id, 200, True),
        ("DELETE", "/api/v0/tokens/" + token_id, 204, False),
        ("POST", "/api/v0/tokens", 201, False),
        ("POST", "/api/v0/tokens", 201, False),
    ]
    assert log[0]["headers"] == {"X-Textile-Args": None, "X-Textile-Opts": "store=true"}
    assert log[3]["headers"] == {"X-Textile-Args": "a,b", "X-Textile-Opts": "token=<redacted>,store=true"}
    assert log[4]["headers"]["X-Textile-Opts"] == "token=,store=false"
    assert token not in repr(log)


def test_request_log_keeps_empty_headers_apart_from_absent_ones(sim):
    sim.call("GET", "/api/v0/tokens", headers={"X-Textile-Args": "", "X-Textile-Opts": ""})
    sim.call("GET", "/api/v0/tokens")
    first, second = sim.control.requests()
    assert first["headers"] == {"X-Textile-Args": "", "X-Textile-Opts": ""}
    assert second["headers"] == {"X-Textile-Args": None, "X-Textile-Opts": None}


def test_control_calls_are_not_logged_and_clear_and_reset_work(sim):
    sim.create()
    sim.control.state_ids()
    sim.control.faults()
    assert len(sim.control.requests()) == 1
    sim.control.clear_requests()
    assert sim.control.requests() == []
    sim.control.add_fault(action="status", status=500)
    sim.create()
    sim.control.reset()
    assert sim.control.state_ids() == [] and sim.control.requests() == [] and sim.control.faults() == []


def test_unknown_control_route_is_404_json(sim):
    answer = requests.get(sim.url + "/_sim/nothing", timeout=10)
    assert answer.status_code == 404 and "error" in answer.json()


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"action": "explode"},
        {"action": "status", "rate": 2},
        {"action": "drop", "count": 0},
        {"action": "delay", "colour": "red"},
        {"action": "delay", "store_first": "not a list"},
        {"action": "delay", "store_first": ["0OIl"]},
        {"action": "delay", "store_first": ["2g"]},
    ],
)
def test_invalid_fault_specs_are_refused(sim, spec):
    answer = requests.post(sim.url + "/_sim/faults", json=spec, timeout=10)
    assert answer.status_code == 400
    assert sim.control.faults() == []


# ---------------------------------------------------------------- faults


def test_status_fault_for_the_next_n_matching_requests(sim):
    sim.control.add_fault(action="status", status=503, body="busy", count=2, method="GET", path="/api/v0/tokens")
    assert sim.call("GET", "/").status_code == 200  # other path: not faulted
    assert sim.create().status_code == 201  # other method: not faulted
    answers = [sim.call("GET", "/api/v0/tokens") for _i in range(3)]
    assert [(a.status_code, a.text) for a in answers[:2]] == [(503, "busy")] * 2
    assert answers[0].headers["Content-Type"] == "text/plain; charset=utf-8"
    assert answers[2].status_code == 200
    assert sim.control.faults() == []
    log = sim.control.requests()
    assert [(e["status"], e["fault"]) for e in log[2:]] == [(503, "status"), (503, "status"), (200, None)]


def test_status_fault_short_circuits_the_handler(sim):
    sim.control.add_fault(action="status", status=502, method="POST", count=1)
    assert sim.create().status_code == 502
    assert sim.control.state_ids() == []


def test_path_prefix_fault(sim):
    token = sim.create().text
    sim.control.add_fault(action="status", status=504, path_prefix="/api/v0/tokens/", count=1)
    assert sim.call("GET", "/api/v0/tokens").status_code == 200
    assert sim.call("DELETE", "/api/v0/tokens/" + token).status_code == 504
    assert sim.call("DELETE", "/api/v0/tokens/" + token).status_code == 204


def test_drop_fault_closes_the_connection_without_answer(sim):
    sim.control.add_fault(action="drop", count=1)
    with pytest.raises(requests.ConnectionError):
        sim.call("GET", "/api/v0/tokens")
    assert sim.call("GET", "/api/v0/tokens").status_code == 200
    first, second = sim.control.requests()
    assert (first["status"], first["fault"]) == (None, "drop")
    assert second["status"] == 200


def test_delay_fault_makes_a_short_client_timeout_expire_then_answers_normally(sim):
    sim.control.add_fault(action="delay", delay=1.0, count=1, method="POST")
    with pytest.raises(requests.ReadTimeout):
        sim.create(timeout=0.2)
    deadline = time.monotonic() + 10
    while sim.control.requests()[0]["status"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
    (entry,) = sim.control.requests()
    assert (entry["status"], entry["fault"]) == (201, "delay")
    assert len(sim.control.state_ids()) == 1  # the slow request was still carried out
    assert sim.create(timeout=5).status_code == 201


def test_a_fault_stores_its_tokens_first_as_another_writer_would(sim):
    racing, other = b58(new_key()), b58(new_key())
    fault = sim.control.add_fault(action="delay", method="POST", count=1, store_first=[racing])
    assert fault["store_first"] == 1 and sim.control.state_ids() == []
    assert sim.call("GET", "/").status_code == 200 and sim.control.state_ids() == []  # not matched: not stored
    assert sim.create(f"token={racing},store=true").status_code == 400  # stored as the import arrived: a duplicate
    assert sim.create(f"token={other},store=true").status_code == 201  # the fault fired once
    assert sim.control.state_ids() == sorted(unb58(token)[:12].hex() for token in (racing, other))


def test_a_racing_writer_that_finds_its_token_stored_stores_nothing_and_the_request_is_answered(sim):
    """Concurrent imports: the faulted request may come after the racing token's own import stored it."""
    racing = b58(new_key())
    sim.control.seed([racing])
    sim.control.add_fault(action="delay", method="POST", count=1, store_first=[racing])
    assert sim.create(f"token={racing},store=true").status_code == 400  # a duplicate, not a dropped connection
    assert [(r["status"], r["fault"]) for r in sim.control.requests()] == [(400, "delay")]
    assert sim.control.state_ids() == [unb58(racing)[:12].hex()]


def test_unlimited_fault_applies_until_cleared(sim):
    sim.control.add_fault(action="status", status=500, body="boom")
    assert [sim.call("GET", "/health").status_code for _i in range(3)] == [500] * 3
    sim.control.clear_faults()
    assert sim.call("GET", "/health").status_code == 204


def test_rate_fault_hits_a_seeded_fraction(sim):
    sim.control.add_fault(action="status", status=503, rate=0.5, seed=7)
    statuses = [sim.call("GET", "/health").status_code for _i in range(40)]
    assert 0 < statuses.count(503) < 40
    assert set(statuses) == {503, 204}
    sim.control.clear_faults()
    sim.control.add_fault(action="status", status=503, rate=0.0)
    assert {sim.call("GET", "/health").status_code for _i in range(10)} == {204}


def test_rate_and_count_together_cap_the_faults(sim):
    sim.control.add_fault(action="status", status=503, rate=0.9, seed=1, count=2)
    statuses = [sim.call("GET", "/health").status_code for _i in range(20)]
    assert statuses.count(503) == 2


def test_faults_never_touch_the_control_api(sim):
    sim.control.add_fault(action="drop")
    assert sim.control.state_ids() == []
    assert len(sim.control.faults()) == 1


# ---------------------------------------------------------------- storage


def test_tokens_persist_in_the_sqlite_file_across_restarts(sim_factory, tmp_path):
    db = str(tmp_path / "cafe.db")
    first = sim_factory(db=db)
    token = first.create().text
    first.server.stop()
    second = sim_factory(db=db)
    assert second.call("GET", "/api/v0/tokens/" + token).text == "ok"
    assert second.control.state_ids() == [unb58(token)[:12].hex()]


def test_sqlite_rows_follow_the_cafe_tokens_schema(sim_factory, tmp_path):
    db = str(tmp_path / "cafe.db")
    sim = sim_factory(db=db)
    before = time.time_ns()
    token = sim.create().text
    after = time.time_ns()
    with sqlite3.connect(db) as conn:
        columns = [(row[1], row[2], row[5]) for row in conn.execute("pragma table_info(cafe_tokens)")]
        rows = conn.execute("select id, token, date from cafe_tokens").fetchall()
    assert columns == [("id", "TEXT", 1), ("token", "BLOB", 0), ("date", "INTEGER", 0)]
    ((row_id, value, date),) = rows
    assert row_id == unb58(token)[:12].hex()
    assert isinstance(value, bytes) and len(value) == 60 and value.startswith(b"$2a$04$")
    assert before <= date <= after


def test_default_bcrypt_cost_is_10(sim_factory):
    sim = sim_factory(bcrypt_cost=10)
    assert sim_module.SimServer().bcrypt_cost == 10
    sim.create()
    (entry,) = sim.call("GET", "/api/v0/tokens").json()
    assert unb58(entry)[12:].startswith(b"$2a$10$")


def test_in_memory_store_starts_empty_per_server(sim_factory):
    sim_factory().create()
    assert sim_factory().control.state_ids() == []


# ---------------------------------------------------------------- logs never hold a token


def _exercise(sim):
    token = sim.create().text
    imported = b58(new_key())
    sim.create("token=%s,store=true" % imported)
    sim.call("GET", "/api/v0/tokens/" + token)
    sim.call("GET", "/api/v0/tokens/" + token + "0")  # malformed, still holds the token
    sim.call("GET", "/api/v0/tokens/" + token + "/")  # redirect
    sim.call("DELETE", "/api/v0/tokens/" + imported)
    sim.call("PUT", "/api/v0/tokens/" + token)  # 404
    return [token, imported]


def test_in_process_log_lines_never_hold_a_token(sim):
    tokens = _exercise(sim)
    text = "\n".join(sim.server.log_lines)
    assert len(sim.server.log_lines) == 7
    for token in tokens:
        assert token not in text and token[10:40] not in text
    assert unb58(tokens[0])[:12].hex() in text


def test_subprocess_log_never_holds_a_token():
    with sim_module.SimProcess(bcrypt_cost=4) as proc:
        sim = _SimLike(proc)
        tokens = _exercise(sim)
    text = proc.log_text()
    assert text.startswith("listening on %s\n" % proc.url)
    assert text.count("[GIN]") == 7
    for token in tokens:
        assert token not in text and token[10:40] not in text


class _SimLike:
    def __init__(self, proc):
        self.url = proc.url

    def call(self, method, path, opts=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if opts is not None:
            headers["X-Textile-Opts"] = opts
        return requests.request(method, self.url + path, headers=headers, allow_redirects=False, timeout=30)

    def create(self, opts="store=true"):
        return self.call("POST", "/api/v0/tokens", opts)


# ---------------------------------------------------------------- subprocess, command line, TLS


def test_sim_process_serves_writes_the_port_and_stops(tmp_path):
    port_file = str(tmp_path / "port")
    proc = sim_module.SimProcess(bcrypt_cost=4, port_file=port_file, node_version="0.2.0")
    try:
        with open(port_file, encoding="ascii") as handle:
            assert int(handle.read()) == proc.port
        assert proc.url == "http://127.0.0.1:%d" % proc.port
        assert requests.get(proc.url + "/", timeout=10).json()["node_version"] == "0.2.0"
        assert proc.control.state_ids() == []
    finally:
        proc.stop()
    assert proc.process.returncode == 0  # SIGTERM is a clean stop
    with pytest.raises(requests.ConnectionError):
        requests.get(proc.url + "/", timeout=5)


def test_command_line_stops_cleanly_on_sigint(tmp_path):
    port_file = tmp_path / "port"
    script = sim_module.__file__
    with subprocess.Popen(
        [sys.executable, script, "--port-file", str(port_file), "--bcrypt-cost", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as child:
        line = child.stdout.readline().decode()
        assert line == "listening on http://127.0.0.1:%s\n" % port_file.read_text().strip()
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=10) == 0


@pytest.mark.parametrize(
    "args", [["--host", "0.0.0.0"], ["--username", "u"], ["--bcrypt-cost", "3"], ["--tls-cert", "/nonexistent"]]
)
def test_command_line_refuses_bad_options(args):
    result = subprocess.run([sys.executable, sim_module.__file__] + args, capture_output=True, timeout=30, check=False)
    assert result.returncode == 2 and b"error" in result.stderr


def test_https_with_the_generated_ca(sim_factory, tmp_path):
    ca = tlsutil.make_test_ca(str(tmp_path / "ca"))
    other = tlsutil.make_test_ca(str(tmp_path / "other"))
    sim = sim_factory(tls_cert=ca.server_cert, tls_key=ca.server_key)
    assert sim.url.startswith("https://127.0.0.1:")
    assert requests.get(sim.url + "/health", verify=ca.ca_cert, timeout=10).status_code == 204
    localhost = sim.url.replace("127.0.0.1", "localhost")
    assert requests.get(localhost + "/health", verify=ca.ca_cert, timeout=10).status_code == 204
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(sim.url + "/health", verify=other.ca_cert, timeout=10)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(sim.url + "/health", timeout=10)  # system CAs do not know it
    with pytest.warns(Warning):  # urllib3 warns about the unverified request
        assert requests.get(sim.url + "/health", verify=False, timeout=10).status_code == 204
    # a refused handshake is not a request: nothing logged, server still fine
    assert [e["path"] for e in sim.control.requests()] == ["/health"] * 3


def test_https_subprocess_and_client_cert_files(tmp_path):
    ca = tlsutil.make_test_ca(str(tmp_path / "ca"))
    assert all(os.path.getsize(path) > 0 for path in ca)
    with sim_module.SimProcess(
        bcrypt_cost=4, tls_cert=ca.server_cert, tls_key=ca.server_key, cafile=ca.ca_cert
    ) as proc:
        assert proc.url.startswith("https://")
        answer = requests.get(proc.url + "/", verify=ca.ca_cert, cert=(ca.client_cert, ca.client_key), timeout=10)
        assert answer.status_code == 200
        assert proc.control.state_ids() == []


def test_openssl_fallback_makes_a_working_ca(sim_factory, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "cryptography", None)  # import fails: the openssl CLI is used
    ca = tlsutil.make_test_ca(str(tmp_path / "ossl"))
    sim = sim_factory(tls_cert=ca.server_cert, tls_key=ca.server_key)
    assert requests.get(sim.url + "/", verify=ca.ca_cert, timeout=10).status_code == 200


def test_loopback_only():
    with pytest.raises(ValueError):
        sim_module.SimServer(host="0.0.0.0")


def test_ipv6_loopback(sim_factory):
    try:
        sim = sim_factory(host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    assert sim.url.startswith("http://[::1]:")
    assert sim.call("GET", "/health").status_code == 204


def test_short_import_values_are_logged_verbatim_and_credentials_never(sim_factory):
    sim = sim_factory(username="P1", password="pin-1234")
    sim.create("token=abc,store=true", auth=("P1", "pin-1234"))
    (entry,) = sim.control.requests()
    assert entry["headers"]["X-Textile-Opts"] == "token=abc,store=true"  # too short to be a token
    lines = dict(entry["header_lines"])
    assert lines["Authorization"] == "<redacted>"
    assert lines["X-Textile-Opts"] == "token=abc,store=true"
    assert "pin-1234" not in repr(sim.control.requests()) and "pin-1234" not in "\n".join(sim.server.log_lines)


def test_server_exposes_a_control_client_once_started():
    server = sim_module.SimServer(bcrypt_cost=4)
    assert server.control is None
    with server:
        assert isinstance(server.control, sim_module.SimControl)
        assert server.control.url == server.url
        assert server.control.state_ids() == []


def _alive(pid):
    try:
        with open("/proc/%d/status" % pid, encoding="ascii") as handle:
            return "\nState:\tZ" not in handle.read()
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to watch the process")
def test_sim_process_does_not_outlive_a_killed_test_process():
    code = (
        "import sys, time; sys.path.insert(0, %r); import textile_sim; "
        "proc = textile_sim.SimProcess(bcrypt_cost=4); print(proc.process.pid, flush=True); time.sleep(600)"
        % os.path.dirname(sim_module.__file__)
    )
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE) as parent:
        pid = int(parent.stdout.readline())
        assert _alive(pid)
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 20
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)


def test_status_fault_with_headers_and_a_204(sim):
    sim.control.add_fault(action="status", status=401, headers={"WWW-Authenticate": 'Basic realm="proxy"'}, count=1)
    sim.control.add_fault(action="status", status=204, method="DELETE", count=1)
    answer = sim.call("GET", "/api/v0/tokens")
    assert (answer.status_code, answer.content) == (401, b"")
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="proxy"'
    kept = sim.create().text
    removed = sim.call("DELETE", "/api/v0/tokens/" + kept)
    assert (removed.status_code, removed.content) == (204, b"")
    assert "Content-Type" not in removed.headers
    assert sim.control.state_ids() == [unb58(kept)[:12].hex()]  # the fault answered, nothing was removed
