"""piccolo-admin's page, finished: a stylesheet and a script of ours added to its HTML.

piccolo-admin's single-page app has no setting for these, and its bundle is compiled, so
`with_ui_fixes` wraps a site: the HTML of its root page gets a `<link>` and a `<script>`
(served by the wrapper itself, as files: no inline code, so a strict CSP still holds),
which
- show an empty value as an empty cell, not a literal `NULL`;
- show a time in a list as a readable local time (`3 Dec 2026, 07:42`), its exact value
  in the cell's tooltip (a link's too: the audit log's time opens its entry);
- hide the add, save and delete controls of the tables named read-only (the server
  refuses those changes anyway: the controls only led to an error);
- make the form fields the server sets (`server_fields`, e.g. created_at) inert and
  dimmed: shown, but not editable (the server ignored what was typed there);
- say "not found" on the page when a row opened by its URL is not one the login can
  see (another tenant's, or none): piccolo-admin only shows a "Page not found" alert and
  goes to its home page, which looks like the link just led home. The script asks the
  row's API endpoint itself, as the app did; a 404 says the same for a row of another
  tenant and for no row at all, and so does the notice;
- show a notice of the site's own at the top of every page (`notice(scope)`, HTML, e.g.
  the admin's "viewing as tenant" banner); a notice marked `data-read-only` hides those
  controls on every table.
tests/browser/test_admin_forms_browser.py checks each in the browser, and fails when a
piccolo-admin upgrade changes the markup these rules rely on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ASSET = "refresh-ui"
CSS = """
/* an empty value: piccolo-admin writes <code>NULL</code> in the cell */
.table_wrapper td > span > code:only-child { display: none; }
/* read-only tables: no controls that can only fail */
body[data-read-only] a.button[href$="/add/"],
body[data-read-only] [data-uitest=save_button],
body[data-read-only] [data-uitest=delete_button],
body:has(.refresh-notice[data-read-only]) a.button[href$="/add/"],
body:has(.refresh-notice[data-read-only]) [data-uitest=save_button],
body:has(.refresh-notice[data-read-only]) [data-uitest=delete_button] { display: none !important; }
.refresh-notice { position: fixed; bottom: 0; left: 0; right: 0; z-index: 1000;
  padding: 8px 16px; background: #fff4d6; color: #1d2733; border-top: 2px solid #e0a020;
  font: 14px system-ui, sans-serif; }
.refresh-notice form { display: inline; margin-left: 12px; }
.refresh-notice button { display: inline-block; width: auto; margin: 0; padding: 4px 12px;
  background: #2d3e50; color: #fff; border: 0; border-radius: 3px; font-size: 13px;
  text-transform: none; cursor: pointer; }
body:has(.refresh-notice) { padding-bottom: 48px; }
/* a row opened by URL that is not there for this login: first in the page, above the
   app (it moves the page down rather than covering its header or a banner) */
