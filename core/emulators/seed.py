"""Datasets for the Hudu emulator: a small one for tests, a realistic MSP for the demo, or a file.

Every seeder returns a `SeedSummary` computed from what it put in the state, so tests derive
their expectations (published ids, PDF articles, the oversized file…) instead of hard-coding them.
"""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from core.emulators.halo import HaloState
from core.emulators.hudu import HuduState

OVERSIZED_BYTES = 25 * 1024 * 1024
"""Halo's attachment limit: files above it are never uploaded."""
OVERSIZED_FILE_SIZE = 30 * 1024 * 1024
NOT_AN_IMAGE = b"<!DOCTYPE html><html><body>Moved to SharePoint</body></html>"


@dataclass(frozen=True, slots=True)
class SeedSummary:
    """What a seeder created. Published = not archived and `draft` not true (null is published)."""

    companies: int
    articles: int
    published: int
    drafts: int
    archived: int
    pdf_articles: int
    oversized_files: int
    published_ids: tuple[int, ...]
    company_ids: tuple[int, ...] = ()
    article_ids: tuple[int, ...] = ()
    draft_ids: tuple[int, ...] = ()
    archived_ids: tuple[int, ...] = ()
    pdf_article_ids: tuple[int, ...] = ()
    hostile_article_id: int | None = None
    oversized_article_id: int | None = None
    shared_article_id: int | None = None


def _summarize(
    hudu: HuduState,
    company_ids: Sequence[int],
    article_ids: Sequence[int],
    *,
    hostile: int | None = None,
    shared: int | None = None,
) -> SeedSummary:
    ids = set(article_ids)
    articles = [hudu.articles[i] for i in sorted(ids)]
    archived = [a.id for a in articles if a.archived]
    drafts = [a.id for a in articles if not a.archived and a.draft is True]
    published = [a.id for a in articles if not a.archived and a.draft is not True]
    seeded_uploads = [u for u in hudu.uploads.values() if u.uploadable_id in ids]
    pdf_ids = sorted(
        {u.uploadable_id for u in seeded_uploads if u.ext == "pdf" or u.mime == "application/pdf"}
    )
    oversized = [u for u in seeded_uploads if u.size > OVERSIZED_BYTES]
    return SeedSummary(
        companies=len(company_ids),
        articles=len(articles),
        published=len(published),
        drafts=len(drafts),
        archived=len(archived),
        pdf_articles=len(pdf_ids),
        oversized_files=len(oversized),
        published_ids=tuple(published),
        company_ids=tuple(company_ids),
        article_ids=tuple(a.id for a in articles),
        draft_ids=tuple(drafts),
        archived_ids=tuple(archived),
        pdf_article_ids=tuple(pdf_ids),
        hostile_article_id=hostile,
        oversized_article_id=oversized[0].uploadable_id if oversized else None,
        shared_article_id=shared,
    )


@dataclass(frozen=True, slots=True)
class CustomerSeed:
    """How each seeded Hudu company meets a Halo customer (`seed_customers`)."""

    by_integration: tuple[int, ...]
    """Companies whose Hudu integration "halo" names their Halo client (a different name)."""
    by_name: tuple[int, ...]
    """Companies with no integration and a Halo client of the same name (any case)."""
    unmatched: tuple[int, ...]
    stale_integration: tuple[int, ...]
    """Unmatched companies whose integration names a Halo client that does not exist."""
    client_of: dict[int, int]
    """Hudu company id → the Halo client id it should be matched to."""


def seed_customers(hudu: HuduState, halo: HaloState) -> CustomerSeed:
    """Halo customers for the Hudu companies: a third matched through Hudu's Halo integration
    (the PSA sync most Hudu + Halo shops run), a third by name, a third not at all (one of
    them with an integration pointing at a client Halo no longer has), plus a few clients no
    company has. Deterministic, for any number of companies."""
    halo.add_client("Internal IT")
    by_integration: list[int] = []
    by_name: list[int] = []
    unmatched: list[int] = []
    stale: list[int] = []
    client_of: dict[int, int] = {}
    for index, company in enumerate(sorted(hudu.companies.values(), key=lambda c: c.id)):
        if company.archived:
            continue
        kind = index % 3
        if kind == 0:
            client = halo.add_client(f"{company.name} Ltd")
            hudu.add_integration(company.id, "halo", client["id"], str(client["id"]))
            by_integration.append(company.id)
            client_of[company.id] = client["id"]
        elif kind == 1:
            name = company.name.upper() if len(by_name) % 2 == 0 else company.name
            client_of[company.id] = halo.add_client(name)["id"]
            by_name.append(company.id)
        else:
            if not stale:
                hudu.add_integration(company.id, "halo", 90_000 + company.id)
                stale.append(company.id)
            unmatched.append(company.id)
    halo.add_client("Former Customer", inactive=True)
    return CustomerSeed(
        tuple(by_integration), tuple(by_name), tuple(unmatched), tuple(stale), client_of
    )


