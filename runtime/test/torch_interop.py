"""libattnqat_runtime.so inside a PyTorch process, through ctypes.

    python3 torch_interop.py LIBATTNQAT_RUNTIME SMOKE.aqa

Runs on a GPU machine with PyTorch (scripts/gpu-test runs it when torch
imports). Checks what a Python binding relies on: the runtime shares
PyTorch's primary context, accepts caching-allocator pointers, launches on
PyTorch's streams, and rejects a misaligned tensor view before launching.
Exit status: 0 pass, 1 fail.
"""

import ctypes
import sys

import torch


class Problem(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int64) for n in ("B", "Hq", "Hkv", "M", "N", "D")] + [
        ("flags", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
    ]


class ArgValue(ctypes.Union):
    _fields_ = [
        ("ptr", ctypes.c_uint64),
        ("i32", ctypes.c_int32),
        ("i64", ctypes.c_int64),
        ("f32", ctypes.c_float),
    ]


class Arg(ctypes.Structure):
    _fields_ = [
        ("role", ctypes.c_char_p),
        ("kind", ctypes.c_int32),
        ("reserved", ctypes.c_uint32),
        ("value", ArgValue),
    ]


PTR, F32 = 1, 4
BAD_POINTER = 13


def main() -> int:
    lib = ctypes.CDLL(sys.argv[1])
    lib.attnqat_rt_last_error.restype = ctypes.c_char_p
    lib.attnqat_rt_last_error.argtypes = [ctypes.c_void_p]
    lib.attnqat_rt_status_string.restype = ctypes.c_char_p

    def check(status, handle, what):
        if status != 0:
            raise RuntimeError(
                f"{what}: {lib.attnqat_rt_status_string(status).decode()}: "
                f"{lib.attnqat_rt_last_error(handle).decode()}"
            )

    torch.cuda.init()
    torch.zeros(1, device="cuda")  # make PyTorch's primary context current
    rt = ctypes.c_void_p()
    check(lib.attnqat_rt_create(None, ctypes.byref(rt)), None, "create")
    mod = ctypes.c_void_p()
    check(
        lib.attnqat_rt_module_load_file(rt, sys.argv[2].encode(), ctypes.byref(mod)),
        rt,
        "load",
    )
    kern = ctypes.c_void_p()
    check(
        lib.attnqat_rt_module_get_kernel(
            mod, b"attnqat_rt_test_vector_scale", ctypes.byref(kern)
        ),
        mod,
        "get_kernel",
    )

    failures = 0
    n = (1 << 20) + 3
    x = torch.randn(n, device="cuda")
    prob = Problem(M=n)
    side = torch.cuda.Stream()
    for name, stream in (("current stream", torch.cuda.current_stream()), ("side stream", side)):
        y = torch.full_like(x, -1.0)
        args = (Arg * 3)(
            Arg(b"x", PTR, 0, ArgValue(ptr=x.data_ptr())),
            Arg(b"y", PTR, 0, ArgValue(ptr=y.data_ptr())),
            Arg(b"a", F32, 0, ArgValue(f32=1.5)),
        )
        if stream is side:
            side.wait_stream(torch.cuda.current_stream())
        check(
            lib.attnqat_rt_launch(
                kern, ctypes.byref(prob), args, 3, ctypes.c_void_p(stream.cuda_stream)
            ),
            kern,
            "launch",
        )
        torch.cuda.synchronize()
        ok = torch.equal(y, x * 1.5)
        failures += not ok
        print(f"torch interop: vector_scale of {n} floats on PyTorch's {name}: "
              f"{'correct' if ok else 'WRONG'}")

    # A view one element into a tensor is misaligned for 16-byte loads.
    y = torch.empty_like(x)
    view = x[1:]
    prob_view = Problem(M=n - 1)
    args = (Arg * 3)(
        Arg(b"x", PTR, 0, ArgValue(ptr=view.data_ptr())),
        Arg(b"y", PTR, 0, ArgValue(ptr=y.data_ptr())),
        Arg(b"a", F32, 0, ArgValue(f32=1.5)),
    )
    s = lib.attnqat_rt_launch(kern, ctypes.byref(prob_view), args, 3, None)
    msg = lib.attnqat_rt_last_error(kern).decode()
    ok = s == BAD_POINTER
    failures += not ok
    print(f"torch interop: misaligned view x[1:] -> status {s}: {msg}")

    lib.attnqat_rt_module_unload(mod)
    lib.attnqat_rt_destroy(rt)
    print(f"torch interop: {'PASS' if failures == 0 else 'FAIL'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
