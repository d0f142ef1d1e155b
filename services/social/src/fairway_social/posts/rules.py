"""Each platform's rules for a post, and the text each platform receives. Pure: checked when a post is saved and
again just before it is published (the connections or the rules may have changed meanwhile)."""

from __future__ import annotations

import re
from dataclasses import dataclass

IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
MAGIC = {  # the bytes each declared type must start with: a type is checked, not trusted
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}
URL = re.compile(r"https?://\S+")
X_URL_LENGTH = 23  # X counts every link as 23 characters (t.co)


@dataclass(frozen=True)
class Limits:
    max_chars: int
    max_images: int
    needs_media: bool
    image_types: frozenset[str]
    max_image_bytes: int
    max_hashtags: int | None = None


LIMITS = {
    "X": Limits(280, 4, False, frozenset(IMAGE_TYPES), 5 * 1024 * 1024),
    "INSTAGRAM": Limits(2200, 10, True, frozenset({"image/jpeg"}), 8 * 1024 * 1024, max_hashtags=30),
    "FACEBOOK": Limits(63206, 10, False, frozenset(IMAGE_TYPES), 10 * 1024 * 1024),
}


@dataclass(frozen=True)
class MediaFacts:
    content_type: str
    size: int


def hashtag_text(hashtags: list[str], text: str) -> str:
    """The hashtags not already in the text, as `#tag` words."""
    tags = [t if t.startswith("#") else f"#{t}" for t in hashtags]
    return " ".join(t for t in tags if t.lower() not in text.lower())


def compose(platform: str, text: str, hashtags: list[str], link: str | None) -> str:
    """What the platform receives as the post's text. Facebook gets the link as its own field (a preview card);
    X and Instagram get it in the text (Instagram shows it, unlinked)."""
    parts = [text.strip()]
    if tags := hashtag_text(hashtags, text):
        parts.append(tags)
    if link and platform in ("X", "INSTAGRAM") and link not in text:
        parts.append(link)
    return "\n\n".join(parts) if platform != "X" else " ".join(parts)


def weighted_length(platform: str, composed: str) -> int:
    if platform != "X":
        return len(composed)
    return len(URL.sub("x" * X_URL_LENGTH, composed))


def check(platform: str, text: str, hashtags: list[str], link: str | None, media: list[MediaFacts]) -> list[dict[str, str]]:
    """Problems of the post on this platform: each names the platform, the field at fault and what is wrong."""
    lim = LIMITS[platform]
    name = platform.title() if platform != "X" else "X"
    out: list[dict[str, str]] = []

    def bad(field: str, message: str) -> None:
        out.append({"platform": platform, "field": field, "message": message})

    composed = compose(platform, text, hashtags, link)
    length = weighted_length(platform, composed)
    if length > lim.max_chars:
        bad("text", f"{name} allows {lim.max_chars:,} characters; this post has {length:,} "
                    "(text, hashtags and link as they will be posted)")
    if lim.needs_media and not media:
        bad("media", f"{name} posts need at least one image")
    if len(media) > lim.max_images:
        bad("media", f"{name} allows at most {lim.max_images} images; this post has {len(media)}")
    for i, m in enumerate(media):
        if m.content_type not in lim.image_types:
            bad(f"media[{i}]", f"{name} does not accept {m.content_type} images "
                               f"(accepted: {', '.join(sorted(lim.image_types))})")
        elif m.size > lim.max_image_bytes:
            bad(f"media[{i}]", f"{name} accepts images up to {lim.max_image_bytes // (1024 * 1024)} MB; "
                               f"this one is {m.size / (1024 * 1024):.1f} MB")
    if lim.max_hashtags is not None and len(hashtags) > lim.max_hashtags:
        bad("hashtags", f"{name} allows at most {lim.max_hashtags} hashtags; this post has {len(hashtags)}")
    return out


def sniff(content_type: str, data: bytes) -> bool:
    """Do the bytes look like the declared type?"""
    return any(data.startswith(m) for m in MAGIC.get(content_type, ()))
