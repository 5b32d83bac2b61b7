"""``python -m arm_emulator --port N --storage-endpoint URL [--ca-out PATH] [--traffic-dir DIR] …``

Runs the emulator in the foreground until SIGINT/SIGTERM. Prints ``url=<https url>`` and
``ca=<path of the CA PEM>`` (one per line, flushed) once it serves, so a parent process can read them.
Subscriptions and client credentials given here are registered at start; more can be added through the
control API (``/_emulator/``).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import sys
import threading
from pathlib import Path

from arm_emulator.auth import AppRegistration
from arm_emulator.server import ArmEmulator, EmulatorOptions


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m arm_emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: pick a free one)")
    parser.add_argument("--storage-endpoint", default=None, help="blob service base URL (Azurite or the proxy)")
    parser.add_argument("--ca-out", type=Path, default=None, help="also copy the CA PEM here")
    parser.add_argument("--traffic-dir", type=Path, default=None, help="record Microsoft.Compute exchanges here")
    parser.add_argument("--subscription", action="append", default=[], help="subscription id to serve")
    parser.add_argument(
        "--client", action="append", default=[], metavar="TENANT:CLIENT:SECRET", help="register a client secret"
    )
    parser.add_argument("--no-verify-blobs", action="store_true", help="do not probe VHD blobs")
    parser.add_argument("--verbose", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr)
    options = EmulatorOptions(
        port=args.port,
        storage_endpoint=args.storage_endpoint,
        traffic_dir=args.traffic_dir,
        verify_blobs=not args.no_verify_blobs,
    )
    emulator = ArmEmulator(options)
    for subscription in args.subscription:
        emulator.add_subscription(subscription)
    for spec in args.client:
        tenant, client, secret = spec.split(":", 2)
        emulator.register_client(AppRegistration(tenant_id=tenant, client_id=client, secret=secret))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    emulator.start()
    ca = emulator.ca_path
    if args.ca_out is not None:
        shutil.copyfile(emulator.ca_path, args.ca_out)
        ca = args.ca_out
    sys.stdout.write(f"url={emulator.url}\nca={ca}\n")
    sys.stdout.flush()
    try:
        stop.wait()
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
