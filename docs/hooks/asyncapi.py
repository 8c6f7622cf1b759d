"""The Kafka page's table of channels, rendered at build time from docs/asyncapi.json (AsyncAPI 3.0).

A page asks for it with the placeholder line. Each channel becomes a row of a table: its topic, its key,
who sends and who receives, its delivery and its payload schemas; then a section of its own with its
description and each payload's JSON schema, collapsed. The document describes the service (its
info.title), so an operation whose action is `receive` means the service reads the channel and someone
else (the operation's `x-counterpart`, else "clients") writes it, and `send` the reverse. The key is
the Kafka binding's key schema of the messages; the delivery is the channel's or its operations'
`x-delivery`.
"""
import html
import json
import re
import textwrap
from pathlib import Path

from mkdocs.exceptions import PluginError

PLACEHOLDER = "<!-- asyncapi: channels -->"
_SCHEMA_REF = "#/components/schemas/"
_REF = re.compile(r'"\$ref": "#/components/schemas/([^"]+)"')
_HEAD = ("topic", "key", "sent by", "received by", "delivery", "payload")


def on_page_markdown(markdown, page, config, files):
    if PLACEHOLDER not in markdown:
        return markdown
    path = Path(config["docs_dir"]) / "asyncapi.json"
    if not path.exists():
        raise PluginError(f"{page.file.src_uri} asks for the channel table, and {path} is missing")
    return markdown.replace(PLACEHOLDER, channel_table(json.loads(path.read_text())))


def channel_table(doc: dict) -> str:
    """Markdown: the table of channels, then a section per channel with its description and schemas."""
    if not str(doc.get("asyncapi", "")).startswith("3."):
        raise PluginError(f"docs/asyncapi.json is AsyncAPI {doc.get('asyncapi')!r}; this page reads 3.x")
    service = doc.get("info", {}).get("title", "the service")
    channels = [_channel(doc, channel_id, _resolve(doc, c), service)
                for channel_id, c in doc.get("channels", {}).items()]
    rows = ["| " + " | ".join(_HEAD) + " |", "|" + "---|" * len(_HEAD)]
    rows += ["| " + " | ".join(c["cells"]) + " |" for c in channels]
    table = '<div class="channels" markdown>\n\n' + "\n".join(rows) + "\n\n</div>"  # styled by channels.css
    return table + "\n\n" + "\n\n".join(c["section"] for c in channels)


def _channel(doc: dict, channel_id: str, channel: dict, service: str) -> dict:
    """A channel's table cells (inline HTML, pipes escaped) and its section (markdown)."""
    operations = [op for op in (_resolve(doc, o) for o in doc.get("operations", {}).values())
                  if op.get("channel", {}).get("$ref") == f"#/channels/{channel_id}"]
    sender = _parties(operations, service, mine="send", theirs="receive", anyone="clients")
    receiver = _parties(operations, service, mine="receive", theirs="send", anyone="subscribers")
    messages = [_resolve(doc, m) for m in channel.get("messages", {}).values()]
    keys = sorted({_key(doc, m) for m in messages} - {""}) or ["—"]
    delivery = channel.get("x-delivery") or next((op["x-delivery"] for op in operations if "x-delivery" in op), "—")
    payloads = [_payload(doc, m) for m in messages]
    address = channel.get("address") or channel_id
    anchor = "channel-" + re.sub(r"[^a-z0-9]+", "-", address.lower()).strip("-")
    topic = f'<a href="#{anchor}"><code>{_text(address)}</code></a>'
    names = "<br>".join(_text(name) for name, _ in payloads) or "—"
    cells = [topic, "<br>".join(map(_inline, keys)), sender, receiver, _inline(delivery), names]
    about = f"<p>{_inline(channel['description'])}</p>\n\n" if channel.get("description") else ""
    schemas = "\n\n".join(f'??? abstract "{name}"\n\n    ```json\n{_indent(json.dumps(schema, indent=2))}\n    ```'
                           for name, schema in payloads)
    return {"cells": [c.replace("|", "&#124;") for c in cells],
            "section": f"### `{address}` {{ #{anchor} }}\n\n{about}{schemas}"}


def _parties(operations: list[dict], service: str, *, mine: str, theirs: str, anyone: str) -> str:
    """Who is on one side of a channel: the service where it has an operation of action `mine`, and
    the other side of its `theirs` operations as their `x-counterpart` names it; unnamed, `anyone`
    stands for it where the service is not on that side itself."""
    parties = [service] if any(op.get("action") == mine for op in operations) else []
    theirs_ops = [op for op in operations if op.get("action") == theirs]
    parties += [op["x-counterpart"] for op in theirs_ops if "x-counterpart" in op]
    if theirs_ops and not parties:
        parties = [anyone]
    return "<br>".join(_inline(p) for p in dict.fromkeys(parties)) or "—"


def _key(doc: dict, message: dict) -> str:
    key = message.get("bindings", {}).get("kafka", {}).get("key")
    if not key:
        return ""
    key = _resolve(doc, key)
    return key.get("description") or key.get("type", "")


def _payload(doc: dict, message: dict) -> tuple[str, dict]:
    """The payload's name and its schema with every component schema it refers to, top one first."""
    payload = message.get("payload", {})
    if "schemaFormat" in payload:  # a multi-format schema object wraps the schema itself
        payload = payload["schema"]
    ref = payload.get("$ref", "")
    if not ref.startswith(_SCHEMA_REF):
        return message.get("name", "payload"), _resolve(doc, payload)
    names = [ref.removeprefix(_SCHEMA_REF)]
    for name in names:  # the list grows while it is read: the closure of the references
        found = _REF.findall(json.dumps(_schema(doc, name)))
        names += [n for n in dict.fromkeys(found) if n not in names]
    return names[0], {n: _schema(doc, n) for n in names}


def _schema(doc: dict, name: str) -> dict:
    return _resolve(doc, {"$ref": _SCHEMA_REF + name})


def _resolve(doc: dict, node: dict) -> dict:
    """Follow a local `$ref` (a JSON pointer into the document), however many times it is chained."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise PluginError(f"docs/asyncapi.json refers outside itself: {ref}")
        node = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if part not in node:
                raise PluginError(f"docs/asyncapi.json: {ref} leads nowhere")
            node = node[part]
    return node


def _indent(text: str) -> str:
    """Inside a collapsed block, as pymdownx.details reads its body."""
    return textwrap.indent(text, "    ")


def _text(s: str) -> str:
    return html.escape(str(s), quote=False)


def _inline(s: str) -> str:
    """Escaped text with its `code spans` kept, as a description in markdown writes them."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", _text(s))
