"""The one exception type the command line turns into a one-line message."""


class HotPoseError(Exception):
    """A problem the user can fix (bad input, missing weights, bad option).

    The CLI prints ``hot-pose: error: <message>`` and exits non-zero instead of
    showing a traceback, so the message must say what went wrong and what to do.
    """


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, or its type's name when it has none.

    Third-party failures (Ultralytics, NNCF, Ray) can carry pages of text; a one-line
    :class:`HotPoseError` quotes only this.
    """
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
