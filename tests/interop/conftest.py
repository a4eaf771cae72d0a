# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The interop suite's fixtures: the simulator's (``sim``), from the plugin every suite loads."""

pytest_plugins = ["ansible_collections.textileio.textile.tests.simulator.pytest_plugin"]
