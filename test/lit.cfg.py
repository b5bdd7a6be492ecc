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

tools = ["attnqat-opt", "attnqat-run"]
llvm_config.add_tool_substitutions(tools, [config.attnqat_tools_dir])
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))

if config.ptxas_path and os.path.exists(config.ptxas_path):
    config.available_features.add("ptxas")
