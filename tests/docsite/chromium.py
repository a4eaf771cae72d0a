# Copyright (c) textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Headless Chromium (Debian's chromium package) driven over the DevTools protocol on a pipe.

``--remote-debugging-pipe`` makes Chromium read protocol messages (JSON, each ended by a NUL byte) on its
file descriptor 3 and write answers and events on 4: no port, no network. A page is loaded as a reader
loads it (its style sheets and scripts run), then ``evaluate`` asks the page what it shows.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import time

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]
TIMEOUT = 120.0  # seconds for any one exchange with the browser (a loaded machine is slow, never endless)


class ChromiumError(Exception):
    pass


class Chromium:
    """One headless browser; ``open(url)`` then ``evaluate(expression)``; a context manager."""

    def __init__(self, profile, window_size=(1280, 1800)):
        commands_read, self._commands = os.pipe()
        self._answers, answers_write = os.pipe()

        def to_fds_3_and_4():  # in the child: the protocol's descriptors, whatever numbers the pipes got
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (commands_read, answers_write)]
            os.dup2(high[0], 3)  # inheritable: Chromium gets them, and only them (the pipes are close-on-exec)
            os.dup2(high[1], 4)

        self._process = subprocess.Popen(
            [
                CHROMIUM,
                *FLAGS,
                "--user-data-dir=%s" % profile,
                "--window-size=%d,%d" % window_size,
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,  # closing would come after preexec_fn, and close 3 and 4 again
            preexec_fn=to_fds_3_and_4,  # noqa: PLW1509 (single-threaded caller)
        )
        os.close(commands_read)
        os.close(answers_write)
        self._buffer = b""
        self._next_id = 0
        self._events = []
        self._session = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        if self._process.poll() is None:
            try:
                self._send("Browser.close", session=False)
            except (ChromiumError, OSError):
                pass
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=30)
        for fd in (self._commands, self._answers):
            try:
                os.close(fd)
            except OSError:
                pass

    def open(self, url):
        """Load ``url`` in a new tab and wait for its load event."""
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)
        self._session = attached["sessionId"]
        self.call("Page.enable")
        self._events.clear()
        navigated = self.call("Page.navigate", {"url": url})
        if navigated.get("errorText"):
            raise ChromiumError("cannot open %s: %s" % (url, navigated["errorText"]))
        self._wait_event("Page.loadEventFired")

    def evaluate(self, expression):
        """The value of a JavaScript ``expression`` in the page (JSON-serialisable)."""
        answer = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in answer:
            raise ChromiumError("the page's script failed: %s" % answer["exceptionDetails"].get("text"))
        return answer["result"].get("value")

    def screenshot(self):
        """A PNG of the visible part of the page."""
        import base64  # pylint: disable=import-outside-toplevel

        return base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"])

    def call(self, method, params=None, session=True):
        message_id = self._send(method, params, session)
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._receive(deadline)
            if message.get("id") == message_id:
                if "error" in message:
                    raise ChromiumError("%s: %s" % (method, message["error"].get("message")))
                return message.get("result", {})
            if "method" in message:
                self._events.append(message)

    def _send(self, method, params=None, session=True):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        data = json.dumps(message).encode("utf-8") + b"\0"
        while data:
            data = data[os.write(self._commands, data) :]
        return self._next_id

    def _wait_event(self, method):
        deadline = time.monotonic() + TIMEOUT
        while True:
            for event in self._events:
                if event["method"] == method and event.get("sessionId") == self._session:
                    return event
            self._events.append(self._receive(deadline))

    def _receive(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChromiumError("no answer from Chromium within %d seconds" % TIMEOUT)
            ready = select.select([self._answers], [], [], left)[0]
            if ready:
                chunk = os.read(self._answers, 1 << 20)
                if not chunk:
                    raise ChromiumError("Chromium ended (exit code %s)" % self._process.poll())
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)
