"""Run the editor on uvicorn: :func:`serve`.

Examples
--------
>>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0")
(True, False)
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable
from typing import Any

from pointplan.serve.sessions import ServeConfig

__all__ = ["address", "is_loopback", "serve"]


def is_loopback(host: str) -> bool:
    """Return whether ``host`` is only reachable from this machine.

    Examples
    --------
    >>> is_loopback("localhost"), is_loopback("::1"), is_loopback("192.168.1.5")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def address(host: str, port: int, token: str | None = None) -> str:
    """Return the address to open (with ``?token=`` when a token is needed).

    Examples
    --------
    >>> address("127.0.0.1", 8765), address("::", 80, "abc")
    ('http://127.0.0.1:8765/', 'http://[::]:80/?token=abc')
    """
    name = f"[{host}]" if ":" in host else host
    return f"http://{name}:{port}/" + (f"?token={token}" if token else "")


def serve(
    config: ServeConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    announce: Callable[[str], Any] = print,
    log_level: str = "warning",
) -> None:
    """Serve the editor until interrupted; a host other than loopback gets a token.

    Parameters
    ----------
    config
        What to serve. ``config.token`` is generated when ``host`` is not a loopback
        address and no token was given; ``config.allowed_hosts`` is set to the loopback
        names on a loopback host.
    host, port
        Where to listen (default ``127.0.0.1:8765``).
    announce
        Called with the address to open (printed by default).
    log_level
        uvicorn's log level.

    Examples
    --------
    >>> callable(serve)
    True
    >>> serve(ServeConfig(None, None, None, None), port=8765)  # doctest: +SKIP
    """
    import uvicorn

    from pointplan.serve.app import create_app

    if is_loopback(host):
        config.allowed_hosts = config.allowed_hosts or ("127.0.0.1", "localhost", "::1")
    elif not config.token:
        config.token = secrets.token_urlsafe(24)
    app = create_app(config, warm=True)
    announce(address(host, port, config.token))
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