def make_pdf(title: str, lines: Sequence[str] = ()) -> bytes:
    """A small, valid one-page PDF (Helvetica text) with a correct xref table."""

    def text(value: str) -> str:
        value = value.encode("latin-1", "replace").decode("latin-1")
        return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = [f"BT /F1 18 Tf 72 740 Td ({text(title)}) Tj /F1 11 Tf"]
    for index, line in enumerate(lines[:45]):
        ops.append(f"0 {-30 if index == 0 else -15} Td ({text(line)}) Tj")
    ops.append("ET")
    stream = "\n".join(ops)
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream",
        f"<< /Title ({text(title)}) /Producer (hhsync emulator) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


# ---------------------------------------------------------------- the small dataset

HOSTILE_HTML = (
    "<h2>Vendor portal notes</h2>"
    "<p>Pasted from the vendor's portal; keep the useful bits only.</p>"
    "<script>alert(1)</script>"
    "<p><img src=x onerror=alert(1)> Status icon</p>"
    '<p><a href="javascript:alert(1)">Open the portal</a></p>'
    '<iframe src="https://tracker.example-unknown.net/embed?id=42" width="600" height="400">'
    "</iframe>"
    '<p style="color:red" onclick="steal()">Call the vendor on 0800 123 456.</p>'
)

_Placeholders = dict[str, Any]


def _resolve(content: str, slugs: dict[str, str]) -> str:
    """Replace `{kba:key}` with `/kba/<slug>` and `{photo:key}` with `/public_photo/<slug>`."""
    return re.sub(r"\{(kba|photo):([\w-]+)\}", lambda m: f"/{_KIND[m[1]]}/{slugs[m[2]]}", content)


_KIND = {"kba": "kba", "photo": "public_photo"}


def _img(key: str, alt: str) -> str:
    return f'<p><a href="{{photo:{key}}}"><img src="{{photo:{key}}}" alt="{alt}"></a></p>'


