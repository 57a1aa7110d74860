"""The kernel's walls around a target's process (Linux): namespaces, cgroups, the process set.

What a child process does to itself before it loads a target (:func:`enter`): it moves into new
user, mount, PID, network and IPC namespaces, makes every mount it can see read-only, puts a
small private ``tmpfs`` on ``/dev/shm`` (its scratch folder), and drops every capability. Afterwards the
target's code (and anything it starts) cannot write a file outside that folder, cannot
see, signal or trace a process outside its PID namespace (the checking process, other
submissions), has no network, and ends with the namespace: when its first process dies the
kernel kills every process in it, detached or not. Where the kernel or the container refuses
the namespaces (a seccomp profile, ``user.max_user_namespaces = 0``), :func:`enter` changes
nothing and says why; the process group, the limits and the scan of :func:`processes` remain.

The parent's side: :class:`Cgroup` (a memory and process-count limit on the whole group of
processes, v2 or v1's memory and pids controllers, where this process may create one), and
:func:`processes` / :func:`kill_all` (every process of a session, its descendants and the
orphans this process adopted as a child subreaper), used to count memory and to kill the lot.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
#: statvfs flag -> the mount flag that keeps it on a remount (a locked flag must be kept).
_KEEP = {2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: MS_NOATIME, 2048: MS_NODIRATIME,
         4096: MS_RELATIME}
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_CHILD_SUBREAPER = 1, 24, 36
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
#: Size of the private /tmp and /dev/shm of a confined target.
TMPFS_SIZE = "64m"
#: The private folder a confined target may write (its HOME, TMPDIR, matplotlib's cache): a
#: fresh tmpfs over /dev/shm; /tmp stays the real one, read-only (targets may live there).
SCRATCH = "/dev/shm"


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def die_with_parent() -> None:
    """SIGKILL this process when its parent ends (Linux); nothing elsewhere."""
    libc = _libc()
    if libc is not None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def adopt_orphans() -> bool:
    """Make this process a child subreaper: its descendants' orphans become its children (Linux)."""
    libc = _libc()
    return libc is not None and libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


# -- in the child -----------------------------------------------------------------------------------


def enter(overlay=(), scratch_size: str = TMPFS_SIZE) -> tuple[str, int, bool]:
    """Move this (just forked, session-leading) process into namespaces of its own.

    ``overlay``: folders (the target's own, the working folder) the target sees as writable
    copies: what it writes there lands in its scratch memory, never in the files (a parameter
    file it opens with ``np.memmap(..., mode="r+")`` opens, and is never written).

    Forks once more: this call returns in the new PID namespace's first process (PID 1 there),
    while the process that called it waits for that one and ends exactly as it does (its exit
    code or its signal). Returns ``(problem, pid, entered)``: ``entered`` when the namespaces
    exist (``problem`` then says what part of the read-only view failed, "" when none did), else
    ``problem`` says why not, with nothing changed and no fork; ``pid`` is the returning
    process's PID as the parent sees it.
    """
    libc = _libc()
    if libc is None:
        return "namespaces are a Linux feature", os.getpid(), False
    uid, gid = os.getuid(), os.getgid()
    try:
        if uid == 0:
            os.setgroups([])
        _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC),
               "unshare")
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"0 {uid} 1\n")
        Path("/proc/self/gid_map").write_text(f"0 {gid} 1\n")
    except OSError as exc:
        return f"the kernel refused new namespaces ({exc.strerror or exc})", os.getpid(), False
    pid = os.fork()
    if pid:
        _wait_and_mirror(pid)  # never returns
    die_with_parent()
    outer = outer_pid()  # before /proc shows only this namespace
    problem = _read_only_view(libc, overlay, scratch_size)
    _drop_capabilities(libc)
    return problem, outer, True


