"""Running the same jobs on more than one process or machine: sweep futures on local worker
processes or as Ray tasks, benchmark jobs on the Ray node that holds the hardware, all of it
written to one result store. Ray is optional (``pip install 'airadar[ray]'``) and imported
only when asked for."""

import os


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one): the default
    number of local worker processes (sweep, validate, calibrate)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
