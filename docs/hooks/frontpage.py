"""The site's home page is README.md itself, so the front page is written once.

The README links into the site as `docs/<page>.md`, which is right where it is read (the repository's
root); on the site that page sits in docs/ already, so the prefix is dropped.
"""
import re
from pathlib import Path

from mkdocs.structure.files import File

_INTO_DOCS = re.compile(r"\]\(docs/")


def on_files(files, config):
    readme = Path(config["config_file_path"]).parent / "README.md"
    files.append(File.generated(config, "index.md", content=_INTO_DOCS.sub("](", readme.read_text())))
    return files
