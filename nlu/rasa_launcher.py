"""`rasa run`, with its JWT secret read from standard input: runs in Rasa's environment (Python 3.10).

`python -m nlu.rasa_launcher run --enable-api ...` is `rasa run --enable-api ... --jwt-secret <secret>`, except
that the secret arrives on a pipe (nlu/rasa_server.py writes it there) instead of the command line, which
every local user can read in /proc/<pid>/cmdline, or the environment. Python copies argv, so setting
`sys.argv` here changes what Rasa's argument parser reads but not the process's command line.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    secret = sys.stdin.readline().rstrip("\n")
    if not secret:
        sys.exit("nlu.rasa_launcher: expected the JWT secret on standard input")
    # Rasa never reads standard input: the pipe is closed, whatever else is buffered from it dropped, and
    # standard input is /dev/null from here on.
    sys.stdin.close()
    null = os.open(os.devnull, os.O_RDONLY)
    if null != 0:
        os.dup2(null, 0)
        os.close(null)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - standard input lives as long as the process
    sys.argv = ["rasa", *sys.argv[1:], f"--jwt-secret={secret}"]  # one argument, even if it starts with "-"
    del secret
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
