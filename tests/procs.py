"""Processes and ports, for the tests that start, kill and stop programs
(`import procs`: pytest.ini puts tests/ on sys.path).

/proc/PID/stat is read after the last ')' because a program's name (comm)
may hold spaces and parentheses.
"""
import os
import socket
from pathlib import Path
from typing import NamedTuple, Optional


class Proc(NamedTuple):
    pid: int
    comm: str
    state: str  # "Z": a zombie, it has ended
    ppid: int
    pgrp: int


def proc(pid: int) -> Optional[Proc]:
    """The process pid, or None when it is gone."""
    try:
        line = Path("/proc/%d/stat" % pid).read_text()
    except OSError:
        return None
    f = line[line.rindex(")") + 2:].split()
    return Proc(pid, line[line.index("(") + 1:line.rindex(")")], f[0], int(f[1]), int(f[2]))


def processes() -> list:
    """Every process of this PID namespace, zombies included."""
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            p = proc(int(d))
            if p is not None:
                found.append(p)
    return found


def alive(pid: int) -> bool:
    """The process exists and has not ended (a zombie has)."""
    p = proc(pid)
    return p is not None and p.state != "Z"


def live_members(pgroups) -> list:
    """Live processes in these process groups."""
    return [p.pid for p in processes() if p.state != "Z" and p.pgrp in pgroups]


def children(pid: int) -> list:
    """The pids whose parent is pid."""
    return [p.pid for p in processes() if p.ppid == pid]


def free_ports(n: int) -> list:
    """n distinct free TCP ports on 127.0.0.1 (bound to port 0, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()
