"""Facts about the machine airadar itself runs on (not the hardware it plans for)."""

import os


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one): the default
    number of local worker processes (sweep, validate, calibrate)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
