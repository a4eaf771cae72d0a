# Copyright (c) 2026 textileio.textile contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to this collection: it is not part of its public API
# and may change without notice.

"""The send helpers of the JavaScript client that no module of the collection uses.

They are the client's public surface, mirrored from the JavaScript client (design.md "The client"), for
callers other than the modules: ``ExtendedTextileAPI`` is ``TextileAPI`` (``_client.py``) plus
``send_post_multipart`` and ``send_post_cancelable``, kept in their own file so that a module, which never
posts a form or cancels a request, does not carry them (AnsiballZ ships only the module_utils a module imports).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Mapping, Sequence

from ansible_collections.textileio.textile.plugins.module_utils._client import TextileAPI, TextileError
from ansible_collections.textileio.textile.plugins.module_utils._transport import Watch

try:
    from urllib3.filepost import encode_multipart_formdata
except ImportError:
    pass  # TextileAPI already refuses to start without requests (and so without urllib3)


class ExtendedTextileAPI(TextileAPI):
    """TextileAPI with every send helper of the JavaScript client."""

    def send_post_multipart(
        self,
        path: str,
        args: Sequence[object] | None = None,
        opts: Mapping[str, object] | None = None,
        files: Any = None,
        data: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """POST multipart/form-data: ``data`` items become form fields, ``files`` (requests style) file parts."""
        items = files.items() if isinstance(files, dict) else (files or [])
        parts = [(name, (None, value)) for name, value in (data or {}).items()] + list(items)
        if parts:
            return self._send('POST', path, args, opts, headers, {'files': parts})
        body, content_type = encode_multipart_formdata([])
        return self._send(
            'POST', path, args, opts, dict(headers or {}, **{'Content-Type': content_type}), {'data': body}
        )

    def send_post_cancelable(
        self,
        path: str,
        args: Sequence[object] | None = None,
        opts: Mapping[str, object] | None = None,
        data: object = None,
        headers: Mapping[str, str] | None = None,
    ) -> CancelableRequest:
        """Start a POST in a thread and return its CancelableRequest handle."""
        body, headers = self._body(data, headers)
        return CancelableRequest(lambda watch: self._send('POST', path, args, opts, headers, body, watch=watch))


class CancelableRequest:
    """A request running in a thread; ``cancel()`` shuts its connection down (see Watch)."""

    def __init__(self, send: Callable[[Watch], Any]) -> None:
        """``send(watch)`` makes the request under ``watch`` and returns the response."""
        self.watch = Watch()
        self.cancelled = False
        self._outcome: tuple[bool, Any] = (False, None)

        def run() -> None:
            try:
                self._outcome = (True, send(self.watch))
            except Exception as exc:  # pylint: disable=broad-exception-caught
                self._outcome = (False, exc)

        self._thread = threading.Thread(target=run, name='textile-cancelable', daemon=True)
        self._thread.start()

    def done(self) -> bool:
        return not self._thread.is_alive()

    def cancel(self) -> bool:
        """Abort the request in flight; True when it was still running, False when it had finished."""
        self.cancelled = self.cancelled or self.watch.stop('cancelled')
        return self.cancelled

    def result(self, timeout: float | None = None) -> Any:
        """The ``requests.Response``; raises TextileError (kind ``cancelled`` after a cancel)."""
        self._thread.join(timeout)
        if self.cancelled:
            raise TextileError(
                'The request was cancelled before the node answered; it may or may not have been carried out.',
                kind='cancelled',
                method='POST',
            )
        if self._thread.is_alive():
            raise TextileError(
                f'No answer within {timeout} s; the request is still running (cancel() stops it).',
                kind='timeout',
                method='POST',
            )
        ok, value = self._outcome
        if ok:
            return value
        raise value
