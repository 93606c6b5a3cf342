"""Process trees and interrupts, the same on every platform.

- :func:`spawn_options` - how a plugin (or a uv build) is started so its whole tree can be stopped later:
  its own session and process group on POSIX, a new process group on Windows;
- :class:`ProcessTree` - stops everything a started process started: on POSIX the process group, plus every
  descendant found before the kill (a grandchild in a session of its own too); on Windows a job object the
  process is put in right after it starts (``TerminateJobObject`` through ctypes), else ``taskkill /T /F``;
- :func:`run_killable` - a blocking command (an environment build step) that an ``abort`` event stops within
  a tenth of a second, tree included;
- :func:`run_main` - the one asyncio entry of the command line faces: SIGINT/SIGTERM cancel the main task (with
  ``loop.add_signal_handler`` where the loop has it, ``signal.signal`` where it does not, as on Windows).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, TypeVar

T = TypeVar("T")
WINDOWS = os.name == "nt"
CREATE_NEW_PROCESS_GROUP = 0x00000200


def spawn_options() -> dict[str, Any]:
    """Keyword arguments for subprocess / asyncio.create_subprocess_exec."""
    if WINDOWS:
        return {"creationflags": CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc; elsewhere none are found)."""
    out: list[int] = []
    queue = [pid]
    while queue:
        parent = queue.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
            children = [int(c) for t in tasks for c in Path(f"/proc/{parent}/task/{t}/children").read_text().split()]
        except FileNotFoundError:
            if parent == pid and Path("/proc/self/stat").exists():
                return _descendants_by_scan(pid)  # a kernel without /proc/<pid>/task/<tid>/children
            continue
        except (OSError, ValueError):
            continue
        out.extend(children)
        queue.extend(children)
    return out


def _descendants_by_scan(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    out: list[int] = []
    queue = list(children.get(pid, []))
    while queue:
        child = queue.pop()
        out.append(child)
        queue.extend(children.get(child, []))
    return out


class WindowsJob:
    """A Windows job object that kills every process in it when terminated (ctypes, no dependency)."""

    JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
    EXTENDED_LIMIT_INFORMATION = 9

    def __init__(self, kernel32: Any = None) -> None:
        import ctypes
        from ctypes import wintypes

        self._ctypes = ctypes
        self.kernel32 = kernel32 or ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        self.handle = self.kernel32.CreateJobObjectW(None, None)
        if not self.handle:
            raise OSError("CreateJobObjectW failed")

        class IoCounters(ctypes.Structure):
            _fields_ = [(n, ctypes.c_ulonglong) for n in ("r", "w", "o", "rb", "wb", "ob")]

        class Basic(ctypes.Structure):
            _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                        ("LimitFlags", wintypes.DWORD), ("MinimumWorkingSetSize", ctypes.c_size_t),
                        ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", wintypes.DWORD),
                        ("Affinity", ctypes.c_size_t), ("PriorityClass", wintypes.DWORD),
                        ("SchedulingClass", wintypes.DWORD)]

        class Extended(ctypes.Structure):
            _fields_ = [("BasicLimitInformation", Basic), ("IoInfo", IoCounters),
                        ("ProcessMemoryLimit", ctypes.c_size_t), ("JobMemoryLimit", ctypes.c_size_t),
                        ("PeakProcessMemoryUsed", ctypes.c_size_t), ("PeakJobMemoryUsed", ctypes.c_size_t)]

        info = Extended()
        info.BasicLimitInformation.LimitFlags = self.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        self.kernel32.SetInformationJobObject(self.handle, self.EXTENDED_LIMIT_INFORMATION,
                                              ctypes.byref(info), ctypes.sizeof(info))

    def add(self, pid: int) -> bool:
        process = self.kernel32.OpenProcess(0x0001 | 0x0100, False, pid)  # PROCESS_TERMINATE | SET_QUOTA
        if not process:
            return False
        try:
            return bool(self.kernel32.AssignProcessToJobObject(self.handle, process))
        finally:
            self.kernel32.CloseHandle(process)

    def terminate(self) -> None:
        self.kernel32.TerminateJobObject(self.handle, 1)
        self.kernel32.CloseHandle(self.handle)


def taskkill_command(pid: int) -> list[str]:
    return ["taskkill", "/T", "/F", "/PID", str(pid)]


class ProcessTree:
    """Everything one started process (and what it starts) runs as; :meth:`kill` stops all of it."""

    def __init__(self, pid: int, *, windows: bool = WINDOWS, job_factory: Callable[[], Any] | None = None,
                 run: Callable[..., Any] = subprocess.run) -> None:
        self.pid = pid
        self.windows = windows
        self._run = run
        self.job = None
        if windows:
            try:
                self.job = (job_factory or WindowsJob)()
                if not self.job.add(pid):
                    self.job = None
            except (OSError, AttributeError, ImportError):
                self.job = None  # no job object: taskkill /T walks the tree instead

    def kill(self) -> None:
        if self.windows:
            if self.job is not None:
                self.job.terminate()
                return
            try:
                self._run(taskkill_command(self.pid), capture_output=True, timeout=10)
            except (OSError, subprocess.SubprocessError):
                pass
            return
        tree = descendants(self.pid)  # before the kill: orphans are re-parented and lost to a later look
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass
        for pid in tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                pass


class Aborted(Exception):
    """A blocking command was stopped by its abort event."""


def run_killable(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float,
                 abort: threading.Event | None = None) -> subprocess.CompletedProcess[str]:
    """``subprocess.run`` that ``abort`` stops (the whole tree) within 0.1 s: raises :class:`Aborted` then."""
    if abort is not None and abort.is_set():
        raise Aborted()
    proc = subprocess.Popen(cmd, cwd=str(cwd), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **spawn_options())
    tree = ProcessTree(proc.pid)
    out: dict[str, str] = {}

    def read(name: str, stream: Any) -> None:
        out[name] = stream.read()

    readers = [threading.Thread(target=read, args=(n, s), daemon=True)
               for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    for r in readers:
        r.start()
    end = time.monotonic() + timeout
    try:
        while proc.poll() is None:
            if abort is not None and abort.wait(0.05):
                raise Aborted()
            if abort is None:
                time.sleep(0.05)
            if time.monotonic() > end:
                raise subprocess.TimeoutExpired(cmd, timeout)
    finally:
        if proc.poll() is None:
            tree.kill()
            proc.wait()
    for r in readers:
        r.join(5)
    return subprocess.CompletedProcess(cmd, proc.returncode, out.get("stdout", ""), out.get("stderr", ""))


def run_main(main: Callable[[], Awaitable[T]], on_interrupt: Callable[[], None] | None = None) -> T:
    """Run ``main()`` in a new event loop; SIGINT / SIGTERM cancel it (``asyncio.CancelledError`` reaches the
    caller).  ``on_interrupt`` is called first, in the loop (e.g. to stop an environment build)."""

    async def runner() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(main())

        def interrupt() -> None:
            if on_interrupt is not None:
                on_interrupt()
            task.cancel()

        installed: list[Any] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, interrupt)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                # no add_signal_handler (Windows' loops): a plain handler hands the interrupt to the loop
                try:
                    previous = signal.signal(sig, lambda *_: loop.call_soon_threadsafe(interrupt))
                    installed.append((sig, previous))
                except (ValueError, OSError):  # not the main thread
                    pass
        try:
            return await task
        finally:
            for item in installed:
                if isinstance(item, tuple):
                    signal.signal(*item)
                else:
                    loop.remove_signal_handler(item)

    return asyncio.run(runner())
