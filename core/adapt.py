"""The engine's parts set for what the probe found on the tenant (`HaloProfile`).

One function, so every adaptation is in one place: the body field(s) and tag path the
renderer writes, how files travel, the article URL and whether removals try DELETE, how the
reconciler looks copies up, whether creates go one per request, whether customer restrictions
are kept, how images are stored (core.images). A changed choice changes the payload, hence the
content hash: the next pass re-sends the articles it affects, and only those.
"""

from __future__ import annotations

from core.halo import HaloClient
from core.halo_profile import HaloProfile
from core.planner import Planner
from core.reconciler import Reconciler
from core.render import LinkedRenderer, RenderOptions
from core.writer import Writer


def adapt_to(
    profile: HaloProfile,
    halo: HaloClient,
    writer: Writer,
    reconciler: Reconciler,
    planner: Planner,
    renderer: LinkedRenderer,
) -> None:
    writer.images.upload_works = profile.image_upload
    renderer.options = RenderOptions(
        body_fields=profile.body_fields,
        tag_path=profile.tag_path,
        attach_in_post=profile.attach_in_post,
        files_note="" if profile.attach_in_post else profile.files_note(),
        images=writer.images.label,
    )
    halo.article_url_template = profile.url_template
    halo.delete_refused = profile.delete_refused
    reconciler.marker_lookup = profile.marker_lookup
    reconciler.bulk_lookup = profile.bulk_lookup
    reconciler.name_lookup = profile.name_lookup
    planner.restrictions_kept = profile.client_access
    planner.probed_on = profile.probed_at[:10]
    # Without a marker lookup, a create whose answer is lost cannot be found again: one per
    # request keeps what may be duplicated to one article (updates stay batched: their id
    # makes them safe to send again).
    writer.one_create_per_request = profile.crash_recovery_degraded