def seed_small(hudu: HuduState) -> SeedSummary:
    """Central KB plus 3 companies, 30 articles covering every case the sync must handle."""
    companies = {
        name: hudu.add_company(name)["id"]
        for name in ("Northwind Dental", "Contoso Legal", "Fabrikam Logistics")
    }
    networking = hudu.add_folder("Networking")["id"]
    onboarding = hudu.add_folder("Onboarding")["id"]
    runbooks = hudu.add_folder("Runbooks")["id"]
    remote_access = hudu.add_folder("Remote access", parent_folder_id=networking)["id"]
    procedures = {name: hudu.add_folder("Procedures", cid)["id"] for name, cid in companies.items()}

    # (key, name, company, folder, content, extra add_article kwargs)
    specs: list[tuple[str, str, str | None, int | None, str, _Placeholders]] = [
        (
            "vpn",
            "VPN setup (GlobalProtect)",
            None,
            remote_access,
            "<h2>Install</h2><ol><li>Download the client from the portal.</li>"
            "<li>Sign in with your work account.</li></ol>"
            + _img("vpn-1", "Portal login")
            + _img("vpn-2", "Connected icon")
            + '<p>You need MFA first: see <a href="{kba:mfa}">MFA enrolment</a>.</p>',
            {},
        ),
        (
            "mfa",
            "MFA enrolment for new staff",
            None,
            onboarding,
            "<h2>Authenticator app</h2><ul><li>Install Microsoft Authenticator.</li>"
            "<li>Scan the QR code at https://aka.ms/mysecurityinfo.</li></ul>",
            {},
        ),
        (
            "printers",
            "Printer mapping via Group Policy",
            None,
            networking,
            "<h2>GPO</h2><p>Computer Configuration → Preferences → Printers.</p>"
            + _img("printer-1", "GPO editor"),
            {},
        ),
        (
            "onboarding",
            "New starter onboarding checklist",
            None,
            onboarding,
            "<h2>Day one</h2><ol><li>Create the account.</li>"
            '<li>Set up <a href="{kba:mfa}">MFA</a>.</li>'
            '<li>Install the <a href="{kba:vpn}">VPN</a>.</li>'
            '<li>Read the <a href="{kba:pwmanager}">password manager guide</a>.</li></ol>',
            {},
        ),
        (
            "backup",
            "Backup restore runbook (Veeam)",
            None,
            runbooks,
            "<h2>Restore a file</h2><pre><code>Get-VBRBackup -Name 'FS01' |\n"
            "  Get-VBRRestorePoint | Select-Object -Last 1 |\n"
            "  Start-VBRWindowsFileRestore</code></pre>",
            {},
        ),
        (
            "pwmanager",
            "Password manager rollout",
            None,
            onboarding,
            "<p>Work in progress: rollout plan for the team vault.</p>",
            {"draft": True},
        ),
        (
            "intune",
            "Intune compliance baseline",
            None,
            None,
            "<p>Devices must have BitLocker, Defender and a PIN.</p>",
            {"draft": None},
        ),
        (
            "fax",
            "Legacy fax server notes",
            None,
            None,
            "<p>The fax server was retired in 2023.</p>",
            {"archived": True},
        ),
        (
            "pdf",
            "Firewall change policy.pdf",
            None,
            runbooks,
            "<p>Uploaded PDF: Firewall change policy.pdf</p>",
            {},
        ),
        ("hostile", "Vendor portal notes (pasted)", None, None, HOSTILE_HTML, {}),
        (
            "shared",
            "Remote support tool install",
            None,
            None,
            "<h2>For customers</h2><p>Run the installer attached to this article.</p>",
            {"enable_sharing": True},
        ),
        (
            "patching",
            "Windows server patching schedule",
            None,
            runbooks,
            "<table><thead><tr><th>Ring</th><th>When</th></tr></thead><tbody>"
            "<tr><td>Pilot</td><td>Patch Tuesday + 2 days</td></tr>"
            "<tr><td>Broad</td><td>Patch Tuesday + 7 days</td></tr></tbody></table>",
            {},
        ),
    ]
    company_titles = {
        "Northwind Dental": [
            "Dentrix workstation setup",
            "Imaging bridge (Sidexis) troubleshooting",
            "Reception PC kiosk mode",
            "Front desk printer mapping",
            "Wi-Fi for the patient lounge",
            "After-hours on-call procedure",
        ],
        "Contoso Legal": [
            "iManage document management access",
            "Secure email with the courts (TLS)",
            "Partner laptop encryption check",
            "Dictation software install",
            "Client portal password reset",
            "Scanner-to-email setup",
        ],
        "Fabrikam Logistics": [
            "Warehouse handheld scanner enrolment",
            "Dispatch server restart runbook",
            "Zebra label printer driver install",
            "Site-to-site VPN overview",
            "Forklift tablet Wi-Fi profile",
            "Shipping API key rotation",
        ],
    }
    for company, titles in company_titles.items():
        for index, title in enumerate(titles):
            key = re.sub(r"\W+", "-", title.lower())
            extra: _Placeholders = {"draft": True} if title.startswith("After-hours") else {}
            content = f"<h2>{title}</h2><p>Steps for {company}.</p><ol><li>Check.</li></ol>"
            if index == 0:
                content += '<p>Company VPN: see <a href="{kba:vpn}">the central guide</a>.</p>'
            folder = procedures[company] if index % 2 == 0 else None
            specs.append((key, title, company, folder, content, extra))

    ids: dict[str, int] = {}
    for key, name, owner, folder, _content, extra in specs:
        company_id = companies[owner] if owner else None
        ids[key] = hudu.add_article(name, "<p></p>", company_id, folder, **extra)["id"]

    slugs = {key: hudu.articles[i].slug for key, i in ids.items()}
    for key, photo, file_name in [
        ("vpn", "vpn-1", "portal-login.png"),
        ("vpn", "vpn-2", "connected.png"),
        ("printers", "printer-1", "gpo-editor.png"),
    ]:
        slugs[photo] = hudu.add_public_photo(ids[key], file_name)["id"]
    for key, _name, _company, _folder, content, _extra in specs:
        article = hudu.articles[ids[key]]
        article.content = _resolve(content, slugs)

    pdf_lines = ["1. Raise a change ticket.", "2. Peer review.", "3. Apply in the window."]
    hudu.add_upload(
        ids["pdf"],
        "Firewall change policy.pdf",
        data=make_pdf("Firewall change policy", pdf_lines),
        mime="application/pdf",
    )
    hudu.add_upload(
        ids["imaging-bridge-sidexis-troubleshooting"],
        "sidexis-driver-pack.zip",
        size=OVERSIZED_FILE_SIZE,
        mime="application/zip",
    )
    hudu.add_upload(ids["shared"], "support-tool-quickstart.docx", size=48_213)
    hudu.add_upload(ids["backup"], "restore-checklist.xlsx", size=12_288)
    return _summarize(
        hudu,
        list(companies.values()),
        list(ids.values()),
        hostile=ids["hostile"],
        shared=ids["shared"],
    )


