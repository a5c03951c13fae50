"""The one exception type the command line turns into a one-line message."""


class HotPoseError(Exception):
    """A problem the user can fix (bad input, missing weights, bad option).

    The CLI prints ``hot-pose: error: <message>`` and exits non-zero instead of
    showing a traceback, so the message must say what went wrong and what to do.
    """
