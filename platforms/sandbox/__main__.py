"""``python -m platforms.sandbox --port 8025``: run the platform sandbox until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from pathlib import Path

from platforms.sandbox import Sandbox

logger = logging.getLogger("platforms.sandbox")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m platforms.sandbox",
        description="A local platform sandbox speaking the APIs Engage publishes to.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8025, help="port to listen on (default 8025; 0 picks one)"
    )
    parser.add_argument(
        "--accounts",
        type=Path,
        help="a JSON file with a list of extra accounts to let in (see platforms/sandbox/accounts.py)",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    accounts = json.loads(args.accounts.read_text(encoding="utf-8")) if args.accounts else []
    if not isinstance(accounts, list):
        parser.error("--accounts must hold a JSON list of account objects")
    try:
        sandbox = Sandbox.start(args.port, host=args.host, accounts=accounts)
    except ValueError as exc:
        parser.error(f"--accounts: {exc}")
    stopped = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    logger.info("control API: %s/_sandbox/health", sandbox.url)
    stopped.wait()
    logger.info("stopping the platform sandbox")
    sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
