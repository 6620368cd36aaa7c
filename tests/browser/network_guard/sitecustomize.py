"""Test-only network guard. Python imports this module at start-up when its folder is on PYTHONPATH.

With ``MODELWORKS_NETWORK_GUARD=1`` in the environment, every attempt of the process to resolve a
name other than ``localhost`` or to connect or send to an address outside the loopback network is
refused (the call raises ``OSError``) and recorded as one JSON line in the file named by
``MODELWORKS_NETWORK_GUARD_LOG`` (or on standard error). It uses ``sys.addaudithook``, so it sees
every socket opened by Python code, whichever library opens it.

``tests/test_no_outbound_network.py`` and the browser tests run ``modelworks serve`` and
``modelworks worker`` with it, then fail if anything was recorded.
"""

from __future__ import annotations

import os
import sys

if os.environ.get("MODELWORKS_NETWORK_GUARD") == "1":
    import ipaddress
    import json
    import socket
    import traceback

    _LOG = os.environ.get("MODELWORKS_NETWORK_GUARD_LOG", "")
    _LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}

    def _is_local_host(host: object) -> bool:
        if host is None or host == "":
            return True  # binding to "any address" or a local service name lookup
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        text = str(host).split("%", 1)[0].strip("[]").lower()
        if text in _LOCAL_NAMES:
            return True
        try:
            return ipaddress.ip_address(text).is_loopback
        except ValueError:
            return False

    def _record(event: str, target: object) -> None:
        entry = {
            "pid": os.getpid(),
            "argv": sys.argv[:3],
            "event": event,
            "target": repr(target),
            "stack": traceback.format_stack(limit=12)[:-2],
        }
        line = json.dumps(entry) + "\n"
        if _LOG:
            with open(_LOG, "a", encoding="utf-8") as fh:
                fh.write(line)
        else:
            sys.stderr.write("network guard: " + line)

    def _guard(event: str, args: tuple) -> None:
        if event in ("socket.connect", "socket.sendto"):
            sock, address = args[0], args[1]
            if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
                return  # Unix sockets and the like stay on this machine
            host = address[0] if isinstance(address, tuple) else address
            if not _is_local_host(host):
                _record(event, address)
                raise OSError(f"network guard: outbound connection to {address!r} refused")
        elif event == "socket.getaddrinfo":
            if not _is_local_host(args[0]):
                _record(event, args[0])
                raise socket.gaierror(f"network guard: name lookup of {args[0]!r} refused")
        elif event in ("socket.gethostbyname", "socket.gethostbyaddr"):
            if not _is_local_host(args[0]):
                _record(event, args[0])
                raise OSError(f"network guard: name lookup of {args[0]!r} refused")

    sys.addaudithook(_guard)
