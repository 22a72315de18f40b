"""Files, read and written safely: one bounded-read layer for every file extractor reads (tables,
sheets' CSVs, sidecars, TOML, watch files, price tables, gold), and outputs that cannot hang, follow
a link somewhere else, or be left half-written.

Every read has a size bound and a nesting bound, and every kind of problem has one message:

    <path>: no such file
    <path>: not a regular file (a FIFO, a device, a directory) ...
    <path>: larger than <limit> (the limit for <what>)
    <path>: not UTF-8 text
    <path>: not valid JSON / TOML (<the parser's words>)
    <path>: nested deeper than <N> levels
    <path>:<line>: a line of <n> bytes is not <what> (the limit is <limit>)

Writes go to a temp file beside the real target (a symbolic link is followed, never replaced) and
are renamed over it only when complete; temp files a killed writer left behind are removed by the
next writer of the same file.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, Optional

import orjson

from .errors import InputError
from .limits import size
from .lines import bounded_lines

MAX_DEPTH = 1024  # levels of nesting in any JSON or TOML the tool reads (orjson's own bound)
MAX_SMALL_FILE = 4 * 1024 * 1024  # bytes of a small side file: watch file, fields TOML, price table


def _kind(mode: int) -> Optional[str]:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def open_regular(path: str, flags: int = os.O_RDONLY) -> int:
    """Open `path` (following a symbolic link) as a regular file, never blocking: a FIFO or a
    device is refused, not waited on."""
    try:
        fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: not a regular file (a directory)") from None
    except OSError as e:
        raise InputError(f"{path}: cannot open ({e.strerror})") from None
    kind = _kind(os.fstat(fd).st_mode)
    if kind:
        os.close(fd)
        raise InputError(f"{path}: not a regular file ({kind})")
    return fd


def read_bytes(path: str, limit: int, what: str) -> bytes:
    """The whole of a small file, refused past `limit` bytes (checked before and while reading)."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{path}: larger than {size(limit)} (the limit for {what})")
    return data


def read_text(path: str, limit: int, what: str) -> str:
    data = read_bytes(path, limit, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None


def loads_json(data: bytes | str, where: str) -> Any:
    """JSON with the one nesting bound (orjson's, which never recurses in Python)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        msg = str(e)
        if "depth limit" in msg or "recursion" in msg:
            raise InputError(f"{where}: nested deeper than {MAX_DEPTH:,} levels") from None
        if "utf-8" in msg.lower() or "surrogate" in msg.lower():
            raise InputError(f"{where}: not UTF-8 text") from None
        raise InputError(f"{where}: not valid JSON ({msg.split(':')[0]})") from None


def read_json(path: str, what: str, limit: int = MAX_SMALL_FILE) -> Any:
    return loads_json(read_bytes(path, limit, what), path)


def read_toml(path: str, what: str, limit: int = MAX_SMALL_FILE) -> dict:
    text = read_text(path, limit, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path}: not valid TOML ({e})") from None
    except RecursionError:  # tomllib recurses once per level of nested arrays
        raise InputError(f"{path}: nested too deeply to be {what}") from None


def json_lines(
    path: str,
    key: str,
    what: str,
    limit: int,
    cut_off: Optional[Callable[[int], None]] = None,
) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each JSON line of `path` that is an object with `key`;
    anything else is an InputError naming the line. A last line without its newline that is not
    JSON was cut off (a killed writer, a broken download): `cut_off(line number)` is told, or it
    is skipped in silence. A complete last line without its newline is a line like any other."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as f:
        for lineno, raw, length in bounded_lines(f, limit):
            if raw is None:
                raise InputError(
                    f"{path}:{lineno}: a line of {length:,} bytes is not {what} (the limit is {size(limit)})"
                )
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as e:
                if not raw.endswith(b"\n"):
                    if cut_off is not None:
                        cut_off(lineno)
                    continue
                if "depth limit" in str(e):
                    raise InputError(f"{path}:{lineno}: nested deeper than {MAX_DEPTH:,} levels") from None
                raise InputError(f"{path}:{lineno}: not {what} (not valid JSON)") from None
            if not isinstance(obj, dict) or key not in obj:
                raise InputError(f"{path}:{lineno}: not {what}")
            yield lineno, obj


# -- outputs --------------------------------------------------------------------------------------
def check_output(path: str) -> None:
    """Refuse an output that is there but is no regular file: writing to a FIFO blocks until a
    reader comes (for ever), a device is not a table. A symbolic link to a regular file is fine:
    it is written through, and stays a link."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as e:
        raise InputError(f"{path}: cannot write ({e.strerror})") from None
    kind = _kind(st.st_mode)
    if kind:
        raise InputError(f"{path}: not a regular file ({kind}); give a file to write")


def check_writable(path: str) -> None:
    """Refuse, before any work is done, an output that cannot be written: a directory, a missing
    or read-only directory, a file that is not writable, a FIFO or a device (refused, not waited
    on); a symbolic link is written through. (A probe file is made and removed: permission bits
    say nothing to root, a read-only file system does.)"""
    import tempfile

    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory")
    check_output(path)
    d = os.path.dirname(real_target(path))
    if not os.path.isdir(d):
        raise InputError(f"{path}: directory {d} does not exist")
    try:
        fd, probe = tempfile.mkstemp(prefix=".extractor-probe-", dir=d)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise InputError(f"{path}: cannot write in {d} ({e.strerror})") from None
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise InputError(f"{path}: cannot write (permission denied)")


def real_target(path: str) -> str:
    """The file a path names, through any symbolic links: what a rename must replace."""
    return os.path.realpath(path)


_TMP = re.compile(r"\.tmp-(\d+)$")


def _alive(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":  # Windows: os.kill(pid, 0) would send Ctrl-C, not probe
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: alive
    return True


def clean_stale_temps(path: str) -> int:
    """Remove `<path>.tmp-PID` files whose writer is gone (killed in the middle of a rewrite):
    without this, every kill would leave a copy of the table behind for ever. Returns how many."""
    target = real_target(path)
    d, base = os.path.split(target)
    removed = 0
    try:
        names = os.listdir(d or ".")
    except OSError:
        return 0
    for name in names:
        if not name.startswith(base + ".tmp-"):
            continue
        m = _TMP.search(name)
        if m and name == f"{base}.tmp-{m.group(1)}" and not _alive(int(m.group(1))):
            try:
                os.unlink(os.path.join(d, name))
                removed += 1
            except OSError:
                pass
    return removed


@contextmanager
def atomic_write(path: str, mode: str = "w", **kw) -> Iterator[IO[Any]]:
    """Write to a temp file beside the real target of `path` and rename it over the target only
    when complete: a failed or interrupted write never truncates what was there, and a symbolic
    link stays a link to the new content. The file keeps the permissions it had."""
    check_output(path)
    target = real_target(path)
    clean_stale_temps(target)
    tmp = f"{target}.tmp-{os.getpid()}"
    try:
        with open(tmp, mode, **kw) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        except OSError:
            pass  # a new file: the umask's permissions
        os.replace(tmp, target)
        _sync_dir(os.path.dirname(target))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _sync_dir(d: str) -> None:
    """The rename itself survives a power cut only once its directory is synced (POSIX)."""
    try:
        fd = os.open(d or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.EBADF, errno.EACCES):
            raise
    finally:
        os.close(fd)
