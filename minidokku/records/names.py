"""Validation of the names and numbers users give: apps, ssh key names, counts, and the git
object ids and ref names that reach git's argv (a push's hook lines, branches)."""

import re
from typing import Optional

from minidokku.errors import ValidationError

APP_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
APP_MAX_LENGTH = 48
# Names that would collide with files or folders of the state root (ROOT/properties holds the
# global properties: an app of that name would take them over), or confuse a reader.
RESERVED_APP_NAMES = frozenset({"tls", "plugins", "settings", "vhost", "ssh", "cache", "git", "home", "properties"})
KEY_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")  # fits 64 bits: int() and sleep() take it


def validate_app_name(name: str) -> str:
    if not APP_PATTERN.fullmatch(name) or len(name) > APP_MAX_LENGTH:
        raise ValidationError(
            f"invalid app name {name!r}: use lowercase letters, digits and dashes, "
            f"starting with a letter or digit, at most {APP_MAX_LENGTH} characters"
        )
    if name in RESERVED_APP_NAMES:
        raise ValidationError(f"invalid app name {name!r}: the name is reserved")
    return name


def validate_key_name(name: str) -> str:
    if not KEY_NAME_PATTERN.fullmatch(name):
        raise ValidationError(f"invalid key name {name!r}: use letters, digits and . _ @ -, at most 64 characters")
    return name


def is_whole_number(text: str) -> bool:
    """ASCII digits only, at most 18: str.isdigit() also accepts '²', which int() then refuses, and
    a value of thousands of digits (a config var's to choose) overflows what takes it."""
    return bool(WHOLE_NUMBER.fullmatch(text))


SIZE_PATTERN = re.compile(r"^(\d+(?:\.\d+)?)([bkmg]?)b?$", re.IGNORECASE)
SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(text: str) -> int:
    """A size in bytes, docker's way (`512m`, `1.5g`): docker-options' --memory, MAX_PUSH_SIZE."""
    match = SIZE_PATTERN.match(text)
    if not match:
        raise ValidationError(f"size {text!r} must be a number with an optional unit b, k, m or g")
    return int(float(match.group(1)) * SIZE_UNITS[match.group(2).lower()])


OBJECT_ID = re.compile(r"[0-9a-f]{40}")  # a SHA-1 object id, as our repos use
ZERO_OBJECT_ID = "0" * 40  # what git's hook lines say for "no commit": a new or a deleted ref
# Docker's image reference grammar ([HOST[:PORT]/]PATH[:TAG][@DIGEST]), or an image id.
PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REFERENCE = re.compile(
    rf"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]+)?/)?{PATH_COMPONENT}(?:/{PATH_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
    r"|sha256:[0-9a-f]{64}"
)
IMAGE_REFERENCE_MAX_LENGTH = 255
# What `git check-ref-format` refuses anywhere in a ref name: control characters, space, ~ ^ : ? * [ \
REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def validate_object_id(text: str, zero_allowed: bool = False) -> str:
    """A full 40-hex object id (git's all-zero id only where zero_allowed): never an abbreviation,
    a revision expression (`main~1`) or anything git would read as an option."""
    if not OBJECT_ID.fullmatch(text) or (text == ZERO_OBJECT_ID and not zero_allowed):
        raise ValidationError(f"invalid object id {text[:80]!r}: expected 40 hexadecimal digits")
    return text


def validate_image_reference(reference: str) -> str:
    """An image as Docker names it (`nginx:1.25`, `registry:5000/team/app@sha256:...`, an image
    id): nothing that would change the Engine API's URL it goes into (`..`, `?`, `#`, `%`)."""
    if len(reference) > IMAGE_REFERENCE_MAX_LENGTH or not IMAGE_REFERENCE.fullmatch(reference):
        raise ValidationError(
            f"invalid image {reference[:80]!r}: expected [HOST[:PORT]/]NAME[:TAG][@sha256:DIGEST], "
            "NAME in lowercase letters, digits and separators"
        )
    return reference


def ref_format_problem(ref: str) -> Optional[str]:
    """Why `git check-ref-format REF` refuses ref (a full name with at least one slash), or None."""
    if REF_FORBIDDEN.search(ref):
        return "no control characters, spaces or any of ~ ^ : ? * [ \\"
    if ref == "@" or "@{" in ref:
        return "no @{ and not @ alone"
    if ".." in ref:
        return "no .."
    if ref.endswith("."):
        return "no . at the end"
    components = ref.split("/")
    if len(components) < 2 or not all(components):
        return "slash-separated names, no empty one (no leading, trailing or double /)"
    if any(component.startswith(".") or component.endswith(".lock") for component in components):
        return "no name starting with . or ending with .lock"
    return None


def validate_ref(ref: str) -> str:
    """A full ref name (`refs/heads/main`) as `git check-ref-format` accepts it, under refs/."""
    problem = ref_format_problem(ref) or (None if ref.startswith("refs/") else "a full name under refs/")
    if problem:
        raise ValidationError(f"invalid ref {ref[:80]!r}: {problem}")
    return ref


def validate_branch(name: str) -> str:
    """A branch name as `git check-ref-format --branch` accepts it: a valid refs/heads/NAME that
    does not start with a dash (so that it can never read as an option)."""
    problem = ref_format_problem(f"refs/heads/{name}")
    if problem is None and (name.startswith("-") or name == "HEAD"):
        problem = "not HEAD and no - at the start"
    if problem:
        raise ValidationError(f"invalid branch name {name[:80]!r}: {problem}")
    return name


def validate_revision(ref: str) -> str:
    """What a user may name of another repository (a buildpack's #ref, git:sync's ref): "" for its
    default branch, a full 40-hex commit, or a branch or tag name; never an option."""
    if ref and not OBJECT_ID.fullmatch(ref):
        validate_branch(ref)
    return ref
