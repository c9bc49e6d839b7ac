"""Compiles the message catalogues during the build, so the wheel carries the .mo files."""

import importlib.util
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithCatalogues(build_py):
    def run(self):
        sys.path.insert(0, str(HERE / "campaign"))
        spec = importlib.util.spec_from_file_location(
            "catalogues", HERE / "campaign" / "catalogues.py"
        )
        catalogues = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(catalogues)
        catalogues.compile_catalogues(HERE / "campaign" / "translations")
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogues})