def outer_pid() -> int:
    """This process's PID in the outermost PID namespace /proc shows (NSpid's first field)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return os.getpid()


def _wait_and_mirror(pid: int) -> None:
    """End as ``pid`` ends: its exit code, or its signal (killed by it, without a core file)."""
    for fd in range(3, 1024):
        try:
            os.close(fd)
        except OSError:
            pass
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # the signal, not a core file
        except (ImportError, ValueError, OSError):
            pass
        if signum not in (signal.SIGKILL, signal.SIGSTOP):  # those two cannot be handled, nor reset
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        time.sleep(1)
    os._exit(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else 1)


def _mount_points() -> list[str]:
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split(" ")
        if len(fields) > 4:
            points.append(fields[4].encode().decode("unicode_escape"))
    return points


def _read_only_view(libc, overlay=(), scratch_size: str = TMPFS_SIZE) -> str:
    """Every mount read-only, a private tmpfs on /dev/shm, copy-on-write views of ``overlay``,
    a new /proc: "" or what failed."""
    mount = libc.mount
    mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    if mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return f"cannot make the mounts private ({os.strerror(ctypes.get_errno())})"
    failed = []
    for point in sorted(set(_mount_points()), key=len):
        try:
            flags = os.statvfs(point).f_flag
        except OSError:
            continue
        keep = sum(ms for st, ms in _KEEP.items() if flags & st)
        if flags & 1:  # already read-only
            continue
        if mount(None, point.encode(), None, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, None) != 0:
            failed.append(point)
    if os.path.isdir(SCRATCH):
        options = f"size={scratch_size},mode=1777".encode()
        if mount(b"tmpfs", SCRATCH.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options) != 0:
            failed.append(SCRATCH + " (tmpfs)")
        else:
            for i, folder in enumerate(overlay):
                if not _copy_on_write(mount, folder, Path(SCRATCH) / ".overlay" / str(i)):
                    failed.append(f"{folder} (a copy-on-write view)")
    # /proc of this PID namespace only: no process outside can be named, traced or read
    if mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) != 0:
        failed.append("/proc (a view of this namespace)")
    return f"could not make {', '.join(failed[:5])} read-only" if failed else ""


def _copy_on_write(mount, folder: str, where: Path) -> bool:
    """Mount an overlay on ``folder``: its files as they are, what is written kept in ``where``."""
    if any(ch in folder for ch in ",:\\") or not os.path.isdir(folder):
        return False
    upper, work = where / "upper", where / "work"
    upper.mkdir(parents=True)
    work.mkdir()
    for extra in ("userxattr,", ""):
        options = f"{extra}lowerdir={folder},upperdir={upper},workdir={work}".encode()
        if mount(b"overlay", folder.encode(), b"overlay", MS_NOSUID | MS_NODEV, options) == 0:
            return True
    return False


def overlay_folders(candidates) -> list[str]:
    """The outermost of ``candidates`` (real paths), none of them ``/`` or a system folder."""
    system = ("/proc", "/sys", "/dev", SCRATCH)
    folders = sorted({os.path.realpath(c) for c in candidates if c}, key=len)
    chosen: list[str] = []
    for folder in folders:
        if folder == "/" or any(folder == s or folder.startswith(s + "/") or s.startswith(folder + "/")
                                for s in system):
            continue
        if any(folder.startswith(c + "/") for c in chosen):
            continue
        chosen.append(folder)
    return chosen


def _drop_capabilities(libc) -> None:
    """No capability left, none to regain: the read-only mounts cannot be remounted."""
    for cap in range(64):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (Data * 2)()
    libc.capset(ctypes.byref(header), data)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def writable(paths) -> list[str]:
    """Those of ``paths`` this process could write (a confinement that failed shows here)."""
    return [p for p in paths if p and os.path.exists(p) and os.access(p, os.W_OK)]


# -- the parent's view of a group of processes -------------------------------------------------------


def _stat(pid: int) -> tuple[int, int, int, int] | None:
    """(ppid, process group, session, resident bytes) of ``pid``, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read()
        with open(f"/proc/{pid}/statm", "rb") as handle:
            resident = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None
    fields = text[text.rindex(b")") + 2:].split()
    try:
        return int(fields[1]), int(fields[2]), int(fields[3]), resident
    except (ValueError, IndexError):
        return None


def processes(root: int, session: int | None = None) -> dict[int, int]:
    """pid -> resident bytes of ``root``, its descendants, every process of ``session`` and the
    orphans this process adopted that left its session (they came from a target: see
    :func:`adopt_orphans`). Empty where /proc cannot be read."""
    table = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return {}
    for name in names:
        if name.isdigit():
            stat = _stat(int(name))
            if stat is not None:
                table[int(name)] = stat
    me, my_session = os.getpid(), os.getsid(0)
    chosen = {pid for pid, (ppid, _, sid, _) in table.items()
              if pid == root or (session is not None and sid == session)
              or (ppid == me and sid != my_session and pid != me)}
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _, _, _) in table.items():
            if pid not in chosen and ppid in chosen:
                chosen.add(pid)
                grew = True
    chosen.discard(me)
    return {pid: table[pid][3] for pid in chosen}


