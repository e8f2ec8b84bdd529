"""Run an ``imagegate`` command under cProfile, timed in CPU time of the profiled (event-loop) thread.

``python -m bench.profile_gateway OUT.prof serve http --port N``; the stats are written when the
command returns (``imagegate serve http`` returns on SIGTERM). Work the gateway hands to threads
(file writes, hashing in executors) is not in the profile; the process CPU figure in the table is.
``python -m pstats OUT.prof`` (``sort tottime``, ``stats 30``) reads it.
"""

from __future__ import annotations

import cProfile
import sys
import time


def main() -> None:
    """Profile ``imagegate <args>`` and dump the stats to ``argv[1]``."""
    out, args = sys.argv[1], sys.argv[2:]
    from imagegate.cli._app import main as imagegate_main

    sys.argv = ["imagegate", *args]
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    try:
        imagegate_main()
    except SystemExit:
        pass
    finally:
        profiler.disable()
        profiler.dump_stats(out)


if __name__ == "__main__":
    main()
