"""What runs inside the sandbox. `llmtrail.worker.sandbox` runs this file as a script with
`python -I -S` (the standard library only, nothing of llmtrail), sends the request on stdin
and reads the result from the file descriptor named by argv[1].

Three processes, all of this one fresh interpreter:

- the first takes new mount, network, IPC and PID namespaces (and a user namespace to do so
  when it is not root), makes every mount read-only, hides the paths it was given under empty
  tmpfs, gives the code a private /tmp, and waits;
- the second is PID 1 of the new PID namespace: it mounts a /proc of that namespace and waits
  for the third; signals from inside cannot kill it, and when it dies the kernel kills
  whatever the code left behind;
- the third takes its limits, drops every privilege (to `nobody` when started as root), and
  runs the code. Its output goes to fd 1 and 2, capped; its result to the result fd.

A process exits with its child's status (128 + the signal, when a signal killed it), so the
caller learns how the code ended. Any step of the isolation that fails is a result saying
why: the code never runs less isolated than described here.
"""

import ctypes
import io
import json
import linecache
import os
import pwd
import resource
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
SYS_MOUNT_SETATTR = 442  # the same number on every architecture
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID = 1, 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
LINUX_CAPABILITY_VERSION_3 = 0x20080522
HIDING_BYTES = 1 << 20  # a hiding tmpfs holds only the directories that binding back makes

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]


class MountAttr(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("set", "clr", "propagation", "userns")]


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


def check(status: int, what: str) -> None:
    if status != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def c_string(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    status = libc.mount(c_string(source), c_string(target), c_string(fstype), flags, c_string(data))
    check(status, f"mount on {target}")


def reply(result: dict) -> None:
    with open(int(sys.argv[1]), "wb", closefd=False) as channel:
        channel.write(json.dumps(result).encode())


@contextmanager
def isolating() -> Iterator[None]:
    """A step of the isolation: if it fails, that is the result, and the code does not run."""
    try:
        yield
    except OSError as e:
        reason = e.strerror if e.filename is None else f"{e.strerror}: {e.filename}"
        reply({"error": f"cannot isolate the code here: {reason}"})
        os._exit(0)


def spawn(child: Callable[[], None]) -> None:
    """Run `child` in a new process and exit as it does: its code, or 128 + the signal that
    killed it."""
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            child()
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    os._exit(128 - code if code < 0 else code)


def identity() -> tuple[int, int]:
    """Who the code runs as: `nobody` when llmtrail runs as root, else llmtrail's own user (an
    unprivileged process cannot become anyone else)."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        return 65534, 65534
    return user.pw_uid, user.pw_gid


def unshare(uid: int, gid: int) -> None:
    """Root takes the namespaces itself; anyone else needs a user namespace to, in which it
    keeps its own ids."""
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID
    if os.geteuid() == 0:
        check(libc.unshare(flags), "unshare")
        return
    what = "unshare with a user namespace (are unprivileged user namespaces allowed?)"
    check(libc.unshare(flags | CLONE_NEWUSER), what)
    maps = {"setgroups": "deny", "uid_map": f"{uid} {uid} 1", "gid_map": f"{gid} {gid} 1"}
    for name, line in maps.items():
        with open(f"/proc/self/{name}", "w") as f:
            f.write(line)


def inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def outermost(paths: list[str]) -> list[str]:
    """The paths that are not inside another of them."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(inside(path, k) for k in kept):
            kept.append(path)
    return kept


def cover(path: str, size: int, writable: bool = False, keep: Sequence[str] = ()) -> None:
    """An empty tmpfs over the directory `path` (read-only unless `writable`), or /dev/null over
    a file. The directories of `keep` inside it are bound back, so that hiding a home that
    holds the Python installation leaves its standard library importable."""
    if not os.path.isdir(path):
        mount("/dev/null", path, None, MS_BIND)
        return
    kept = [(k, os.open(k, os.O_PATH)) for k in keep if inside(k, path)]
    mode = "1777" if writable else "755"
    mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode={mode}")
    for directory, fd in kept:
        os.makedirs(directory, exist_ok=True)
        mount(f"/proc/self/fd/{fd}", directory, None, MS_BIND | MS_REC)
        os.close(fd)
    if not writable:
        mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def isolate(request: dict, uid: int, gid: int) -> None:
    """Namespaces, and the filesystem the code sees: all read-only, the hidden paths empty,
    and a /tmp of its own as its working directory."""
    unshare(uid, gid)
    # Private first, so that nothing mounted here shows in llmtrail's namespace.
    attr = MountAttr(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0, MS_PRIVATE, 0)
    status = libc.syscall(
        ctypes.c_long(SYS_MOUNT_SETATTR),
        ctypes.c_int(AT_FDCWD),
        b"/",
        ctypes.c_uint(AT_RECURSIVE),
        ctypes.byref(attr),
        ctypes.c_size_t(ctypes.sizeof(attr)),
    )
    check(status, "making / read-only (mount_setattr, Linux 5.12 or later)")
    keep = outermost([p for p in sys.path if os.path.isdir(p)])
    for path in outermost([*(p for p in request["hidden"] if os.path.lexists(p)), "/tmp"]):
        if path == "/tmp":
            cover(path, request["tmp_bytes"], writable=True, keep=keep)
        else:
            cover(path, HIDING_BYTES, keep=keep)
    os.chdir("/tmp")


def init(request: dict, uid: int, gid: int) -> None:
    """PID 1 of the code's namespace: it dies with the first process, and takes all with it."""
    libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
    libc.prctl(PR_SET_DUMPABLE, 0)  # not to be traced by the code, which may be the same user
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    except OSError:  # where a /proc of this namespace cannot be mounted, there is none
        with isolating():
            cover("/proc", HIDING_BYTES)
    spawn(lambda: run(request, uid, gid))


def drop_privileges(uid: int, gid: int) -> None:
    if os.geteuid() == 0:  # setting all three ids from root clears every capability
        try:
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
        except OSError as e:
            raise OSError(e.errno, f"becoming nobody ({uid}:{gid}): {e.strerror}") from None
    else:  # the capabilities the user namespace gave, for the mounts, go
        no_capabilities = (ctypes.c_uint32 * 6)()
        header = CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
        check(libc.capset(ctypes.byref(header), no_capabilities), "capset")
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def limit(request: dict) -> None:
    cpu, memory, files = request["cpu_seconds"], request["memory_mb"] << 20, request["file_bytes"]
    for which, value in (
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),  # SIGXCPU, and SIGKILL a second later
        (resource.RLIMIT_AS, (memory, memory)),
        (resource.RLIMIT_DATA, (memory, memory)),
        (resource.RLIMIT_FSIZE, (files, files)),
        (resource.RLIMIT_NOFILE, (64, 64)),
        (resource.RLIMIT_NPROC, (0, 0)),  # no process or thread beyond those running
        (resource.RLIMIT_CORE, (0, 0)),
    ):
        resource.setrlimit(which, value)


