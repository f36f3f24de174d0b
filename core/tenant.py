"""What hhsync knows about the user's Halo: the probe's verdicts (`HaloProfile`), applied to the
engine's parts (`core.adapt`), and the notice an admin must see when a tenant degrades crash
recovery."""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.events import Announcer
from core.halo_profile import HaloProfile
from core.probe import NEVER_PROBED, HaloProbe, ProbeReport


class HaloKnowledge:
    """The verdicts in force, where they come from, and what follows from them."""

    def __init__(
        self, prober: HaloProbe, announcer: Announcer, adapt: Callable[[HaloProfile], None]
    ) -> None:
        self.prober = prober
        self.announcer = announcer
        self._adapt = adapt
        self.profile = HaloProfile()
        self.notice = ""
        """One line for the header when the tenant needs saying ("crash recovery degraded")."""

    @property
    def crash_recovery_degraded(self) -> bool:
        return self.profile.crash_recovery_degraded

    def load(self) -> None:
        """The verdicts stored in the mapping file by the last probe."""
        self.apply(self.prober.stored())

    def apply(self, profile: HaloProfile) -> None:
        """Adapt the engine's parts to `profile`; a degraded tenant is said at once."""
        self.profile = profile
        self._adapt(profile)
        self.notice = profile.notice()
        if self.notice:
            self.announcer.say(logging.WARNING, self.notice)

    async def before_pass(self) -> None:
        """Tidy what an interrupted probe left; on a tenant never probed, run the probe's
        read-only part and say so."""
        learned = await self.prober.before_pass(self.profile)
        if learned is not None:
            self.apply(learned)
            self.announcer.say(logging.WARNING, NEVER_PROBED)

    async def probe(self) -> ProbeReport:
        """Write, check and remove one test article, then adapt to what it found."""
        report = await self.prober.full()
        self.apply(report.profile)
        return report