# ---------------------------------------------------------------- the demo dataset

COMPANY_NAMES = [
    "Northwind Dental",
    "Contoso Legal",
    "Fabrikam Logistics",
    "Tailspin Aviation Services",
    "Adventure Works Outdoor",
    "Litware Accounting",
    "Proseware Engineering",
    "Wingtip Toys",
    "Woodgrove Credit Union",
    "Alpine Ski House",
    "Blue Yonder Travel",
    "Coho Winery",
    "Fourth Coffee Roasters",
    "Lucerne Publishing",
    "Margie's Travel",
    "Trey Research Labs",
    "VanArsdel Furniture",
    "Wide World Importers",
    "Relecloud Media",
    "Humongous Insurance",
    "Graphic Design Institute",
    "Consolidated Messenger",
    "City Power & Light",
    "Bellows College",
    "Southridge Veterinary",
    "Lamna Healthcare",
    "Munson's Pickles",
    "Best For You Organics",
    "Boulder Creek Family Practice",
    "Harbor View Realty",
    "Riverside Physiotherapy",
    "Oakridge Primary School",
    "Summit Architects",
    "Greenfield Farms Co-op",
    "Redwood Orthodontics",
    "Maple Street Bakery",
]
_INDUSTRY_SUFFIX = ["Dental", "Legal", "Logistics", "Clinic", "Partners", "Group", "Holdings"]

_VPNS = ["GlobalProtect", "FortiClient", "WireGuard", "Cisco AnyConnect", "OpenVPN", "Meraki"]
_PRINTERS = ["Canon imageRUNNER", "HP LaserJet", "Ricoh MP", "Kyocera TASKalfa", "Brother MFC"]
_APPS = [
    "Dentrix",
    "Xero",
    "Sage 50",
    "QuickBooks",
    "iManage",
    "Clio",
    "AutoCAD",
    "Revit",
    "SAP Business One",
    "Salesforce",
    "Adobe Acrobat",
    "Zoom Rooms",
    "Teams Rooms",
    "SharePoint",
    "OneDrive",
    "Power BI",
]
_BACKUPS = ["Veeam", "Datto", "Acronis", "Azure Backup", "Synology Hyper Backup"]
_SITES = ["head office", "warehouse", "branch office", "reception", "clinic", "remote staff"]
_ROLES = ["front desk", "accounts", "engineer", "manager", "contractor", "nurse", "paralegal"]
_DEVICES = ["FortiGate", "Meraki MX", "UniFi gateway", "SonicWall", "pfSense", "Draytek"]

