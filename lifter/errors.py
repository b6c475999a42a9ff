"""User-facing errors: the command-line tools print them as one line and exit non-zero."""

import functools
import sys
from collections.abc import Callable


class SvmacError(Exception):
    """A problem with the user's input (data, checkpoint, option), not a bug."""


def exit_on_user_error(main: Callable[..., int | None]) -> Callable[..., int]:
    """Wrap a console entry point: a SvmacError or Ctrl-C becomes one line on stderr and an exit status."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs) -> int:
        try:
            return main(*args, **kwargs) or 0
        except SvmacError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130

    return wrapper