class Capped(io.RawIOBase):
    """fd 1 as a stream that keeps the first `room` bytes and drops the rest, so that a chatty
    evaluator neither fails on printing nor makes its output big."""

    CUT = b"\n[output cut]\n"

    def __init__(self, room: int) -> None:
        self.room = room - len(self.CUT)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.room > 0:
            kept = bytes(data[: self.room])
            self.room -= len(data)
            with suppress(OSError):  # fd 1 at its size limit (raw writes filled it): dropped too
                os.write(1, kept if self.room >= 0 else kept + self.CUT)
        return len(data)


def run(request: dict, uid: int, gid: int) -> None:
    with isolating():
        limit(request)
        drop_privileges(uid, gid)
    sys.stdout = sys.stderr = io.TextIOWrapper(
        Capped(request["output_bytes"]), "utf-8", "backslashreplace", write_through=True
    )
    reply(evaluate(request))


def evaluate(request: dict) -> dict:
    """Run the source and its main: {"value": ...} or {"error": "..."}."""
    source = request["source"]
    linecache.cache["<evaluator>"] = (len(source), None, source.splitlines(True), "<evaluator>")
    try:
        code = compile(source, "<evaluator>", "exec")
    except (SyntaxError, ValueError) as e:
        where = f" (line {e.lineno})" if getattr(e, "lineno", None) else ""
        return {"error": f"{type(e).__name__}: {getattr(e, 'msg', e)}{where}"}
    namespace: dict = {"__name__": "evaluator"}
    stage, out_of_memory = "source", False
    entry = request.get("entry")
    os.environ.update(request.get("environ") or {})  # a Tool's variables, and nothing else
    try:
        exec(code, namespace)
        main = namespace.get(entry or "main")
        if not callable(main):
            wanted = f"{entry}(...)" if entry else "main(eval_inputs)"
            return {"error": f"source does not define {wanted}"}
        stage = entry or "main"
        value = main(**request["inputs"]) if entry else main(request["inputs"])
    except MemoryError:
        out_of_memory = True  # answered below, once the frames holding the memory are gone
    except BaseException as e:
        traceback.print_exception(type(e), e, e.__traceback__.tb_next)
        return {"error": f"{stage} raised {type(e).__name__}: {e}"}
    if out_of_memory:
        namespace.clear()
        return {"error": f"exceeded its {request['memory_mb']} MB memory limit"}
    try:
        size = len(json.dumps(value, allow_nan=False))
    except Exception as e:
        return {"error": f"{stage} returned a value that is not JSON ({e})"}
    if size > request["result_bytes"]:
        return {"error": f"{stage} returned {size} bytes of JSON, more than a result may take"}
    return {"value": value}


def main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    os.umask(0o022)  # the directories made for binding back must be open to the code
    uid, gid = identity()
    with isolating():
        isolate(request, uid, gid)
    spawn(lambda: init(request, uid, gid))


if __name__ == "__main__":
    main()
