# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The harness itself, proven with ansible.builtin tasks (no module of the collection needed)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from ansible_collections.textileio.textile.tests.scenarios.harness import token_id
from ansible_collections.textileio.textile.tests.simulator.pytest_plugin import make_token

pytestmark = pytest.mark.compat


def test_results_by_task_recap_and_env(run_playbook):
    result = run_playbook(
        """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the environment
      ansible.builtin.debug:
        msg: "{{ lookup('ansible.builtin.env', 'TEXTILE_API_URL') }}|{{ ansible_python_interpreter }}"
    - name: Change something
      ansible.builtin.command: "true"
      changed_when: true
""",
        env={"TEXTILE_API_URL": "http://127.0.0.1:9"},
    )
    assert result.rc == 0
    import sys  # pylint: disable=import-outside-toplevel

    assert result["Read the environment"]["msg"] == "http://127.0.0.1:9|" + sys.executable
    assert result["Change something"]["changed"] is True
    assert result.changed == 1 and result.failed == 0
    assert "ESTABLISH LOCAL CONNECTION" in result.stdout  # -vvvv text is there
    assert result.task_names == ["Read the environment", "Change something"]


def test_collection_is_found_through_the_symlink(run_playbook, collections_path):
    link = collections_path / "ansible_collections" / "textileio" / "textile"
    assert (link / "galaxy.yml").is_file()
    result = run_playbook(
        """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the collection's runtime metadata
      ansible.builtin.debug:
        msg: "{{ lookup('ansible.builtin.file', collection_dir ~ '/meta/runtime.yml') }}"
""",
        extra_vars={"collection_dir": str(link)},
    )
    assert "textile_cafe_token_info" in result["Read the collection's runtime metadata"]["msg"]


def test_failure_and_expect_rc(run_playbook):
    result = run_playbook(
        """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Fail on purpose
      ansible.builtin.fail:
        msg: boom
""",
        expect_rc=2,
    )
    assert result["Fail on purpose"]["failed"] is True
    assert result.failed == 1
    with pytest.raises(AssertionError, match="exited 2, expected 0"):
        run_playbook("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.fail:\n")


def test_a_registered_secret_in_the_output_fails_without_being_printed(run_playbook, new_token):
    token = new_token()
    playbook = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Leak it
      ansible.builtin.debug:
        msg: "{{ t }}"
"""
    with pytest.raises(AssertionError) as caught:
        run_playbook(playbook, extra_vars={"t": token})
    text = str(caught.value)
    assert token not in text
    assert "<token %s>" % token_id(token) in text and "Leak it" in text


def test_a_secret_in_a_file_the_run_wrote_fails(run_playbook, new_token):
    token = new_token()
    with pytest.raises(AssertionError, match=r"file .*out\.txt"):
        run_playbook(
            """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Write it quietly
      ansible.builtin.copy:
        content: "{{ t }}"
        dest: out.txt
        mode: "0600"
      no_log: true
""",
            extra_vars={"t": token},
        )


def test_secrets_only_in_inputs_pass(run_playbook, new_token):
    token = new_token()
    result = run_playbook(
        """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Use it without showing it
      ansible.builtin.debug:
        msg: "{{ t | length }}"
""",
        extra_vars={"t": token},
    )
    assert int(result["Use it without showing it"]["msg"]) == len(token)


MINT_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Mint a token
      ansible.builtin.debug:
        var: token
    - name: Show its ID
      ansible.builtin.debug:
        msg: "{{ token_len }}"
"""


def test_mint_task_may_show_its_token_once(run_playbook, secrets):
    minted = make_token()  # not registered: the harness registers it from the mint task's result
    result = run_playbook(
        MINT_PLAYBOOK, extra_vars={"token": minted, "token_len": len(minted)}, mint_task="Mint a token"
    )
    assert result["Mint a token"]["token"] == minted
    assert minted in list(secrets)


def test_minted_token_elsewhere_fails(run_playbook):
    minted = make_token()
    with pytest.raises(AssertionError, match="minted token .* in stdout section 'TASK \\[Show its ID\\]"):
        run_playbook(MINT_PLAYBOOK, extra_vars={"token": minted, "token_len": minted}, mint_task="Mint a token")


def test_mask_in_msg_fails(run_playbook):
    with pytest.raises(AssertionError, match=r"(?s)masked as \*{8}.*'Masked'"):
        run_playbook("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Masked
      ansible.builtin.debug:
        msg: "value ******** here"
""")


def test_check_diff_and_several_hosts(run_playbook):
    result = run_playbook(
        """
- hosts: cafes
  gather_facts: false
  tasks:
    - name: Would write a file
      ansible.builtin.copy:
        content: "{{ inventory_hostname }}\\n"
        dest: "{{ inventory_hostname }}.txt"
        mode: "0640"
""",
        inventory={"all": {"children": {"cafes": {"hosts": {"cafe1": {}, "cafe2": {}}}}}},
        check=True,
        diff=True,
    )
    per_host = result.host_results("Would write a file")
    assert sorted(per_host) == ["cafe1", "cafe2"]
    assert all(r["changed"] and r["diff"] for r in per_host.values())
    assert result.changed == 2
    assert not list((result.run_dir / "work").glob("*.txt"))  # check mode wrote nothing


def test_sim_fixture(sim, new_token):
    """The simulator starts on a loopback port, answers go-textile's routes and its control API."""
    token = new_token()
    assert sim.url.startswith("http://127.0.0.1:")
    assert sim.control.state_ids() == []
    sim.control.seed([token])
    assert sim.control.state_ids() == [token_id(token)]
    with urllib.request.urlopen(sim.url + "/api/v0/tokens", timeout=10) as answer:
        assert len(json.loads(answer.read())) == 1
    assert [r["path"] for r in sim.control.requests()] == ["/api/v0/tokens"]
