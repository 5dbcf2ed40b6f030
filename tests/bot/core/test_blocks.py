import random
import re

from bot.core.blocks import text_sections
from bot.core.text import quote

TOKEN = re.compile(r"<[^<>]*>|&[a-z]+;")
PIECES = ["word", "Q&amp;A", "&lt;3", "&gt;", "<@UANA>", "<https://example.com/a?b=c|a link>", "<#CKUDOS>", "x" * 30]


def random_text(rng: random.Random) -> str:
    words = [rng.choice(PIECES) for _ in range(rng.randint(1, 200))]
    return "".join(word + rng.choice([" ", " ", " ", "", "\n"]) for word in words).strip()


def texts_of(blocks: list[dict]) -> list[str]:
    return [block["text"]["text"] for block in blocks]


def test_long_texts_become_sections_within_the_limit_and_lose_nothing():
    rng = random.Random(11)
    for _ in range(300):
        text, limit = random_text(rng), rng.randint(40, 400)
        pieces = texts_of(text_sections(text, limit))
        assert all(len(piece) <= limit for piece in pieces)
        assert sorted(TOKEN.findall("".join(pieces))) == sorted(TOKEN.findall(text)), "a token was cut"
        assert re.sub(r"\s", "", "".join(pieces)) == re.sub(r"\s", "", text)


def test_a_quoted_line_cut_in_pieces_stays_quoted():
    message = " ".join(["&amp;&lt;&gt;"] * 400)  # one line of 5,199 characters
    pieces = texts_of(text_sections(f"headline\n{quote(message)}"))
    assert pieces[0] == "headline" and len(pieces) == 3
    assert all(len(piece) <= 3000 and piece.startswith("> ") for piece in pieces[1:])
    assert " ".join(piece.removeprefix("> ") for piece in pieces[1:]) == message


def test_a_short_text_is_one_section():
    assert texts_of(text_sections("hello\n> there")) == ["hello\n> there"]
