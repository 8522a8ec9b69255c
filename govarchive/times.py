"""Time conventions shared by every package: the zone Chinese government pages are written in.

A leaf module (it imports nothing of ours), so the packages below the wiring may use it too.
The command line and the web read the dates users give with :func:`parse_day_or_time` and
:func:`in_zone`, and show moments with :func:`local_text`.
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"
"""How a date or time written without a zone is read unless a source says otherwise: pages
of Chinese government sites give local (UTC+8) dates."""

DAY_OR_TIME_HINT = "write YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][+08:00]"


def parse_day_or_time(text: str) -> date | datetime:
    """A day (``YYYY-MM-DD``) or an ISO 8601 time, as the user wrote it: a ``date``, or a
    ``datetime`` that is naive when no offset was given (see :func:`in_zone`). Raises
    ``ValueError`` naming the text and the accepted forms."""
    value = text.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a date: {DAY_OR_TIME_HINT}") from None


def in_zone(value: date | datetime, zone: str = DEFAULT_TIMEZONE) -> datetime:
    """The one rule for dates and times given without a zone: they are read in ``zone`` (a
    source's timezone, else Asia/Shanghai). A day becomes its first instant there; a time
    with an offset is kept as it is."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=ZoneInfo(zone))
    if value.tzinfo is None:
        return value.replace(tzinfo=ZoneInfo(zone))
    return value


def local_text(value: str | datetime | None, zone: str = DEFAULT_TIMEZONE) -> str:
    """A moment as people read it: local time in ``zone``, to the second, with its offset
    (``2026-03-01 16:00:05 +08:00``); ``-`` for none."""
    if value is None or value == "":
        return "-"
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # the database keeps UTC
    local = when.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"