_TITLES: list[tuple[str, Callable[[random.Random], dict[str, str]]]] = [
    ("VPN setup ({vpn})", lambda r: {"vpn": r.choice(_VPNS)}),
    ("{printer} printer mapping for {site}", lambda r: {"printer": r.choice(_PRINTERS)}),
    ("Onboarding checklist: {role}", lambda r: {}),
    ("Offboarding checklist: {role}", lambda r: {}),
    ("Backup restore runbook ({backup})", lambda r: {"backup": r.choice(_BACKUPS)}),
    ("{app} install and licensing", lambda r: {"app": r.choice(_APPS)}),
    ("{app} troubleshooting", lambda r: {"app": r.choice(_APPS)}),
    ("Wi-Fi profile for {site}", lambda r: {}),
    ("{device} firmware upgrade procedure", lambda r: {"device": r.choice(_DEVICES)}),
    ("Firewall rule change request ({device})", lambda r: {"device": r.choice(_DEVICES)}),
    ("MFA reset for {role} users", lambda r: {}),
    ("Shared mailbox access for {role}", lambda r: {}),
    ("Email signature standard", lambda r: {}),
    ("New laptop build (Autopilot)", lambda r: {}),
    ("Server room access and alarm codes procedure", lambda r: {}),
    ("Disaster recovery test notes", lambda r: {}),
    ("Password rotation schedule", lambda r: {}),
    ("Scanner-to-email setup at {site}", lambda r: {}),
    ("Phone system: call forwarding for {site}", lambda r: {}),
    ("Domain and DNS records", lambda r: {}),
    ("Microsoft 365 licence assignment", lambda r: {}),
    ("Antivirus exclusions for {app}", lambda r: {"app": r.choice(_APPS)}),
    ("UPS battery replacement", lambda r: {}),
    ("Monthly patching checklist", lambda r: {}),
    ("Vendor support contacts", lambda r: {}),
]
_PDF_TITLES = [
    "Network diagram",
    "Disaster recovery plan",
    "Vendor contract summary",
    "Acceptable use policy",
    "Incident response plan",
    "Site survey report",
    "Cabling schedule",
    "Business continuity plan",
]
_STEPS = [
    "Sign in to the admin portal with your admin account.",
    "Open Settings and choose the relevant profile.",
    "Confirm the user is in the correct security group.",
    "Restart the service and wait two minutes.",
    "Check the event log for errors (Event Viewer → Application).",
    "Update the ticket with what you changed.",
    "Test from a second device before closing the ticket.",
    "If it still fails, escalate to the on-call engineer.",
    "Document any deviation in this article.",
    "Run the script below as administrator.",
    "Verify the backup job completed in the last 24 hours.",
    "Email the customer contact with the outcome.",
]
_CODE = [
    "Get-Service -Name Spooler | Restart-Service -Force",
    "Add-Printer -ConnectionName '\\\\print01\\{printer}'",
    "ipconfig /flushdns\nipconfig /registerdns",
    "Get-MgUser -UserId $upn | Select-Object DisplayName, AccountEnabled",
    "gpupdate /force",
    "Test-NetConnection -ComputerName vpn.example.com -Port 443",
]


def _body(rng: random.Random, title: str, photo_keys: Sequence[str]) -> str:
    """Editor-like HTML whose size varies from a paragraph to tens of kilobytes."""
    parts = [f"<h2>Overview</h2><p>This article covers: {title}.</p>"]
    sections = rng.choices([1, 2, 3, 5, 12, 40], weights=[20, 35, 25, 14, 4, 2])[0]
    photos = list(photo_keys)
    for section in range(sections):
        parts.append(f"<h3>Step group {section + 1}</h3>")
        steps = rng.sample(_STEPS, k=rng.randint(2, min(8, len(_STEPS))))
        tag = "ol" if rng.random() < 0.7 else "ul"
        parts.append(f"<{tag}>" + "".join(f"<li>{s}</li>" for s in steps) + f"</{tag}>")
        roll = rng.random()
        if roll < 0.2:
            code = rng.choice(_CODE).replace("{printer}", rng.choice(_PRINTERS))
            parts.append(f"<pre><code>{code}</code></pre>")
        elif roll < 0.35:
            rows = "".join(
                f"<tr><td>{rng.choice(_SITES).title()}</td><td>10.{rng.randint(0, 40)}."
                f"{rng.randint(0, 255)}.0/24</td><td>VLAN {rng.randint(10, 90)}</td></tr>"
                for _ in range(rng.randint(2, 8))
            )
            parts.append(
                "<table><thead><tr><th>Site</th><th>Subnet</th><th>VLAN</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>"
            )
        if photos:
            key = photos.pop()
            parts.append(_img(key, "Screenshot"))
        if rng.random() < 0.3:
            parts.append("<p><strong>Note:</strong> " + " ".join(rng.sample(_STEPS, 3)) + "</p>")
    parts.extend(_img(key, "Screenshot") for key in photos)
    return "".join(parts)


def _company_names(rng: random.Random, count: int) -> list[str]:
    names = COMPANY_NAMES[:count]
    bases = [n.split()[0] for n in COMPANY_NAMES]
    while len(names) < count:
        name = f"{rng.choice(bases)} {rng.choice(_INDUSTRY_SUFFIX)}"
        if name not in names:
            names.append(name)
    return names


_SUBFOLDERS = {
    "Networking": ("Firewalls", "Wi-Fi"),
    "Security": ("Endpoint protection",),
    "Microsoft 365": ("Exchange Online", "Teams"),
    "Procedures": ("Backups",),
    "Network": ("Switches",),
    "Line of business apps": ("Accounting",),
    "Vendors": ("Contracts",),
}


