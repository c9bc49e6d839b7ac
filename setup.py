"""Build step that setup.cfg cannot express: ship the top-level ``templates/`` and
``static/`` folders inside the ``campaign`` package of a built wheel.

It also compiles the message catalogues first (campaign/catalogues.py: the Cyrillic
catalogue generated from the Latin one, both compiled to .mo), so the wheel carries them.

In the repository they stay top-level folders; ``campaign/__init__.py`` looks inside the
package first (an installed wheel) and falls back to the checkout. Editable installs
(``pip install -e .``) copy nothing: they run from the checkout.
"""

import importlib.util
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# Top-level folders of the repository that the installed package carries inside it.
SHIPPED = ("templates", "static")


def _load(name: str):
    """campaign/<name>.py loaded by path: the package's __init__ needs Flask, which a build
    may not have. (Never by putting campaign/ on sys.path: its ``calendar`` package would
    shadow the standard library's.)"""
    spec = importlib.util.spec_from_file_location(name, HERE / "campaign" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def compile_catalogues() -> None:
    _load("translit")  # what catalogues.py imports when it is not inside its package
    _load("catalogues").compile_catalogues(HERE / "campaign" / "translations")


class BuildPyWithAssets(build_py):
    def run(self) -> None:
        compile_catalogues()
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in SHIPPED:
            self.copy_tree(str(HERE / name), str(Path(self.build_lib, "campaign", name)))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        for name in SHIPPED:
            outputs += [
                str(Path(self.build_lib, "campaign", name, path.relative_to(HERE / name)))
                for path in sorted((HERE / name).rglob("*"))
                if path.is_file()
            ]
        return outputs


setup(cmdclass={"build_py": BuildPyWithAssets})
