import Crypto
import Foundation
import Hummingbird

/// The console's style sheet and script, served by Trail itself (`/ui/assets/…`): no CDN, and a policy
/// (`script-src 'self'`) that runs no other script. The script only enhances: every page works without it but
/// the live tail, which is a stream of events by nature.
enum ConsoleAssets {
    static let css = ByteBuffer(string: stylesheet)
    static let icon = ByteBuffer(string: iconSVG)
    static let iconTag = tag(iconSVG)
    /// The tab's icon: a trail of three dots.
    static let iconSVG = ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1d2330"/><circle cx="4" cy="11" r="1.6" fill="#fff"/><circle cx="8" cy="8" r="1.6" fill="#fff"/><circle cx="12" cy="5" r="1.6" fill="#fff"/></svg>"##
    static let js = ByteBuffer(string: script)
    /// Each file's version, for `ETag`s.
    static let cssTag = tag(stylesheet)
    static let jsTag = tag(script)

    /// A strong `ETag`: the first 8 bytes of the file's SHA-256, in hex.
    static func tag(_ file: String) -> String {
        "\"" + SHA256.hash(data: Array(file.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined() + "\""
    }

    static let stylesheet = """
        :root { --ink: #1d2330; --muted: #5b6475; --line: #d5d9e0; --paper: #ffffff; --wash: #f4f6f9; --link: #1f5fae;
          --create: #1d6b35; --update: #1f5fae; --delete: #a32121; --access: #5e4a9c; --failure: #9a4a00; --other: #4a5160; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--wash); }
        a { color: var(--link); }
        a:focus, button:focus, input:focus, select:focus { outline: 3px solid #f2b705; outline-offset: 1px; }
        .skip { position: absolute; left: -999px; top: 0; background: var(--paper); padding: .5rem; }
        .skip:focus { left: .5rem; }
        header.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.25rem; padding: .6rem 1rem; background: #1d2330; color: #fff; }
        header.top a { color: #fff; text-decoration: none; }
        header.top a[aria-current="page"] { text-decoration: underline; text-underline-offset: .3rem; }
        .brand { font-weight: 700; font-size: 1.15rem; letter-spacing: .02em; }
        nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
        .who { margin-left: auto; display: flex; gap: .75rem; align-items: center; font-size: .9rem; }
        .who form { margin: 0; }
        .who button { background: transparent; color: #fff; border: 1px solid #8a93a6; }
        main { max-width: 78rem; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.45rem; margin: .5rem 0 1rem; overflow-wrap: anywhere; }
        h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
        .crumbs { margin: 0; font-size: .9rem; color: var(--muted); overflow-wrap: anywhere; }
        button { font: inherit; padding: .35rem .9rem; border-radius: 4px; border: 1px solid #1f5fae; background: #1f5fae; color: #fff; cursor: pointer; }
        input, select { font: inherit; padding: .3rem .4rem; border: 1px solid #8a93a6; border-radius: 4px; background: var(--paper); color: var(--ink); max-width: 100%; }
        label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); gap: .15rem; }
        .filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .6rem; align-items: end;
          background: var(--paper); border: 1px solid var(--line); border-radius: 6px; padding: .75rem; margin-bottom: 1rem; }
        .filters .actions { display: flex; gap: .75rem; align-items: center; }
        form.inline { display: inline-flex; gap: .5rem; align-items: end; margin: 0 1rem .5rem 0; flex-wrap: wrap; }
        .scroll { overflow-x: auto; background: var(--paper); border: 1px solid var(--line); border-radius: 6px; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; vertical-align: top; padding: .4rem .6rem; border-bottom: 1px solid var(--line); }
        thead th { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
        td.when { white-space: nowrap; font-variant-numeric: tabular-nums; }
        .summary { overflow-wrap: anywhere; }
        .badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; color: #fff; background: var(--other); white-space: nowrap; }
        .badge.create { background: var(--create); } .badge.update { background: var(--update); } .badge.delete { background: var(--delete); }
        .badge.access { background: var(--access); } .badge.failure { background: var(--failure); }
        table.changes td.old code { background: #fde8e8; } table.changes td.new code { background: #e3f4e6; }
        code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .85rem; overflow-wrap: anywhere; }
        pre { background: var(--paper); border: 1px solid var(--line); border-radius: 6px; padding: .75rem; overflow-x: auto; white-space: pre-wrap; }
        .absent { color: var(--muted); font-style: italic; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; background: var(--paper); border: 1px solid var(--line); border-radius: 6px; padding: .75rem; }
        dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
        .alert { background: #fff4e0; border: 1px solid #e0b060; border-radius: 6px; padding: .6rem .8rem; }
        .empty { color: var(--muted); }
        button.danger { background: #fff; color: var(--delete); border-color: var(--delete); }
        code.secret { font-size: 1rem; user-select: all; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        .pages { margin: 1rem 0; }
        .timeline { padding-left: 1.25rem; } .timeline li { margin: .3rem 0; overflow-wrap: anywhere; }
        .facets { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 1rem; }
        .facets section { background: var(--paper); border: 1px solid var(--line); border-radius: 6px; padding: .25rem .75rem .75rem; }
        table.counts td { text-align: right; font-variant-numeric: tabular-nums; } table.counts td.bar { width: 130px; }
        svg.chart { width: 100%; height: auto; background: var(--paper); border: 1px solid var(--line); border-radius: 6px; }
        .sign-in { max-width: 28rem; margin: 2rem auto; background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 1.25rem; }
        .sign-in form { display: flex; flex-direction: column; gap: .5rem; }
        .result.anchored { color: var(--create); font-weight: 600; } .result.failed { color: var(--delete); font-weight: 600; }
        progress { width: 100%; max-width: 24rem; display: block; margin: .75rem 0; }
        @media (max-width: 40rem) {
          main { padding: .6rem; } .who { margin-left: 0; } th, td { padding: .35rem .4rem; }
          .filters { grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); }
          /* Lists become cards: time, badge, actor and resource on a line, the summary under them. */
          table.events thead { display: none; }
          table.events tr { display: flex; flex-wrap: wrap; align-items: baseline; gap: .15rem .6rem; padding: .5rem .6rem; border-bottom: 1px solid var(--line); }
          table.events td { display: block; padding: 0; border: 0; }
          table.events td:last-child { flex-basis: 100%; }
        }
        """

    static let script = """
        "use strict";
        // Trail's console: the live tail and the verify button's progress. Values are written with textContent,
        // never as HTML.
        (function () {
          function cell(row, text, href, badge) {
            var td = document.createElement("td");
            var node = td;
            if (href) { var a = document.createElement("a"); a.href = href; td.appendChild(a); node = a; }
            if (badge) { var span = document.createElement("span"); span.className = "badge " + badge; node.appendChild(span); node = span; }
            node.textContent = text || "";
            row.appendChild(td);
            return td;
          }
          function kind(event) {
            if (event.outcome === "failure" || event.outcome === "partial") return "failure";
            if (event.category === "AUDIT_ACCESS") return "access";
            return { created: "create", updated: "update", deleted: "delete" }[event.action] || "other";
          }
          function follow(table) {
            var status = document.getElementById("tail-status");
            var body = table.tBodies[0];
            var source = new EventSource(table.getAttribute("data-source"));
            source.onopen = function () { status.textContent = "Following."; };
            source.onerror = function () { status.textContent = "Disconnected; reconnecting…"; };
            source.addEventListener("audit", function (message) {
              var event = JSON.parse(message.data);
              var row = document.createElement("tr");
              cell(row, (event.recorded_at || "").replace("T", " ").slice(0, 19)).className = "when";
              cell(row, event.action, null, kind(event));
              var actor = event.actor && typeof event.actor.id === "string" ? event.actor.id : "";
              cell(row, actor, actor ? "/ui/actors/" + encodeURIComponent(actor) : null);
              var r = event.resource;
              var resource = r && r.type && r.id != null ? r.type + " " + r.id : "";
              cell(row, resource, resource ? "/ui/resources/" + encodeURIComponent(r.type) + "/" + encodeURIComponent(String(r.id)) : null);
              cell(row, event.summary || event.action, "/ui/events/" + encodeURIComponent(event.id));
              body.insertBefore(row, body.firstChild);
              while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
            });
            source.addEventListener("close", function (message) {
              var reason = JSON.parse(message.data);
              status.textContent = "Stream ended: " + reason.detail;
            });
          }
          function verify(form) {
            form.addEventListener("submit", function (submit) {
              submit.preventDefault();
              var progress = document.getElementById("verify-progress");
              var result = document.getElementById("verify-result");
              var button = form.querySelector("button");
              button.disabled = true;
              progress.hidden = false;
              progress.value = 0;
              result.textContent = "Verifying…";
              fetch(form.action, { method: "POST", credentials: "same-origin",
                headers: { "Accept": "application/x-ndjson", "Content-Type": "application/x-www-form-urlencoded" },
                body: new URLSearchParams(new FormData(form)) })
                .then(function (response) {
                  if (!response.ok || !response.body) throw new Error("The server answered " + response.status + ".");
                  var reader = response.body.getReader();
                  var decoder = new TextDecoder();
                  var pending = "";
                  function pump() {
                    return reader.read().then(function (chunk) {
                      if (chunk.done) return;
                      pending += decoder.decode(chunk.value, { stream: true });
                      var lines = pending.split("\\n");
                      pending = lines.pop();
                      lines.filter(Boolean).forEach(function (line) {
                        var update = JSON.parse(line);
                        if (update.total) progress.max = update.total;
                        if (typeof update.checked === "number") progress.value = update.checked;
                        if (update.summary) {
                          result.textContent = update.summary;
                          result.className = "result " + update.status;
                          progress.value = progress.max;
                        }
                      });
                      return pump();
                    });
                  }
                  return pump();
                })
                .catch(function (error) { result.textContent = "Verification could not run: " + error.message; })
                .then(function () { button.disabled = false; });
            });
          }
          document.addEventListener("DOMContentLoaded", function () {
            var table = document.getElementById("tail");
            if (table) follow(table);
            var form = document.getElementById("verify");
            if (form && window.fetch && window.ReadableStream) verify(form);
          });
        })();
        """
}
