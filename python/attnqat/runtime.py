"""ctypes binding over libattnqat_runtime.so (runtime/include/attnqat-runtime/attnqat_runtime.h)."""

import ctypes
import os
from pathlib import Path

# attnqat_rt_arg kinds and problem flags (attnqat_runtime.h).
ARG_PTR, ARG_I32, ARG_I64, ARG_F32 = 1, 2, 3, 4
FLAG_CAUSAL = 0x1


class AttnQATRuntimeError(RuntimeError):
    """A runtime status other than success, with the runtime's message."""


class Problem(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int64) for n in ("B", "Hq", "Hkv", "M", "N", "D")] + [
        ("flags", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
    ]


class _ArgValue(ctypes.Union):
    _fields_ = [("ptr", ctypes.c_uint64), ("i32", ctypes.c_int32),
                ("i64", ctypes.c_int64), ("f32", ctypes.c_float)]


class Arg(ctypes.Structure):
    _fields_ = [("role", ctypes.c_char_p), ("kind", ctypes.c_int32),
                ("reserved", ctypes.c_uint32), ("value", _ArgValue)]


def ptr_arg(role, address):
    a = Arg(role.encode(), ARG_PTR, 0)
    a.value.ptr = address
    return a


def f32_arg(role, value):
    a = Arg(role.encode(), ARG_F32, 0)
    a.value.f32 = value
    return a


def find_files():
    """(runtime library, artifact) paths: $ATTNQAT_RUNTIME_LIB and
    $ATTNQAT_ARTIFACT, else next to this package (a staged copy), else the
    source tree's build/ folder."""
    here = Path(__file__).resolve().parent
    candidates = [
        (here / "libattnqat_runtime.so.0", here / "attnqat_sm90a.aqa"),
        (here.parents[1] / "build" / "lib" / "libattnqat_runtime.so.0",
         here.parents[1] / "build" / "python" / "attnqat_sm90a.aqa"),
    ]
    lib = os.environ.get("ATTNQAT_RUNTIME_LIB")
    art = os.environ.get("ATTNQAT_ARTIFACT")
    for cand_lib, cand_art in candidates:
        lib = lib or (str(cand_lib) if cand_lib.exists() else None)
        art = art or (str(cand_art) if cand_art.exists() else None)
    if not lib or not art:
        raise AttnQATRuntimeError(
            "attnqat: cannot find libattnqat_runtime.so.0 and attnqat_sm90a.aqa; "
            "build the project (ninja -C build) or set ATTNQAT_RUNTIME_LIB and "
            "ATTNQAT_ARTIFACT")
    return lib, art


class Runtime:
    """One runtime (CUDA context of the current device) and its kernels."""

    def __init__(self, lib_path=None, artifact_path=None):
        if lib_path is None or artifact_path is None:
            found_lib, found_art = find_files()
            lib_path = lib_path or found_lib
            artifact_path = artifact_path or found_art
        self.lib = ctypes.CDLL(lib_path)
        lib = self.lib
        lib.attnqat_rt_last_error.restype = ctypes.c_char_p
        lib.attnqat_rt_last_error.argtypes = [ctypes.c_void_p]
        lib.attnqat_rt_status_string.restype = ctypes.c_char_p
        lib.attnqat_rt_launch.argtypes = [ctypes.c_void_p, ctypes.POINTER(Problem),
                                          ctypes.POINTER(Arg), ctypes.c_size_t,
                                          ctypes.c_void_p]
        self.rt = ctypes.c_void_p()
        self._check(lib.attnqat_rt_create(None, ctypes.byref(self.rt)), None, "create")
        self.module = ctypes.c_void_p()
        self._check(lib.attnqat_rt_module_load_file(
            self.rt, str(artifact_path).encode(), ctypes.byref(self.module)),
            self.rt, "load " + str(artifact_path))
        self._kernels = {}
        self._missing = set()

    def _check(self, status, handle, what):
        if status != 0:
            raise AttnQATRuntimeError(
                f"attnqat runtime: {what}: "
                f"{self.lib.attnqat_rt_status_string(status).decode()}: "
                f"{(self.lib.attnqat_rt_last_error(handle) or b'').decode()}")

    def kernel(self, name):
        if name not in self._kernels:
            k = ctypes.c_void_p()
            self._check(self.lib.attnqat_rt_module_get_kernel(
                self.module, name.encode(), ctypes.byref(k)), self.module,
                "kernel " + name)
            self._kernels[name] = k
        return self._kernels[name]

    def has_kernel(self, name):
        """Whether the loaded artifact holds kernel `name` (asked once per name:
        attnqat.torch asks on every forward)."""
        if name in self._missing:
            return False
        try:
            self.kernel(name)
            return True
        except AttnQATRuntimeError:
            self._missing.add(name)
            return False

    def launch(self, name, problem, args, stream):
        """Checks everything, then enqueues `name` on `stream` (a CUstream)."""
        k = self.kernel(name)
        arr = (Arg * len(args))(*args)
        self._check(self.lib.attnqat_rt_launch(k, ctypes.byref(problem), arr,
                                                len(args), ctypes.c_void_p(stream)),
                    k, "launch " + name)
