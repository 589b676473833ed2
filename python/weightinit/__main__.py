"""The ``weightinit`` command: the wheel's console script and ``python -m weightinit``.

The command runs in this process through the extension module (the same Rust code as
the standalone binary), so its output, messages and exit status are the binary's.
"""

import sys

from . import _weightinit


def main() -> None:
    """Run the command line in ``sys.argv`` and exit with its status."""
    sys.exit(_weightinit.main(["weightinit", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
