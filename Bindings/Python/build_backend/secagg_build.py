"""The in-tree PEP 517 build backend of the ``secagg`` Python package.

``pip install ./Bindings/Python`` calls :func:`build_wheel`, which

1. compiles the Swift package's ``SecAggC`` dynamic library in release mode with the Swift runtime linked
   statically (``swift build -c release --product SecAggC -Xswiftc -static-stdlib``, in the scratch folder
   ``.build-python`` of the Swift package), exporting only the ``secagg_*`` functions of its C header, so the
   library loads without a Swift toolchain and cannot clash with another Swift runtime in the process
   (libsodium stays a system library);
2. strips its debugging symbols when ``strip`` is available;
3. writes a platform wheel (``py3-none-<platform>``: the package talks to the library through ctypes, so it does
   not depend on the Python ABI) holding the Python sources and the library.

The backend needs nothing but the standard library, so the build needs no download. Environment:

* ``SECAGG_SWIFT_PACKAGE``: the Swift package's folder (default: two folders above this package);
* ``SECAGG_SWIFT_SCRATCH_PATH``: the build folder (default ``<package>/.build-python``);
* ``SECAGG_SWIFT_BUILD_FLAGS``: extra arguments for ``swift build`` (split on whitespace).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_PROJECT = _HERE.parent
_PACKAGE = _PROJECT / "secagg"
_LIBRARY = "libSecAggC.dylib" if sys.platform == "darwin" else "libSecAggC.so"


def _load_toml(path: Path) -> dict:
    try:
        import tomllib  # Python ≥ 3.11
    except ImportError:  # pragma: no cover - older Pythons
        try:
            import tomli as tomllib
        except ImportError:
            from pip._vendor import tomli as tomllib
    with path.open("rb") as file:
        return tomllib.load(file)


def _project() -> dict:
    return _load_toml(_PROJECT / "pyproject.toml")["project"]


def _distribution() -> str:
    return re.sub(r"[-_.]+", "_", _project()["name"]).lower()


def _version() -> str:
    return _project()["version"]


def _metadata() -> str:
    project = _project()
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project.get('description', '')}",
        f"Requires-Python: {project.get('requires-python', '>=3.9')}",
    ]
    lines += [f"Requires-Dist: {requirement}" for requirement in project.get("dependencies", [])]
    if "license" in project and "text" in project["license"]:
        lines.append(f"License: {project['license']['text']}")
    return "\n".join(lines) + "\n"


def _platform_tag() -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", sysconfig.get_platform())


def _wheel_tag() -> str:
    return f"py3-none-{_platform_tag()}"


def _swift_package() -> Path:
    configured = os.environ.get("SECAGG_SWIFT_PACKAGE")
    package = Path(configured).resolve() if configured else _PROJECT.parent.parent
    if not (package / "Package.swift").is_file():
        raise RuntimeError(
            f"secagg: no Package.swift in {package}. Build the Python package from a clone of "
            "swift-secure-aggregation (pip install ./Bindings/Python), or set SECAGG_SWIFT_PACKAGE."
        )
    return package


def _log(message: str) -> None:
    print(f"secagg build: {message}", file=sys.stderr, flush=True)


def _build_library(directory: Path) -> Path:
    """Builds libSecAggC and copies it (stripped) into ``directory``."""
    swift = shutil.which("swift")
    if swift is None:
        raise RuntimeError("secagg: the Swift toolchain (`swift`) is needed to build the native library")
    package = _swift_package()
    scratch = os.environ.get("SECAGG_SWIFT_SCRATCH_PATH") or str(package / ".build-python")
    exports = directory / "exports.map"
    exports.write_text("{\n  global: secagg_*;\n  local: *;\n};\n")
    command = [
        swift, "build", "-c", "release", "--product", "SecAggC", "--scratch-path", scratch,
        "-Xswiftc", "-static-stdlib",
    ]
    if sys.platform != "darwin":
        command += ["-Xlinker", f"--version-script={exports}"]
    command += os.environ.get("SECAGG_SWIFT_BUILD_FLAGS", "").split()
    _log(" ".join(command))
    subprocess.run(command, cwd=package, check=True, stdout=sys.stderr)
    bin_path = subprocess.run(
        command[:2] + ["-c", "release", "--scratch-path", scratch, "--show-bin-path"],
        cwd=package, check=True, capture_output=True, text=True,
    ).stdout.strip()
    built = Path(bin_path) / _LIBRARY
    target = directory / _LIBRARY
    shutil.copyfile(built, target)
    strip = shutil.which("strip")
    if strip is not None:
        flag = "-x" if sys.platform == "darwin" else "--strip-unneeded"
        subprocess.run([strip, flag, str(target)], check=True)
    _log(f"{target.name}: {target.stat().st_size // (1 << 20)} MiB")
    return target


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"{name},sha256={digest},{len(data)}"


def _dist_info_files() -> dict[str, bytes]:
    wheel = f"Wheel-Version: 1.0\nGenerator: secagg_build\nRoot-Is-Purelib: false\nTag: {_wheel_tag()}\n"
    return {"METADATA": _metadata().encode(), "WHEEL": wheel.encode(), "top_level.txt": b"secagg\n"}


# PEP 517 hooks.


def get_requires_for_build_wheel(config_settings=None):
    """Nothing to install: the backend uses the standard library only."""
    return []


def get_requires_for_build_sdist(config_settings=None):
    """Nothing to install."""
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    """Writes the .dist-info folder without building the library."""
    dist_info = f"{_distribution()}-{_version()}.dist-info"
    path = Path(metadata_directory) / dist_info
    path.mkdir(parents=True, exist_ok=True)
    for name, data in _dist_info_files().items():
        (path / name).write_bytes(data)
    return dist_info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    """Builds the native library and writes the wheel; returns its file name."""
    name = f"{_distribution()}-{_version()}-{_wheel_tag()}.whl"
    dist_info = f"{_distribution()}-{_version()}.dist-info"
    with tempfile.TemporaryDirectory() as temporary:
        library = _build_library(Path(temporary))
        files: dict[str, bytes] = {}
        for source in sorted(_PACKAGE.iterdir()):
            if source.suffix in (".py", ".typed") and source.is_file():
                files[f"secagg/{source.name}"] = source.read_bytes()
        files[f"secagg/{_LIBRARY}"] = library.read_bytes()
        for file_name, data in _dist_info_files().items():
            files[f"{dist_info}/{file_name}"] = data
        record = [_record_line(path, data) for path, data in files.items()] + [f"{dist_info}/RECORD,,"]
        files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
        output = Path(wheel_directory) / name
        with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
            for path, data in files.items():
                info = zipfile.ZipInfo(path, date_time=(2025, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (0o755 if path.endswith(_LIBRARY) else 0o644) << 16
                wheel.writestr(info, data)
    _log(f"wrote {name}")
    return name


def build_sdist(sdist_directory, config_settings=None):
    """Source distributions are not supported: the package is built from a clone of the Swift package."""
    raise RuntimeError(
        "secagg: no source distribution; install from a clone of swift-secure-aggregation with "
        "`pip install ./Bindings/Python`"
    )