def _add_subfolders(hudu: HuduState, folders: dict[int | None, list[int]]) -> dict[int, list[int]]:
    """Folders inside some of the demo's folders ("Networking / Firewalls"): by parent id."""
    children: dict[int, list[int]] = {}
    for parents in folders.values():
        for parent_id in parents:
            parent = hudu.folders[parent_id]
            children[parent_id] = [
                hudu.add_folder(name, parent.company_id, parent_folder_id=parent_id)["id"]
                for name in _SUBFOLDERS.get(parent.name, ())
            ]
    return {parent: ids for parent, ids in children.items() if ids}


def seed_demo(
    hudu: HuduState, *, companies: int = 30, articles: int = 2000, rng_seed: int = 7
) -> SeedSummary:
    """A believable MSP: Central KB + `companies` clients, `articles` articles, deterministic."""
    rng = random.Random(rng_seed)
    now = hudu.clock()
    company_ids = [hudu.add_company(name)["id"] for name in _company_names(rng, companies)]
    scopes: list[int | None] = [None, *company_ids]
    folders: dict[int | None, list[int]] = {
        None: [
            hudu.add_folder(name)["id"]
            for name in ("Networking", "Security", "Onboarding", "Runbooks", "Microsoft 365")
        ]
    }
    for cid in company_ids:
        chosen = rng.sample(["Procedures", "Network", "Line of business apps", "Vendors"], 2)
        folders[cid] = [hudu.add_folder(name, cid)["id"] for name in chosen]
    subfolders = _add_subfolders(hudu, folders)
    nesting = random.Random(rng_seed + 1)  # its own stream: the rest of the demo stays the same
    company_weights = [rng.uniform(0.3, 3.0) for _ in company_ids]
    central_weight = sum(company_weights) * 0.15 / 0.85 if company_weights else 1.0
    weights = [central_weight, *company_weights]

    positions = list(range(articles))
    special = rng.sample(positions, k=min(articles, 200))
    n_pdf = min(15, max(1, articles // 100))
    n_drafts = round(articles * 0.03)
    n_archived = max(1, round(articles * 0.01))
    pdf_at = set(special[:n_pdf])
    draft_at = set(special[n_pdf : n_pdf + n_drafts])
    archived_at = set(special[n_pdf + n_drafts : n_pdf + n_drafts + n_archived])
    null_draft_at = set(special[n_pdf + n_drafts + n_archived :][: max(1, articles // 40)])
    published_positions = [p for p in positions if p not in pdf_at | draft_at | archived_at]
    oversized_at = rng.choice(published_positions) if published_positions else None

    ids: list[int] = []
    names_in_scope: dict[int | None, set[str]] = {}
    pending: list[tuple[int, str]] = []
    for position in range(articles):
        scope = rng.choices(scopes, weights=weights)[0]
        taken = names_in_scope.setdefault(scope, set())
        if position in pdf_at:
            name = f"{rng.choice(_PDF_TITLES)}.pdf"
        else:
            template, extra = rng.choice(_TITLES)
            fields = {"site": rng.choice(_SITES), "role": rng.choice(_ROLES), **extra(rng)}
            name = template.format(**fields)
            name = name[0].upper() + name[1:]
        base, n = name, 2
        while name in taken:
            stem, dot, ext = base.rpartition(".pdf") if base.endswith(".pdf") else (base, "", "")
            name = f"{stem} ({n}){dot}{ext}"
            n += 1
        taken.add(name)
        created = now - timedelta(days=rng.uniform(30, 900))
        updated = created + (now - created) * rng.random() ** 2
        folder = rng.choice(folders[scope]) if rng.random() < 0.7 else None
        if folder in subfolders and nesting.random() < 0.4:
            folder = nesting.choice(subfolders[folder])
        draft: bool | None = position in draft_at
        if position in null_draft_at:
            draft = None
        article = hudu.add_article(
            name,
            "<p></p>",
            scope,
            folder,
            draft=draft,
            archived=position in archived_at,
            enable_sharing=rng.random() < 0.02,
            created_at=created,
            updated_at=updated,
        )
        ids.append(article["id"])
        if position in pdf_at:
            title = name.removesuffix(".pdf")
            hudu.articles[article["id"]].content = f"<p>Uploaded PDF: {name}</p>"
            lines = [f"Section {i + 1}: {rng.choice(_STEPS)}" for i in range(rng.randint(5, 30))]
            hudu.add_upload(
                article["id"], name, data=make_pdf(title, lines), mime="application/pdf"
            )
            continue
        photo_keys = []
        if rng.random() < 0.25:
            for index in range(rng.randint(1, 3)):
                slug = hudu.add_public_photo(article["id"], f"screenshot-{index + 1}.png")["id"]
                photo_keys.append(slug)
        pending.append((article["id"], name))
        content = _body(rng, name, [f"p{i}" for i in range(len(photo_keys))])
        slugs = {f"p{i}": slug for i, slug in enumerate(photo_keys)}
        hudu.articles[article["id"]].content = _resolve(content, slugs)
        if position == oversized_at:
            hudu.add_upload(article["id"], "site-survey-recordings.zip", size=OVERSIZED_FILE_SIZE)
        elif rng.random() < 0.03:
            ext = rng.choice(["docx", "xlsx", "txt", "zip"])
            hudu.add_upload(article["id"], f"attachment.{ext}", size=rng.randint(2_000, 400_000))

    for article_id, _name in rng.sample(pending, k=min(20, len(pending) // 2)):
        target = hudu.articles[rng.choice(ids)]
        if target.id == article_id:
            continue
        link = f'<p>Related: <a href="/kba/{target.slug}">{target.name}</a></p>'
        hudu.articles[article_id].content += link

    hostile = None
    if pending:
        hostile = rng.choice(pending)[0]
        hudu.articles[hostile].content = HOSTILE_HTML + hudu.articles[hostile].content
    if pending:  # a "photo" that is no image: HHSYNC_IMAGES=copy keeps it in Hudu, and says so
        odd = pending[len(pending) // 2][0]
        slug = hudu.add_public_photo(odd, "network-diagram.png", data=NOT_AN_IMAGE)["id"]
        hudu.articles[odd].content += f'<p><img src="/public_photo/{slug}" alt="Diagram"></p>'
    shared = next((i for i in ids if hudu.articles[i].enable_sharing), None)
    return _summarize(hudu, company_ids, ids, hostile=hostile, shared=shared)


# ---------------------------------------------------------------- a user's file


class _Bad(ValueError):
    pass


def _expect(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Bad(f"{where} must be {what}")
    return value


def _keys(obj: dict[str, Any], where: str, allowed: set[str], required: set[str]) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise _Bad(f"{where}: unknown key(s) {', '.join(unknown)}")
    missing = sorted(required - set(obj))
    if missing:
        raise _Bad(f"{where}: missing key(s) {', '.join(missing)}")


def seed_from_file(hudu: HuduState, path: Path) -> SeedSummary:
    """Load a JSON dataset (for `hhsync emulate --seed FILE`).

    Format (only `name` is required on companies and articles; no `company` = Central KB)::

        {
          "companies": [{"name": "Northwind Dental", "archived": false}],
          "articles": [
            {
              "name": "VPN setup",
              "content": "<h2>Steps</h2><p>…</p>",
              "company": "Northwind Dental",
              "folder": "Networking",
              "draft": false,
              "archived": false,
              "enable_sharing": false,
              "photos": ["diagram.png"],
              "uploads": [
                {"name": "guide.pdf", "text": "Shown in a one-page PDF"},
                {"name": "notes.txt", "text": "stored as UTF-8"},
                {"name": "logo.png", "base64": "iVBORw0KGgo…", "mime": "image/png"},
                {"name": "recordings.zip", "size": 31457280}
              ]
            }
          ]
        }

    `draft` may be true, false or null (null means published). A folder is created in the
    article's knowledge base the first time it is named. Each photo is added to the article and
    appended to its content as `<img src="/public_photo/<slug>">`. An upload gives exactly one of
    `text` (a `.pdf` name gets a real PDF showing the text), `base64`, or `size` (bytes made up
    when downloaded). Raises ValueError naming the file and the bad entry; OSError if unreadable.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"seed file {path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except UnicodeDecodeError:
        raise ValueError(f"seed file {path}: not UTF-8 text") from None
    try:
        return _load(hudu, data)
    except _Bad as exc:
        raise ValueError(f"seed file {path}: {exc}") from None


def _load(hudu: HuduState, data: Any) -> SeedSummary:
    _expect(data, dict, "the top level", "an object with 'companies' and 'articles'")
    _keys(data, "the top level", {"companies", "articles"}, {"articles"})
    companies = _expect(data.get("companies", []), list, "companies", "a list")
    articles = _expect(data["articles"], list, "articles", "a list")

    company_ids: dict[str, int] = {}
    for index, entry in enumerate(companies):
        where = f"companies[{index}]"
        _expect(entry, dict, where, "an object")
        _keys(entry, where, {"name", "archived"}, {"name"})
        name = _expect(entry["name"], str, f"{where}.name", "a non-empty string").strip()
        if not name:
            raise _Bad(f"{where}.name must be a non-empty string")
        if name in company_ids:
            raise _Bad(f"{where}: company {name!r} is listed twice")
        archived = _expect(entry.get("archived", False), bool, f"{where}.archived", "a boolean")
        company_ids[name] = hudu.add_company(name, archived=archived)["id"]

    folder_ids: dict[tuple[int | None, str], int] = {}
    article_ids: list[int] = []
    allowed = {
        "name",
        "content",
        "company",
        "folder",
        "draft",
        "archived",
        "enable_sharing",
        "photos",
        "uploads",
    }
    for index, entry in enumerate(articles):
        where = f"articles[{index}]"
        _expect(entry, dict, where, "an object")
        _keys(entry, where, allowed, {"name"})
        name = _expect(entry["name"], str, f"{where}.name", "a non-empty string")
        if not name.strip():
            raise _Bad(f"{where}.name must be a non-empty string")
        content = _expect(entry.get("content", "<p></p>"), str, f"{where}.content", "a string")
        company = entry.get("company")
        company_id = None
        if company is not None:
            _expect(company, str, f"{where}.company", "a company name or null")
            if company not in company_ids:
                raise _Bad(f"{where}.company {company!r} is not in 'companies'")
            company_id = company_ids[company]
        folder_id = None
        if entry.get("folder") is not None:
            folder = _expect(entry["folder"], str, f"{where}.folder", "a folder name or null")
            if (company_id, folder) not in folder_ids:
                folder_ids[company_id, folder] = hudu.add_folder(folder, company_id)["id"]
            folder_id = folder_ids[company_id, folder]
        draft = entry.get("draft", False)
        if draft is not None:
            _expect(draft, bool, f"{where}.draft", "true, false or null")
        archived = _expect(entry.get("archived", False), bool, f"{where}.archived", "a boolean")
        sharing = _expect(
            entry.get("enable_sharing", False), bool, f"{where}.enable_sharing", "a boolean"
        )
        photos = _expect(entry.get("photos", []), list, f"{where}.photos", "a list of file names")
        uploads = _expect(entry.get("uploads", []), list, f"{where}.uploads", "a list")
        article_id = hudu.add_article(
            name, content, company_id, folder_id, draft, archived, sharing
        )["id"]
        article_ids.append(article_id)
        for p_index, file_name in enumerate(photos):
            _expect(file_name, str, f"{where}.photos[{p_index}]", "a file name")
            slug = hudu.add_public_photo(article_id, file_name)["id"]
            hudu.articles[
                article_id
            ].content += f'<p><img src="/public_photo/{slug}" alt="{file_name}"></p>'
        for u_index, upload in enumerate(uploads):
            _add_file_upload(hudu, article_id, upload, f"{where}.uploads[{u_index}]")
    return _summarize(hudu, list(company_ids.values()), article_ids)


def _add_file_upload(hudu: HuduState, article_id: int, upload: Any, where: str) -> None:
    _expect(upload, dict, where, "an object")
    _keys(upload, where, {"name", "mime", "text", "base64", "size"}, {"name"})
    name = _expect(upload["name"], str, f"{where}.name", "a file name")
    mime = upload.get("mime")
    if mime is not None:
        _expect(mime, str, f"{where}.mime", "a MIME type")
    sources = [key for key in ("text", "base64", "size") if key in upload]
    if len(sources) != 1:
        raise _Bad(f"{where} must give exactly one of text, base64 or size")
    if "size" in upload:
        size = _expect(upload["size"], int, f"{where}.size", "a whole number of bytes")
        if size < 0:
            raise _Bad(f"{where}.size must not be negative")
        hudu.add_upload(article_id, name, size=size, mime=mime)
        return
    if "text" in upload:
        text = _expect(upload["text"], str, f"{where}.text", "a string")
        if name.lower().endswith(".pdf"):
            body = make_pdf(name.removesuffix(".pdf"), text.splitlines())
        else:
            body = text.encode()
    else:
        encoded = _expect(upload["base64"], str, f"{where}.base64", "a base64 string")
        try:
            body = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise _Bad(f"{where}.base64 is not valid base64") from None
    hudu.add_upload(article_id, name, data=body, mime=mime)
