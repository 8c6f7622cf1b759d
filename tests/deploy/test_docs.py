"""The documentation site builds with `mkdocs build --strict` (no broken link or anchor, no page left out
of the nav), its Kafka page carries every channel of docs/asyncapi.json, and the README stays a front
page: at most 250 lines, with the two commands that .ci/run relies on."""
import html
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README_MAX_LINES = 250


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    # NO_MKDOCS_2_WARNING: mkdocs-material's banner about MkDocs 2.0, printed on every build.
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)], cwd=ROOT,
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    return out


def test_the_site_builds_strictly_with_the_readme_as_its_home_page(site):
    home = (site / "index.html").read_text()
    assert "The two commands" in home and 'href="kafka/"' in home


def test_the_kafka_page_lists_every_channel_of_the_asyncapi_document(site):
    page = (site / "kafka" / "index.html").read_text()
    channels = json.loads((ROOT / "docs" / "asyncapi.json").read_text())["channels"]
    assert channels
    for channel in channels.values():
        assert f"<code>{html.escape(channel['address'], quote=False)}</code>" in page, channel["address"]
    assert "asyncapi: channels" not in page  # the placeholder was replaced


def test_the_readme_is_a_front_page_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= README_MAX_LINES, "README.md is the front page: move detail to docs/"
    for command in ("make run ", "make test "):
        assert f"\n{command}" in readme, command
