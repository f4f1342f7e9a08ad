"""SCoPe's coordinate names for new Fritz sources: ``ZTFJhhmmss.ss±ddmmss.s``.

Right ascension in hours, minutes and seconds to 0.01 s; declination in degrees, arcminutes and
arcseconds to 0.1″. SCoPe floors hours and minutes and *rounds* the seconds with ``%05.2f``, so
59.996 s printed as ``60.00``; here the rounding carries into the minutes and hours instead,
which gives SCoPe's name everywhere else.
"""

from __future__ import annotations

import math

NAME_PREFIX = "ZTFJ"


def radec_to_iau_name(ra: float, dec: float, prefix: str = NAME_PREFIX) -> str:
    """``<prefix>HHMMSS.ss±DDMMSS.s`` of (ra, dec) in degrees; ValueError when out of range."""
    ra, dec = float(ra), float(dec)
    if not (math.isfinite(ra) and 0.0 <= ra < 360.0):
        raise ValueError(f"ra must be in [0, 360) degrees, got {ra}")
    if not (math.isfinite(dec) and -90.0 <= dec <= 90.0):
        raise ValueError(f"dec must be in [-90, 90] degrees, got {dec}")
    centiseconds = round(ra / 15.0 * 3600.0 * 100.0) % (24 * 3600 * 100)
    hours, rest = divmod(centiseconds, 3600 * 100)
    minutes, seconds = divmod(rest, 60 * 100)
    deciarcsec = round(abs(dec) * 3600.0 * 10.0)
    degrees, rest = divmod(deciarcsec, 3600 * 10)
    arcmin, arcsec = divmod(rest, 60 * 10)
    sign = "-" if dec < 0 and deciarcsec > 0 else "+"
    return (
        f"{prefix}{hours:02d}{minutes:02d}{seconds // 100:02d}.{seconds % 100:02d}"
        f"{sign}{degrees:02d}{arcmin:02d}{arcsec // 10:02d}.{arcsec % 10:d}"
    )
