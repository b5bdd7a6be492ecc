# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "attnqat"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attnqat_obj_root, "test")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tools = ["attnqat-opt", "attnqat-run", "attnqat-compile", "attnqat-artifact", "attnqat-capi-test", "attnqat-jit-attention"]
llvm_config.add_tool_substitutions(tools, [config.attnqat_tools_dir])
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))

if config.ptxas_path and os.path.exists(config.ptxas_path):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", config.ptxas_path))
config.substitutions.append(("%attnqat_src_root", config.attnqat_src_root))
# scripts/sass-loops needs a disassembler that reads sm_90 code (NVDISASM,
# see the script's help); without one its listing test is unsupported.
nvdisasm = os.environ.get("NVDISASM", "")
if nvdisasm and os.access(nvdisasm, os.X_OK):
    config.available_features.add("nvdisasm")
    config.substitutions.append(("%nvdisasm", nvdisasm))

# test/Install: install the build and build a consumer project against it.
config.substitutions.append(("%attnqat_build_dir", config.attnqat_obj_root))
config.substitutions.append(("%attnqat_cmake", config.cmake_command))
config.substitutions.append(("%attnqat_make_program", config.make_program))
config.substitutions.append(("%attnqat_cc", config.c_compiler))
config.substitutions.append(("%attnqat_cxx", config.cxx_compiler))
config.substitutions.append(
    ("%attnqat_linker_flags",
     "-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=" + config.llvm_use_linker
     if config.llvm_use_linker else ""))
if config.make_program and os.path.basename(config.make_program).startswith("ninja"):
    config.available_features.add("ninja")
