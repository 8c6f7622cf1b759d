"""The image's install, without a Docker daemon: the package built from exactly the files
the Dockerfile copies, in a fresh virtual environment (its dependencies borrowed from
the test's own, so that torch is not installed again), run with the image's ENV from a
folder outside the checkout. A folder the Dockerfile forgets, or a path that points
into the checkout, fails here."""
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("schemas", "features", "regime", "tft", "inference", "persistence", "lifecycle", "research", "stream",
            "tft_forecast")


def instructions(dockerfile: Path) -> list[tuple[int, str, list[str]]]:
    """(stage, instruction, arguments), continuation lines joined, comments dropped."""
    out, stage, line = [], -1, ""
    for raw in dockerfile.read_text().splitlines():
        if raw.strip().startswith("#") or not raw.strip():
            continue
        line += raw.rstrip("\\").strip() + " "
        if raw.rstrip().endswith("\\"):
            continue
        word, _, rest = line.strip().partition(" ")
        if word.upper() == "FROM":
            stage += 1
        out.append((stage, word.upper(), shlex.split(rest)))
        line = ""
    return out


def copies(steps, stage: int) -> list[tuple[list[str], str]]:
    """The (sources, destination) of a stage's COPY from the build context."""
    out = []
    for s, word, args in steps:
        if s == stage and word == "COPY" and not any(a.startswith("--from") for a in args):
            paths = [a for a in args if not a.startswith("--")]
            out.append((paths[:-1], paths[-1]))
    return out


def place(sources: list[str], dest: str, workdir: Path, root: Path) -> None:
    target = root / dest.lstrip("/") if dest.startswith("/") else workdir / dest
    for src in sources:
        path = ROOT / src
        to = target / path.name if dest.endswith("/") or len(sources) > 1 or dest == "./" else target
        to.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if path.is_dir() else shutil.copyfile)(path, to)


def test_the_image_install_starts_the_worker_and_serves_the_default_model(tmp_path):
    steps = instructions(ROOT / "Dockerfile")
    image = tmp_path / "image"
    src = image / "src"
    for sources, dest in copies(steps, 0):
        place(sources, dest, src, image)
    for sources, dest in copies(steps, 1):
        place(sources, dest, image / "app", image)
    env_lines = [a for s, word, args in steps if s == 1 and word == "ENV" for a in args]
    env = dict(a.split("=", 1) for a in env_lines)
    # the image's absolute paths, inside this test's folder
    env = {k: v.replace("/app", str(image / "app")).replace("/var/lib", str(image / "var/lib"))
           for k, v in env.items() if k != "PATH"}

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)  # pip and setuptools: the borrowed ones
    site = Path(subprocess.check_output([str(venv / "bin/python"), "-c", "import sysconfig; "
                                         "print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # no .pth of it is run
    subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "."], cwd=src, check=True)

    probe = (
        "import sys, stream.main\n"
        "from stream.settings import load_settings\n"
        "from inference.models import load_forecaster, load_regime\n"
        "s = load_settings()\n"
        "f, r = load_forecaster(s.inference), load_regime(s.inference)\n"
        "assert r is not None, 'the regime book did not ship'\n"
        "assert f.runtime == 'onnx', 'the ONNX graph did not ship: TFT_RUNTIME=auto serves torch'\n"
        f"ours = [m.__file__ for n, m in sys.modules.items() if n.split('.')[0] in {PACKAGES!r} and m.__file__]\n"
        f"assert all(p.startswith({str(site)!r}) for p in ours), [p for p in ours if {str(site)!r} not in p][:3]\n"
        "print(f.version, len(ours))\n")
    run_env = {"PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "HOME": str(tmp_path), **env}
    out = subprocess.run([str(venv / "bin/python"), "-c", probe], cwd=tmp_path, env=run_env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    version, modules = out.stdout.split()
    assert version.startswith("tft-") and int(modules) > 40
    cli = subprocess.run([str(venv / "bin/tft-forecast"), "--help"], cwd=tmp_path, env=run_env,
                         capture_output=True, text=True)
    assert cli.returncode == 0 and "worker" in cli.stdout, cli.stderr[-2000:]
