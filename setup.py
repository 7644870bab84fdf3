"""The repository root is the import package `treadle`: map it explicitly."""

from setuptools import find_packages, setup

setup(
    package_dir={"treadle": "."},
    packages=["treadle"] + [f"treadle.{p}" for p in find_packages(".", exclude=["build*"])],
    package_data={"treadle": ["machines/*.json", "machines/*.toml", "tests/filecheck/**/*"]},
)