.refresh-notice.refresh-missing { position: static; border-top: 0;
  border-bottom: 2px solid #e0a020; }
/* a field the server sets: shown, not editable (the script makes it inert) */
.refresh-server-field { opacity: 0.6; }
"""
SCRIPT = """
(() => {
  const readOnly = new Set(%s);
  const serverFields = new Set(%s);
  const isoTime = /^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d(:\\d\\d(\\.\\d+)?)?(Z|[+-]\\d\\d:\\d\\d)?$/;
  const readable = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "short"});
  function markTable() {
    const table = location.hash.split("/")[1] || "";
    if (readOnly.has(table)) document.body.dataset.readOnly = table;
    else delete document.body.dataset.readOnly;
  }
  function readableTimes(root) {
    const cells = ".table_wrapper td, .table_wrapper td span, .table_wrapper td span a";
    for (const cell of root.querySelectorAll(cells)) {
      if (cell.children.length || !isoTime.test(cell.textContent.trim())) continue;
      const exact = cell.textContent.trim();
      cell.title = exact;
      cell.textContent = readable.format(new Date(exact));
    }
  }
  function freezeServerFields(root) {
    // The named element is the form's value; its parent holds the inputs that set it.
    // Not in a filter (the same field, with an operator beside it: a time filter must
    // work), and decided afresh each time, since a reused field can change its name
    // (the bulk update's column).
    for (const field of root.querySelectorAll("form [name]")) {
      const box = field.parentElement;
      const frozen = serverFields.has(field.getAttribute("name"))
        && !box.querySelector('[name$="__operator"]');
      if (box.inert === frozen) continue;
      box.inert = frozen;
      box.classList.toggle("refresh-server-field", frozen);
      if (frozen) box.title = "set by the server"; else box.removeAttribute("title");
    }
  }
  const rowPage = /^#\\/([a-z0-9_]+)\\/([^/]+)\\/$/;
  function clearMissing() {
    // kept over the SPA's own move to its home page, gone on the next page after it
    if (location.hash === "#/" || location.hash === "") return;
    for (const old of document.querySelectorAll(".refresh-missing")) old.remove();
  }
  async function sayIfMissing() {
    const found = location.hash.match(rowPage);
    if (!found || found[2] === "add") return;
    const [, table, id] = found;
    const response = await fetch(`./api/tables/${table}/${encodeURIComponent(id)}/`,
      {credentials: "same-origin", headers: {Accept: "application/json"}});
    if (response.status !== 404) return;
    if (location.hash !== found[0] && location.hash !== "#/") return;  // moved on since
    const notice = document.createElement("div");
    notice.className = "refresh-notice refresh-missing";
    notice.setAttribute("role", "alert");
    notice.textContent = `Not found: no row ${id} in ${table} that you can see.`;
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "Dismiss";
    close.addEventListener("click", () => notice.remove());
    notice.append(" ", close);
    for (const old of document.querySelectorAll(".refresh-missing")) old.remove();
    document.body.prepend(notice);
  }
  window.addEventListener("hashchange", () => { markTable(); clearMissing(); sayIfMissing(); });
  markTable();
  sayIfMissing();
  // a field's new name is observed; the attributes set here (inert, class, title) are
  // not: no loop
  new MutationObserver(() => { readableTimes(document); freezeServerFields(document); })
    .observe(document.body, {childList: true, subtree: true, characterData: true,
      attributes: true, attributeFilter: ["name"]});
})();
"""


def with_ui_fixes(
    app: ASGIApp,
    read_only_tables: Sequence[str],
    notice: Callable[[Scope], str | None] | None = None,
    server_fields: Sequence[str] = (),
) -> ASGIApp:
    script = SCRIPT % (json.dumps(sorted(read_only_tables)), json.dumps(sorted(server_fields)))
    tags = (
        f'<link rel="stylesheet" href="./{ASSET}.css">'
        f'<script src="./{ASSET}.js" defer></script></head>'
    ).encode()
    assets = {
        f"/{ASSET}.css": Response(CSS, media_type="text/css"),
        f"/{ASSET}.js": Response(script, media_type="text/javascript"),
    }

    async def site(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        relative = path[len(root) :] if root and path.startswith(root) else path
        if relative in assets:
            await assets[relative](scope, receive, send)
            return
        if relative in ("", "/"):
            shown = notice(scope) if notice is not None else None
            opening = f"<body>{shown}".encode() if shown else None
            await app(scope, receive, with_tags(send, tags, opening))
            return
        await app(scope, receive, send)

    return site


def with_tags(send: Send, tags: bytes, opening: bytes | None = None) -> Send:
    """A send that puts `tags` in place of the HTML page's </head>, and `opening` in
    place of its <body> (a notice first in the page, outside the app's own element)."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def edit(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
            return
        if message["type"] != "http.response.body" or start is None:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        if start["status"] == 200:
            body = body.replace(b"</head>", tags, 1)
            if opening is not None:
                body = body.replace(b"<body>", opening, 1)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return edit
