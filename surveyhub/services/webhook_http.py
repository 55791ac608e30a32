"""One webhook attempt over HTTP: pinned to the checked address, one deadline for the whole exchange.

The connection goes to the address ``webhooks.check_url`` resolved (no second DNS lookup an attacker could
rebind), with the URL's host in the Host header and the TLS name check; no proxy from the environment
(``http.client`` reads none); redirects are not followed; at most ``MAX_ANSWER`` bytes of the answer are
read. ``services.webhook_delivery`` claims, retries and logs.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from surveyhub.services import webhooks
from surveyhub.services.errors import N_

#: Bytes of the receiver's answer read (and dropped): enough to end the exchange, not a way to fill memory.
MAX_ANSWER = 4096
USER_AGENT = "SurveyHub-Webhooks/1"
NO_ANSWER = N_("No answer within %(seconds)s seconds.")
reason = webhooks.stored_reason


class _Deadline:
    """The end of one attempt. A receiver that trickles its answer a byte at a time keeps every socket read
    under the socket timeout, so a timer cuts the connection off when the attempt's time is up."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.passed = False

    def left(self) -> float:
        return self.end - time.monotonic()

    def watch(self, connection: http.client.HTTPConnection) -> threading.Timer:
        timer = threading.Timer(max(self.left(), 0.0), self._cut, (connection,))
        timer.daemon = True
        timer.start()
        return timer

    def _cut(self, connection: http.client.HTTPConnection) -> None:
        self.passed = True
        sock = connection.sock
        if sock is not None:
            try:  # the plain socket's shutdown, also under TLS: a blocked read returns at once
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def connected(self, sock: socket.socket) -> socket.socket:
        if self.passed or self.left() <= 0:  # the timer fired while connecting, before there was a socket
            sock.close()
            raise TimeoutError
        return sock


class _Pinned(http.client.HTTPConnection):
    """HTTP to the address the check resolved, with the URL's host in the Host header."""

    def __init__(self, host: str, port: int, *, address: str, deadline: _Deadline):
        super().__init__(host, port, timeout=max(deadline.left(), 0.01))
        self._address, self._deadline = address, deadline

    def connect(self) -> None:
        self.sock = self._deadline.connected(socket.create_connection((self._address, self.port), self.timeout))


class _PinnedTLS(http.client.HTTPSConnection):
    """HTTPS to the checked address; the certificate is checked against the URL's host name (SNI)."""

    def __init__(self, host: str, port: int, *, address: str, deadline: _Deadline):
        super().__init__(host, port, timeout=max(deadline.left(), 0.01), context=ssl.create_default_context())
        self._address, self._deadline = address, deadline

    def connect(self) -> None:
        sock = self._deadline.connected(socket.create_connection((self._address, self.port), self.timeout))
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Answer:
    status: int | None
    #: None when delivered; else the stored reason (``reason``).
    error: str | None


def post(target: webhooks.Target, headers: dict, body: bytes, *, timeout: float) -> Answer:
    """POST once, trying the checked addresses in turn until one connects; never follows a redirect.

    ``timeout`` bounds the whole attempt over all addresses, not each socket operation."""
    error = reason(N_("The address could not be reached."))
    deadline = _Deadline(timeout)
    no_answer = reason(NO_ANSWER, seconds=max(int(timeout), 1))
    for address in target.addresses:
        if deadline.left() <= 0:
            return Answer(None, no_answer)
        cls = _PinnedTLS if target.scheme == "https" else _Pinned
        connection = cls(target.host, target.port, address=address, deadline=deadline)
        timer = deadline.watch(connection)
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(MAX_ANSWER)
            status = response.status
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if deadline.passed or isinstance(exc, TimeoutError):
                return Answer(None, no_answer)
            if isinstance(exc, ssl.SSLError):
                return Answer(None, reason(N_("The secure connection failed (certificate or TLS).")))
            if isinstance(exc, ConnectionRefusedError):
                error = reason(N_("The connection was refused."))
            else:
                error = reason(N_("The connection failed: %(error)s"), error=type(exc).__name__)
            continue
        finally:
            timer.cancel()
            connection.close()
        if 200 <= status < 300:
            return Answer(status, None)
        if 300 <= status < 400:
            return Answer(status, reason(N_("The receiver answered with a redirect (%(status)s); SurveyHub does "
                                            "not follow redirects. Fill in the final address."), status=status))
        return Answer(status, reason(N_("The receiver answered %(status)s."), status=status))
    return Answer(None, error)


def headers_for(message_id: str, secrets: list[str], body: str, timestamp: int | None = None) -> dict:
    """The Standard Webhooks headers of one attempt (its own timestamp, a signature per secret)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": message_id, "webhook-timestamp": str(stamp),
            "webhook-signature": webhooks.signatures(secrets, message_id, stamp, body),
            "Content-Type": "application/json", "User-Agent": USER_AGENT}
