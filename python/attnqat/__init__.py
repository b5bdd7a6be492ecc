"""attnqat: FP4 quantization-aware-training attention.

`attnqat.torch.attention` is the PyTorch entry point; `attnqat.runtime` is the
ctypes binding over the runtime's C ABI (libattnqat_runtime.so).
Add the `python/` folder of the source tree (or of a staged copy) to
sys.path; the package finds the runtime library and its kernels itself
(see attnqat.runtime.find_files).
"""

__all__ = ["runtime", "torch"]
