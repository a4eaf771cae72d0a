# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS: certificate validation with the wrong CA fails clearly; the right ca_path works; validate_certs off works."""

from __future__ import annotations

import re

import pytest
import requests

from ansible_collections.textileio.textile.tests.scenarios.harness import FAST, attempt, ids_of, playbook
from ansible_collections.textileio.textile.tests.simulator import tlsutil

# Many hosts export a CA bundle for requests; ca_path and validate_certs=false must still be obeyed there.
ENVIRONMENTS = {
    "no CA bundle variables": {"REQUESTS_CA_BUNDLE": None, "CURL_CA_BUNDLE": None},
    "REQUESTS_CA_BUNDLE set": {"REQUESTS_CA_BUNDLE": requests.certs.where(), "CURL_CA_BUNDLE": None},
    "CURL_CA_BUNDLE set": {"REQUESTS_CA_BUNDLE": None, "CURL_CA_BUNDLE": requests.certs.where()},
}


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    """A CA that did not sign the simulator's certificate (made with the helper that made ``tls_ca``)."""
    return tlsutil.make_test_ca(str(tmp_path_factory.mktemp("other-ca")), name="some other CA").ca_cert


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_certificate_validation(environment, sim_factory, tls_ca, other_ca, new_token, run_playbook):
    sim = sim_factory(tls=True)
    assert sim.url.startswith("https://")
    token = new_token()
    result = run_playbook(
        playbook(
            [
                attempt("default CAs", api_url=sim.url, tokens=[token], retries=0),
                attempt("wrong CA", api_url=sim.url, tokens=[token], ca_path=other_ca, retries=0),
                attempt("right CA", api_url=sim.url, tokens=[token], ca_path=tls_ca.ca_cert),
                attempt("no validation", api_url=sim.url, tokens=[token], validate_certs=False),
            ]
        ),
        env=dict(FAST, **ENVIRONMENTS[environment]),
    )

    for name in ("default CAs", "wrong CA"):
        outcome = result[name]
        assert outcome.get("failed"), name
        assert re.search(r"certificate|TLS", outcome["msg"]), outcome["msg"]
        assert "ca_path" in outcome["msg"] and "validate_certs" in outcome["msg"]
        assert not outcome.get("created_ids")
    assert not result["right CA"].get("failed"), result["right CA"].get("msg")
    assert result["right CA"]["created_ids"] == ids_of([token])
    assert not result["no validation"].get("failed"), result["no validation"].get("msg")
    assert result["no validation"]["ids"] == ids_of([token]) and result["no validation"]["changed"] is False
    assert sim.control.state_ids() == ids_of([token])
    posts = [r for r in sim.control.requests() if r["method"] == "POST"]
    assert len(posts) == 1, "only the run with the right CA may import"
