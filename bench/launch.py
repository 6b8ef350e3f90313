"""Run a command; write its CPU seconds and peak RSS, as ``os.wait4`` reports them, to a file.

    python -I -S bench/launch.py USAGE.json COMMAND ...

``bench/throughput.py`` starts every measured tool through this small process. Linux carries a
process's peak RSS across ``fork`` and ``exec``, so a tool started straight from the benchmark
(which has held the mirror's pages) would report at least the benchmark's own peak: ``wget``
showed 150 MiB. Started from here, a tool inherits only this interpreter's few MiB. Exits with
the command's status.
"""

import json
import os
import subprocess
import sys


def main() -> int:
    usage_file, command = sys.argv[1], sys.argv[2:]
    process = subprocess.Popen(command)
    _pid, status, usage = os.wait4(process.pid, 0)
    with open(usage_file, "w", encoding="utf-8") as fh:
        json.dump({"cpu": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss}, fh)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    raise SystemExit(main())
