"""`make demo`'s last step: start the web app, check that it answers, keep it up a few seconds, stop it.

`python -m assist.smoke [--seconds 10] -- SERVE_ARGS...` runs `python -m assist serve SERVE_ARGS --api` on a
free 127.0.0.1 port, asks it for a draft of assist/examples/post.txt through gradio_client (the same API
route the README documents), keeps it running until `--seconds` have passed since it answered the page,
then stops it with SIGTERM and checks that it exited cleanly (status 0). Exit status 0 when all held.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

EXAMPLE_POST = Path(__file__).resolve().parent / "examples" / "post.txt"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assist.smoke", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="How long the app stays up once it answers."
    )
    parser.add_argument(
        "--start_timeout", type=float, default=300.0, help="Seconds allowed to load and start."
    )
    parser.add_argument("serve_args", nargs=argparse.REMAINDER, help="Arguments of `python -m assist serve`.")
    args = parser.parse_args(argv)
    serve_args = [a for a in args.serve_args if a != "--"]
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    cmd = [
        sys.executable,
        "-m",
        "assist",
        "serve",
        *serve_args,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--api",
    ]
    proc = subprocess.Popen(cmd, env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    try:
        deadline = time.monotonic() + args.start_timeout
        while True:
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except OSError:
                if proc.poll() is not None:
                    print(
                        f"assist.smoke: the app exited with status {proc.returncode} before answering",
                        file=sys.stderr,
                    )
                    return 1
                if time.monotonic() > deadline:
                    print(
                        f"assist.smoke: the app did not answer within {args.start_timeout:.0f} s",
                        file=sys.stderr,
                    )
                    return 1
                time.sleep(0.5)
        up = time.monotonic()
        from gradio_client import Client

        client = Client(url, verbose=False)
        post = EXAMPLE_POST.read_text(encoding="utf-8")
        _crisis, draft, message = client.predict(post, False, 0.7, 0.9, 24, 0, api_name="/draft")
        if message or not draft:
            print(f"assist.smoke: no draft from {url} ({message or 'empty reply'})", file=sys.stderr)
            return 1
        print(f"assist.smoke: {url} answered with a draft of {len(draft)} characters")
        time.sleep(max(0.0, args.seconds - (time.monotonic() - up)))
    finally:
        if proc.poll() is None:
            proc.terminate()
    status = proc.wait(timeout=60)
    if status != 0:
        print(f"assist.smoke: the app exited with status {status} on SIGTERM", file=sys.stderr)
        return 1
    print("assist.smoke: the app stopped cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
