#!/usr/bin/env python3
"""Startup time and idle memory of the Confab desktop app (run by run.sh with MEASURE=1).

  measure.py startup       launches the app 4 times against $CONFAB_URL and reports the time
                           from launch to the first page load (the sign-in screen painted)
  rss_of_tree(pid)         used by e2e.py: the RSS of a process and all its descendants
"""

import os
import re
import subprocess
import sys
import time


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        if ppid == pid:
            out.append(int(d))
    return out


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def name(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def rss_of_tree(pid, skip_root=False):
    """[(pid, name, rss_kib)] for pid (unless skip_root) and all its descendants."""
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        if p != pid or not skip_root:
            seen.append((p, name(p), rss_kib(p)))
        todo.extend(children(p))
    return seen


def startup(runs=4):
    bin_, url = os.environ["DESKTOP_BIN"], os.environ["CONFAB_URL"]
    times = []
    for i in range(runs):
        t0 = time.monotonic()
        p = subprocess.Popen([bin_, "--server", url], stderr=subprocess.PIPE, text=True)
        ms = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = p.stderr.readline()
            if not line:
                break
            if "page loaded" in line:
                ms = (time.monotonic() - t0) * 1000
                m = re.search(r"page loaded (\d+) ms after start", line)
                inner = int(m.group(1)) if m else None
                break
        time.sleep(2)  # let the UI settle before the next launch
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
        if ms is None:
            print(f"run {i + 1}: no page load seen")
            continue
        times.append(ms)
        print(f"run {i + 1}: launch to first page load {ms:.0f} ms (in-process: {inner} ms){' (cold)' if i == 0 else ''}")
    if times:
        warm = sorted(times[1:]) or times
        print(f"startup: cold {times[0]:.0f} ms, warm median {warm[len(warm) // 2]:.0f} ms")


if __name__ == "__main__":
    if sys.argv[1:] == ["startup"]:
        startup()
    else:
        print(__doc__)
        sys.exit(2)
