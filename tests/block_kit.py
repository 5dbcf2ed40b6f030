"""Block Kit's limits, checked on what the fake Slack recorded: Slack refuses for good a message or
a view that breaks one (https://docs.slack.dev/reference/block-kit). `problems(call)` lists them."""

from __future__ import annotations

from typing import Any

MESSAGE_BLOCKS, VIEW_BLOCKS = 50, 100
VIEW_TITLE = 24  # a view's title, submit and close
OPTIONS = {"overflow": (1, 5), "checkboxes": (1, 10), "radio_buttons": (1, 10)}  # other menus: up to 100


def problems(call) -> list[str]:
    """Every limit one recorded Web API call (or response_url answer) breaks, as readable lines."""
    found: list[str] = []
    params = call.params
    view = params.get("view")
    if isinstance(view, dict):
        for field in ("title", "submit", "close"):
            _text(found, f"view.{field}", view.get(field), VIEW_TITLE)
        _length(found, "view.private_metadata", view.get("private_metadata"), 3000)
        _blocks(found, "view", view.get("blocks") or [], VIEW_BLOCKS)
    _length(found, "text", params.get("text"), 40000)
    if isinstance(params.get("blocks"), list):
        _blocks(found, "message", params["blocks"], MESSAGE_BLOCKS)
    return [f"{call.method}: {line}" for line in found]


def _blocks(found: list[str], where: str, blocks: list[dict], most: int) -> None:
    if len(blocks) > most:
        found.append(f"{where}: {len(blocks)} blocks > {most}")
    for n, block in enumerate(blocks):
        at = f"{where}.blocks[{n}]({block['type']})"
        _length(found, f"{at}.block_id", block.get("block_id"), 255)
        if block["type"] == "section":
            _text(found, f"{at}.text", block.get("text"), 3000)
            for field in block.get("fields") or []:
                _text(found, f"{at}.fields", field, 2000)
            if "accessory" in block:
                _element(found, f"{at}.accessory", block["accessory"])
        elif block["type"] == "header":
            _text(found, f"{at}.text", block["text"], 150)
        elif block["type"] == "context":
            if len(block["elements"]) > 10:
                found.append(f"{at}: more than 10 elements")
            for element in block["elements"]:
                _text(found, f"{at}.elements", element, 3000)
        elif block["type"] == "actions":
            if len(block["elements"]) > 25:
                found.append(f"{at}: more than 25 elements")
            for element in block["elements"]:
                _element(found, f"{at}.elements", element)
        elif block["type"] == "input":
            _text(found, f"{at}.label", block["label"], 2000)
            _text(found, f"{at}.hint", block.get("hint"), 2000)
            _element(found, f"{at}.element", block["element"])


def _element(found: list[str], at: str, element: dict) -> None:
    kind = element["type"]
    _length(found, f"{at}.action_id", element.get("action_id"), 255)
    _text(found, f"{at}.placeholder", element.get("placeholder"), 150)
    if kind == "button":
        _text(found, f"{at}.text", element["text"], 75)
        _length(found, f"{at}.value", element.get("value"), 2000)
    options = element.get("options")
    if options is not None:
        low, high = OPTIONS.get(kind, (1, 100))
        if not low <= len(options) <= high:
            found.append(f"{at}: {len(options)} options, not {low} to {high}")
        for option in options:
            _text(found, f"{at}.option.text", option["text"], 75)
            _text(found, f"{at}.option.description", option.get("description"), 75)
            _length(found, f"{at}.option.value", option.get("value"), 150)
    confirm = element.get("confirm")
    if confirm:
        for field, most in (("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)):
            _text(found, f"{at}.confirm.{field}", confirm.get(field), most)


def _text(found: list[str], at: str, text_object: Any, most: int) -> None:
    text = text_object.get("text") if isinstance(text_object, dict) else text_object
    _length(found, at, text, most)


def _length(found: list[str], at: str, value: Any, most: int) -> None:
    if isinstance(value, str) and len(value) > most:
        found.append(f"{at}: {len(value)} characters > {most}")
