# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the get-pip.py that ansible-test downloads to bootstrap pip into its sanity venvs.

ansible-test fetches ``get-pip-<version>.py`` from a host this machine cannot reach, unless
``~/.ansible/test/cache/get_pip_<version with _>.py`` already exists; scripts/test.sh copies this file there.
ansible-test runs it as ``python get_pip.py --disable-pip-version-check pip==X.Y --no-setuptools --no-wheel``
inside a venv created without pip.

Like get-pip.py, it runs a pip it carries, here the wheel bundled with the interpreter's ``ensurepip``, to
install the requested packages from the package index. When that fails (no index reachable), it installs the
bundled pip wheel itself, so the venv has a working pip either way.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys

BOOTSTRAP_ONLY_FLAGS = ('--no-setuptools', '--no-wheel')


def bundled_pip_wheel():
    """Return the path of the pip wheel shipped with this interpreter's ensurepip."""
    import ensurepip  # pylint: disable=import-outside-toplevel

    wheels = glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled', 'pip-*.whl'))
    if not wheels:
        sys.exit('get_pip_standin: this Python has no bundled pip wheel (ensurepip/_bundled is empty)')
    return sorted(wheels)[-1]


def run_pip(wheel, args):
    """Run pip from inside its wheel (pip supports ``python pip.whl/pip``) and return its exit code."""
    return subprocess.call(
        [sys.executable, os.path.join(wheel, 'pip'), 'install', '--upgrade', '--force-reinstall'] + args
    )


def main(argv):
    """Install what get-pip.py would, from ensurepip's wheel; return the exit code."""
    args = [arg for arg in argv if arg not in BOOTSTRAP_ONLY_FLAGS]
    options = [arg for arg in args if arg.startswith('-')]
    wheel = bundled_pip_wheel()
    if not any(not arg.startswith('-') for arg in args):
        args.append('pip')
    if run_pip(wheel, args) == 0:
        return 0
    sys.stderr.write(
        'get_pip_standin: installing %s failed; installing the bundled %s instead\n'
        % (' '.join(args), os.path.basename(wheel))
    )
    return run_pip(wheel, options + ['--no-index', wheel])


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