def kill_all(root: int, session: int | None = None, rounds: int = 20) -> int:
    """SIGKILL every process of :func:`processes` until none is left (a fork bomb races it for
    a few rounds); reap this process's own children. Returns how many were killed."""
    killed = set()
    for _ in range(rounds):
        found = processes(root, session)
        if session is not None:
            try:
                os.killpg(session, signal.SIGKILL)
            except OSError:
                pass
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except OSError:
                pass
        reap(killed)
        if not found:
            break
        time.sleep(0.005)
    return len(killed)


def reap(pids) -> None:
    """Collect the exit status of those of ``pids`` that are this process's children and ended
    (killed ones, adopted orphans), and no other: another part of this process may wait for its own."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except (ChildProcessError, OSError):
            pass


# -- cgroups ---------------------------------------------------------------------------------------------


class Cgroup:
    """A memory limit (and a process count) on a whole group of processes, by the kernel.

    Made under this process's own cgroup (v2 where its ``memory`` controller is enabled, else
    v1's ``memory`` and ``pids`` hierarchies); :meth:`make` returns None where this process may
    not create one. Processes join by :meth:`add`; children join with their parent.
    """

    def __init__(self, memory: Path | None, pids: Path | None, version: int):
        self.memory, self.pids, self.version = memory, pids, version

    @classmethod
    def make(cls, name: str, memory_bytes: int | None, max_processes: int | None) -> Cgroup | None:
        try:
            own = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError:
            return None
        paths = {}
        for line in own:
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = path.lstrip("/")
        unified = _cgroup2_root()
        if unified is not None and "" in paths:
            base = unified / paths[""]
            if "memory" in _words(base / "cgroup.controllers") and "memory" in _words(base / "cgroup.subtree_control"):
                group = _make_dir(base / name)
                if group is not None:
                    made = cls(group, group, 2)
                    made.limit(memory_bytes, max_processes)
                    return made
        if "memory" not in paths or not Path("/sys/fs/cgroup/memory").is_dir():
            return None
        memory = _make_dir(Path("/sys/fs/cgroup/memory") / paths["memory"] / name)
        if memory is None:
            return None
        pids = None
        if "pids" in paths and Path("/sys/fs/cgroup/pids").is_dir():
            pids = _make_dir(Path("/sys/fs/cgroup/pids") / paths["pids"] / name)
        made = cls(memory, pids, 1)
        made.limit(memory_bytes, max_processes)
        return made

    def limit(self, memory_bytes: int | None, max_processes: int | None) -> None:
        if memory_bytes is not None:
            _write(self.memory / ("memory.max" if self.version == 2 else "memory.limit_in_bytes"), memory_bytes)
            if self.version == 2:
                _write(self.memory / "memory.swap.max", 0)
        if max_processes is not None and self.pids is not None:
            _write(self.pids / "pids.max", max_processes)

    def add(self, pid: int) -> bool:
        done = _write(self.memory / "cgroup.procs", pid)
        if self.pids is not None and self.pids != self.memory:
            _write(self.pids / "cgroup.procs", pid)
        return done

    def members(self) -> list[int]:
        try:
            return [int(p) for p in (self.memory / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def peak(self) -> int | None:
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int((self.memory / name).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def ran_out_of_memory(self) -> bool:
        """Whether the kernel's OOM killer killed a process of the group."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            for line in (self.memory / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        except (OSError, ValueError):
            pass
        return False

    def kill(self) -> None:
        if self.version == 2 and _write(self.memory / "cgroup.kill", 1):
            return
        for _ in range(20):
            members = self.members()
            if not members:
                return
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.005)

    def remove(self) -> None:
        for directory in {self.memory, self.pids} - {None}:
            for _ in range(50):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)


def _cgroup2_root() -> Path | None:
    for candidate in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
        if (candidate / "cgroup.controllers").exists():
            return candidate
    return None


def _words(path: Path) -> set[str]:
    try:
        return set(path.read_text().split())
    except OSError:
        return set()


def _make_dir(path: Path) -> Path | None:
    try:
        path.mkdir()
        return path
    except OSError:
        return None


def _write(path: Path, value) -> bool:
    try:
        path.write_text(str(value))
        return True
    except OSError:
        return False
