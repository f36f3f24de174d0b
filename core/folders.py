"""Which FAQ list an article goes to under `HHSYNC_FOLDERS`: its knowledge base's list (flat),
or its Hudu folder's list, named by the folder's path, in a group per knowledge base (lists)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.config import FolderLayout
from core.faqlists import FaqListSpec
from core.models import HuduFolder
from core.text import without_controls

PATH_SEPARATOR = " / "
MAX_DEPTH = 64
"""More parents than this means a loop in Hudu's folders: the path stops there."""


def folder_third_party_id(folder_id: int) -> str:
    return f"hudu:folder:{folder_id}"


SCOPE_GROUP_PREFIX = "hudu:group:"


def scope_group_third_party_id(scope_key: str) -> str:
    """The group of a knowledge base's lists: `hudu:group:central`, `hudu:group:company:<id>`."""
    return SCOPE_GROUP_PREFIX + scope_key.removeprefix("hudu:")


def folder_path(folder: HuduFolder, folders: Mapping[int, HuduFolder]) -> str:
    """ "Network / Firewalls": the folder's name after its parents' names."""
    names: list[str] = []
    seen: set[int] = set()
    current: HuduFolder | None = folder
    while current is not None and current.id not in seen and len(names) < MAX_DEPTH:
        seen.add(current.id)
        names.append(without_controls(current.name) or f"folder {current.id}")
        parent = current.parent_folder_id
        current = folders.get(parent) if parent is not None else None
    return PATH_SEPARATOR.join(reversed(names))


def describe_layout(layout: FolderLayout) -> str:
    """`hhsync doctor`'s line about HHSYNC_FOLDERS."""
    if layout is FolderLayout.LISTS:
        return (
            "HHSYNC_FOLDERS=lists: a FAQ list per Hudu folder, named by its path, in a group "
            "per knowledge base (articles outside folders: a list named after it)"
        )
    return "HHSYNC_FOLDERS=flat: one FAQ list per knowledge base (Hudu folders not shown)"


@dataclass(frozen=True, slots=True)
class Placement:
    key: str
    """The third-party id of the list the article goes to."""
    lists: dict[str, FaqListSpec]
    """That list and the group above it (below `Hudu`), parents first."""

    @property
    def label(self) -> str:
        """The list for people: "Central KB / Network / Firewalls", or "Acme" (its own name
        where its group has the same one)."""
        spec = self.lists[self.key]
        group = self.lists.get(spec.parent)
        if group is None or group.name == spec.name:
            return spec.name
        return f"{group.name}{PATH_SEPARATOR}{spec.name}"


def root_placement(layout: FolderLayout, scope_name: str, scope_key: str) -> Placement:
    """Where an article outside any folder goes: the list named after its knowledge base (in
    the knowledge base's group, with `lists`)."""
    name = without_controls(scope_name) or scope_key
    if layout is FolderLayout.FLAT:
        return Placement(scope_key, {scope_key: FaqListSpec(name)})
    group = scope_group_third_party_id(scope_key)
    lists = {group: FaqListSpec(name, is_group=True), scope_key: FaqListSpec(name, parent=group)}
    return Placement(scope_key, lists)


def place(
    layout: FolderLayout,
    *,
    scope_name: str,
    scope_key: str,
    company_id: int | None,
    folder_id: int | None,
    folders: Mapping[int, HuduFolder],
) -> Placement:
    """The list of an article in folder `folder_id` of a knowledge base. A folder Hudu did not
    list, or one of another knowledge base, counts as none."""
    root = root_placement(layout, scope_name, scope_key)
    folder = folders.get(folder_id) if folder_id is not None else None
    if layout is FolderLayout.FLAT or folder is None or folder.company_id != company_id:
        return root
    group = scope_group_third_party_id(scope_key)
    key = folder_third_party_id(folder.id)
    spec = FaqListSpec(folder_path(folder, folders), parent=group)
    return Placement(key, {group: root.lists[group], key: spec})
