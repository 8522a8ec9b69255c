"""Time conventions shared by every package: the zone Chinese government pages are written in.

A leaf module (it imports nothing of ours), so the packages below the wiring may use it too.
"""

DEFAULT_TIMEZONE = "Asia/Shanghai"
"""How a date or time written without a zone is read unless a source says otherwise: pages
of Chinese government sites give local (UTC+8) dates."""
